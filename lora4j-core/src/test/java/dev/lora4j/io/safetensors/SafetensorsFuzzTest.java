package dev.lora4j.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of valid safetensors files and sharded-checkpoint indexes.
 *
 * <p>Each mutant must either load correctly (every tensor of a supported dtype can be handed out and
 * every element read) or fail with a {@link SafetensorsException} whose message starts with the file
 * it is about. Any other exception fails the test, reporting the seed, the case and the mutant's
 * bytes. The run is bounded for CI (a few thousand cases in about a second); run longer with
 * {@code -Dlora4j.fuzz.iterations=1000000 -Dlora4j.fuzz.seed=N}.
 */
class SafetensorsFuzzTest {
    private static final long SEED = Long.getLong("lora4j.fuzz.seed", 0x5AFE7E45L);
    private static final int ITERATIONS = Integer.getInteger("lora4j.fuzz.iterations", 3000);
    private static final List<String> DTYPES = List.of("F32", "BF16", "F16", "I64", "U8", "F4", "F8_E4M3", "C64",
            "F33", "bf16", "", "F32 ");
    private static final Pattern NUMBER = Pattern.compile("-?[0-9]+");
    private static final Pattern DTYPE = Pattern.compile("\"dtype\":\"([^\"]*)\"");

    @TempDir
    Path tmp;

    private enum Outcome { LOADED, REJECTED }

    @Test
    void mutatedFilesLoadOrFailClearly() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (String name : List.of("f32.safetensors", "bf16.safetensors", "f16.safetensors", "mixed_with_i64.safetensors",
                "sharded/model-00001-of-00002.safetensors")) {
            seeds.add(Files.readAllBytes(SafetensorsGoldenTest.GOLDEN.resolve(name)));
        }
        Random random = new Random(SEED);
        Path file = scratchDir().resolve("mutant.safetensors");
        int[] outcomes = new int[2];
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] seed = seeds.get(random.nextInt(seeds.size()));
            byte[] mutant = seed;
            int rounds = random.nextInt(10) < 6 ? 1 : 2 + random.nextInt(2);
            for (int r = 0; r < rounds; r++) {
                mutant = mutate(mutant, random);
            }
            Files.write(file, mutant);
            outcomes[loadEverything(file, i, mutant).ordinal()]++;
        }
        System.out.printf("safetensors fuzz: %d cases, %d loaded, %d rejected (seed %d)%n",
                ITERATIONS, outcomes[0], outcomes[1], SEED);
        // Both outcomes must be common, or the mutations are not exercising the reader.
        assertThat(outcomes[Outcome.LOADED.ordinal()]).as("mutants that loaded").isGreaterThan(ITERATIONS / 20);
        assertThat(outcomes[Outcome.REJECTED.ordinal()]).as("mutants that were rejected").isGreaterThan(ITERATIONS / 20);
    }

    @Test
    void mutatedIndexesLoadOrFailClearly() throws IOException {
        Path dir = scratchDir().resolve("sharded");
        Files.createDirectories(dir);
        Path golden = SafetensorsGoldenTest.GOLDEN.resolve("sharded");
        for (String name : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            Files.copy(golden.resolve(name), dir.resolve(name));
        }
        byte[] index = Files.readAllBytes(golden.resolve("model.safetensors.index.json"));
        Random random = new Random(SEED + 1);
        Path indexFile = dir.resolve("model.safetensors.index.json");
        int[] outcomes = new int[2];
        for (int i = 0; i < ITERATIONS / 8; i++) {
            byte[] mutant = random.nextBoolean() ? mutateIndexText(index, random) : mutateBytes(index, random);
            Files.write(indexFile, mutant);
            outcomes[loadEverything(indexFile, i, mutant).ordinal()]++;
        }
        assertThat(outcomes[Outcome.LOADED.ordinal()]).isPositive();
        assertThat(outcomes[Outcome.REJECTED.ordinal()]).isPositive();
    }

    private Path scratch;

    /**
     * Where mutants are written: a RAM file system when there is one, because rewriting a small file
     * thousands of times costs milliseconds each on a disk file system that discards freed blocks.
     */
    private Path scratchDir() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            scratch = Files.createTempDirectory(shm, "lora4j-fuzz");
            return scratch;
        }
        return tmp;
    }

    @AfterEach
    void removeScratch() throws IOException {
        if (scratch != null) {
            try (Stream<Path> files = Files.walk(scratch)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Opens {@code file}, hands out every tensor and reads every element. */
    private static Outcome loadEverything(Path file, int iteration, byte[] mutant) {
        Path blamed = null;
        try (WeightSource source = Checkpoints.open(file)) {
            for (String name : source.names()) {
                TensorInfo info = source.info(name);
                if (info.dtype() == null) {
                    try {
                        source.tensor(name);
                        throw new AssertionError("tensor of dtype " + info.dtypeName() + " was handed out");
                    } catch (SafetensorsException expected) {
                        blamed = expected.file();
                        assertThat(expected.getMessage()).contains(name).contains(info.dtypeName());
                    }
                    continue;
                }
                Tensor t = source.tensor(name);
                // The view covers exactly the validated byte range, and every element can be read.
                assertThat(t.segment().byteSize()).isEqualTo(info.byteSize());
                assertThat(t.toFloatArray()).hasSize((int) info.numel());
            }
            return Outcome.LOADED;
        } catch (SafetensorsException e) {
            // The message names the file it is about: the one opened, or (sharded) one of its shards.
            assertThat(e.getMessage()).as("case %d", iteration).startsWith(e.file().toString());
            assertThat(e.file().getParent()).as("case %d", iteration).isEqualTo(file.getParent());
            return Outcome.REJECTED;
        } catch (Throwable t) {
            throw new AssertionError("fuzz case " + iteration + " (seed " + SEED + ") threw " + t
                    + "\nmutant bytes: " + HexFormat.of().formatHex(mutant), t);
        } finally {
            if (blamed != null) {
                assertThat(blamed.getParent()).isEqualTo(file.getParent());
            }
        }
    }

    // ---- mutations ----------------------------------------------------------------------------

    private static byte[] mutate(byte[] in, Random random) {
        return switch (random.nextInt(5)) {
            case 0, 1 -> mutateHeaderFields(in, random);
            case 2 -> mutateLengthPrefix(in, random);
            case 3 -> flipDataBits(in, random);
            default -> mutateBytes(in, random);
        };
    }

    /** Corrupts tensor values only: the format has no checksum, so such a file must still load. */
    private static byte[] flipDataBits(byte[] in, Random random) {
        int n = headerLength(in);
        if (n < 0 || 8 + n >= in.length) {
            return mutateBytes(in, random);
        }
        byte[] out = in.clone();
        for (int k = random.nextInt(8); k >= 0; k--) {
            int at = 8 + n + random.nextInt(in.length - 8 - n);
            out[at] ^= (byte) (1 << random.nextInt(8));
        }
        return out;
    }

    /** Bit flips, byte insertion and deletion, truncation: anywhere, but mostly in the header. */
    private static byte[] mutateBytes(byte[] in, Random random) {
        int limit = random.nextInt(4) == 0 || in.length <= 8 ? in.length : Math.min(in.length, 8 + headerLength(in));
        int at = limit == 0 ? 0 : random.nextInt(limit);
        return switch (random.nextInt(4)) {
            case 0 -> {
                byte[] out = in.clone();
                if (out.length > 0) {
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
                yield out;
            }
            case 1 -> {
                byte[] out = new byte[in.length + 1];
                System.arraycopy(in, 0, out, 0, at);
                out[at] = (byte) random.nextInt(256);
                System.arraycopy(in, at, out, at + 1, in.length - at);
                yield out;
            }
            case 2 -> {
                if (in.length == 0) {
                    yield in;
                }
                byte[] out = new byte[in.length - 1];
                System.arraycopy(in, 0, out, 0, at);
                System.arraycopy(in, at + 1, out, at, in.length - at - 1);
                yield out;
            }
            default -> Arrays.copyOf(in, random.nextInt(in.length + 1));
        };
    }

    /** Replaces the 8-byte length prefix: off by a little, or anything at all. */
    private static byte[] mutateLengthPrefix(byte[] in, Random random) {
        if (in.length < 8) {
            return in;
        }
        byte[] out = in.clone();
        long current = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long next = switch (random.nextInt(3)) {
            case 0 -> current + random.nextInt(17) - 8;
            case 1 -> random.nextInt(out.length + 16);
            default -> random.nextLong();
        };
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, next);
        return out;
    }

    /**
     * Edits the header as text: a dtype name, or a number (a shape entry or a data offset), is
     * replaced, or a field is removed; the length prefix is then usually fixed up so that the edit
     * reaches the JSON validation rather than stopping at the prefix.
     */
    private static byte[] mutateHeaderFields(byte[] in, Random random) {
        int n = headerLength(in);
        if (n < 0) {
            return mutateBytes(in, random);
        }
        String header = new String(in, 8, n, StandardCharsets.UTF_8);
        String edited = switch (random.nextInt(3)) {
            case 0 -> replaceRandomMatch(header, DTYPE, random,
                    m -> "\"dtype\":\"" + DTYPES.get(random.nextInt(DTYPES.size())) + "\"");
            case 1 -> replaceRandomMatch(header, NUMBER, random, m -> switch (random.nextInt(5)) {
                case 0 -> new java.math.BigInteger(m.group()).add(java.math.BigInteger.valueOf(random.nextInt(9) - 4)).toString();
                case 1 -> String.valueOf(random.nextInt(64));
                case 2 -> "-" + m.group();
                case 3 -> String.valueOf(random.nextLong() >>> random.nextInt(64));
                default -> m.group() + ".5";
            });
            default -> header.replaceFirst(
                    List.of("\"shape\":\\[[^]]*\\],?", "\"data_offsets\":\\[[^]]*\\],?", "\"dtype\":\"[^\"]*\",?",
                            "\\{\"dtype\"").get(random.nextInt(4)), random.nextBoolean() ? "" : "[");
        };
        byte[] headerBytes = edited.getBytes(StandardCharsets.UTF_8);
        int padded = random.nextInt(4) == 0 ? headerBytes.length : (headerBytes.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded + in.length - 8 - n];
        boolean fixPrefix = random.nextInt(5) != 0;
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, fixPrefix ? padded : n);
        System.arraycopy(headerBytes, 0, out, 8, headerBytes.length);
        Arrays.fill(out, 8 + headerBytes.length, 8 + padded, (byte) ' ');
        System.arraycopy(in, 8 + n, out, 8 + padded, in.length - 8 - n);
        return out;
    }

    /** Edits the index JSON: a shard file name, a tensor name, or structure. */
    private static byte[] mutateIndexText(byte[] in, Random random) {
        String text = new String(in, StandardCharsets.UTF_8);
        String edited = switch (random.nextInt(5)) {
            case 0 -> text.replaceFirst("model-0000" + (1 + random.nextInt(2)), "model-0000" + random.nextInt(4));
            case 1 -> text.replaceFirst("layers\\." + random.nextInt(3), "layers." + random.nextInt(5));
            case 2 -> text.replaceFirst("\"weight_map\"", List.of("\"weights\"", "\"weight_map\": 1, \"x\"", "\"weight_map\"").get(random.nextInt(3)));
            case 3 -> text.replaceFirst("\"model-0000(\\d)-of-00002.safetensors\"", List.of("\"../x\"", "null", "\"\"", "\"/etc/passwd\"", "[1]").get(random.nextInt(5)));
            default -> text.substring(0, random.nextInt(text.length() + 1));
        };
        return edited.getBytes(StandardCharsets.UTF_8);
    }

    private static String replaceRandomMatch(String s, Pattern p, Random random,
            java.util.function.Function<Matcher, String> replacement) {
        Matcher m = p.matcher(s);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return s;
        }
        int[] span = spans.get(random.nextInt(spans.size()));
        m = p.matcher(s);
        m.find(span[0]);
        return s.substring(0, span[0]) + replacement.apply(m) + s.substring(span[1]);
    }

    /** The header length of a file whose prefix is still plausible, else -1. */
    private static int headerLength(byte[] in) {
        if (in.length < 8) {
            return -1;
        }
        long n = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return n >= 0 && n <= in.length - 8 ? (int) n : -1;
    }
}
