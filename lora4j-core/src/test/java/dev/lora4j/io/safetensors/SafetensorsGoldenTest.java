package dev.lora4j.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compatibility with the Python safetensors library, both ways, against files made by
 * tools/golden/make_safetensors_goldens.py. Values are compared exactly: the files hold F32, BF16
 * and F16 numbers, and widening any of them to float is exact in both implementations.
 */
class SafetensorsGoldenTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden/safetensors");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static JsonNode expected() throws IOException {
        return JSON.readTree(GOLDEN.resolve("expected.json").toFile());
    }

    static float[] floats(JsonNode values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values.get(i).doubleValue();
        }
        return out;
    }

    static int[] ints(JsonNode values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).intValue();
        }
        return out;
    }

    private static DType torchDType(String name) {
        return switch (name) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> null;
        };
    }

    /** Asserts that {@code source} holds exactly the tensors Python described in {@code described}. */
    private static void assertTensorsMatch(WeightSource source, JsonNode described) throws IOException {
        List<String> expectedNames = new ArrayList<>();
        described.fieldNames().forEachRemaining(expectedNames::add);
        assertThat(source.names()).containsExactlyInAnyOrderElementsOf(expectedNames);
        for (String name : expectedNames) {
            JsonNode e = described.get(name);
            DType dtype = torchDType(e.get("dtype").asText());
            if (dtype == null) {
                continue; // checked separately: lora4j refuses to hand out e.g. int64 as a float tensor
            }
            Tensor t = source.tensor(name);
            assertThat(t.dtype()).as(name).isEqualTo(dtype);
            assertThat(t.shape()).as(name).isEqualTo(ints(e.get("shape")));
            assertThat(t.toFloatArray()).as(name).containsExactly(floats(e.get("values")));
        }
    }

    @Test
    void readsEveryDtypeAndMetadataThatPythonWrote() throws IOException {
        JsonNode expected = expected();
        for (String file : List.of("f32.safetensors", "bf16.safetensors", "f16.safetensors", "mixed_with_i64.safetensors")) {
            try (SafetensorsFile f = SafetensorsFile.open(GOLDEN.resolve(file))) {
                assertTensorsMatch(f, expected.get(file).get("tensors"));
                Map<String, String> meta = JSON.convertValue(expected.get(file).get("metadata"),
                        JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class));
                assertThat(f.metadata()).as(file).isEqualTo(meta);
            }
        }
    }

    @Test
    void aDtypeLora4jDoesNotComputeWithOpensButIsRefusedWhenRequested() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(GOLDEN.resolve("mixed_with_i64.safetensors"))) {
            assertThat(f.info("position_ids").dtypeName()).isEqualTo("I64");
            assertThat(f.info("position_ids").shape()).containsExactly(1, 6);
            assertThat(f.bytes("position_ids").byteSize()).isEqualTo(48);
            assertThatThrownBy(() -> f.tensor("position_ids"))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("mixed_with_i64.safetensors")
                    .hasMessageContaining("position_ids")
                    .hasMessageContaining("I64");
        }
    }

    @Test
    void readsAShardedCheckpointThatHuggingFaceHubWrote() throws IOException {
        JsonNode expected = expected().get("sharded");
        try (WeightSource source = Checkpoints.open(GOLDEN.resolve("sharded"))) {
            assertThat(source).isInstanceOf(ShardedCheckpoint.class);
            assertTensorsMatch(source, expected.get("tensors"));
            List<String> shardNames = new ArrayList<>();
            for (SafetensorsFile s : ((ShardedCheckpoint) source).shards()) {
                shardNames.add(s.path().getFileName().toString());
            }
            assertThat(shardNames).containsExactlyElementsOf(
                    JSON.convertValue(expected.get("shards"), JSON.getTypeFactory().constructCollectionType(List.class, String.class)));
        }
    }

    /** The writer follows the Python library's layout, so rewriting what it wrote gives the same bytes. */
    @Test
    void rewritingPythonFilesReproducesTheirBytes() throws IOException {
        for (String file : List.of("f32.safetensors", "bf16.safetensors", "f16.safetensors")) {
            Path out = tmp.resolve(file);
            try (SafetensorsFile f = SafetensorsFile.open(GOLDEN.resolve(file))) {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (String name : f.names()) {
                    tensors.put(name, f.tensor(name));
                }
                SafetensorsWriter.write(out, tensors, f.metadata());
            }
            assertThat(Files.readAllBytes(out)).as(file).isEqualTo(Files.readAllBytes(GOLDEN.resolve(file)));
        }
    }

    // ---- lora4j -> Python ---------------------------------------------------------------------

    /**
     * The tensors lora4j writes for Python to read: every dtype, a strided (transposed) view, a
     * scalar, an empty tensor, metadata, and a sharded checkpoint. Values are small multiples of
     * 1/8, exact in every dtype.
     */
    static void writeLora4jGoldens(Path dir, Arena arena) throws IOException {
        Map<String, Tensor> t = lora4jTensors(arena);
        SafetensorsWriter.write(dir.resolve("all_dtypes.safetensors"), t,
                Map.of("format", "pt", "written_by", "lora4j"));
        Map<String, Tensor> layers = new LinkedHashMap<>();
        for (int layer = 0; layer < 3; layer++) {
            layers.put("model.layers." + layer + ".weight", ramp(arena, DType.BF16, layer, 4, 4));
        }
        SafetensorsWriter.writeSharded(dir.resolve("sharded"), "model", layers, Map.of("format", "pt"), 48);
    }

    static Map<String, Tensor> lora4jTensors(Arena arena) {
        Map<String, Tensor> t = new TreeMap<>();
        t.put("w.f32", ramp(arena, DType.F32, 0, 3, 4));
        t.put("w.bf16.transposed", ramp(arena, DType.BF16, 1, 3, 4).t());
        t.put("w.f16", ramp(arena, DType.F16, 2, 2, 3));
        t.put("cube.f16.sliced", ramp(arena, DType.F16, 3, 2, 4, 3).slice(1, 1, 3));
        Tensor scalar = Tensor.allocate(arena, DType.F32);
        scalar.fill(-7.25f);
        t.put("scalar", scalar);
        t.put("empty", Tensor.allocate(arena, DType.BF16, 0, 2));
        return t;
    }

    static Tensor ramp(Arena arena, DType dtype, int seed, int... shape) {
        Tensor t = Tensor.allocate(arena, dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFlat(i, (i * 3 + seed * 5) % 23 / 8f - 1.25f);
        }
        return t;
    }

    /** Set -Dlora4j.regenerateGoldens=true to rewrite written_by_lora4j/, then run the script's check. */
    @Test
    void writerOutputIsStillWhatPythonWasCheckedAgainst() throws IOException {
        Path committed = GOLDEN.resolve("written_by_lora4j");
        try (Arena arena = Arena.ofConfined()) {
            if (Boolean.getBoolean("lora4j.regenerateGoldens")) {
                writeLora4jGoldens(committed, arena);
            }
            writeLora4jGoldens(tmp, arena);
        }
        for (Path rel : List.of(Path.of("all_dtypes.safetensors"), Path.of("sharded/model.safetensors.index.json"),
                Path.of("sharded/model-00001-of-00003.safetensors"), Path.of("sharded/model-00002-of-00003.safetensors"),
                Path.of("sharded/model-00003-of-00003.safetensors"))) {
            assertThat(Files.readAllBytes(tmp.resolve(rel))).as(rel.toString())
                    .isEqualTo(Files.readAllBytes(committed.resolve(rel)));
        }
        try (Stream<Path> files = Files.list(tmp.resolve("sharded"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                    "model-00003-of-00003.safetensors", "model.safetensors.index.json");
        }
    }

    @Test
    void pythonReadWhatLora4jWrote() throws IOException {
        JsonNode python = JSON.readTree(GOLDEN.resolve("written_by_lora4j/python_read.json").toFile());
        JsonNode file = python.get("files").get("all_dtypes.safetensors");
        assertThat(file.get("metadata").get("written_by").asText()).isEqualTo("lora4j");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> written = lora4jTensors(arena);
            assertPythonSaw(file.get("tensors"), written);
            Map<String, Tensor> layers = new TreeMap<>();
            for (int layer = 0; layer < 3; layer++) {
                layers.put("model.layers." + layer + ".weight", ramp(arena, DType.BF16, layer, 4, 4));
            }
            assertPythonSaw(python.get("sharded").get("tensors"), layers);
            assertThat(python.get("sharded").get("total_size").asLong()).isEqualTo(3 * 16 * 2);
        }
    }

    private static void assertPythonSaw(JsonNode seen, Map<String, Tensor> written) {
        List<String> names = new ArrayList<>();
        seen.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrderElementsOf(written.keySet());
        for (Map.Entry<String, Tensor> e : written.entrySet()) {
            JsonNode s = seen.get(e.getKey());
            assertThat(torchDType(s.get("dtype").asText())).as(e.getKey()).isEqualTo(e.getValue().dtype());
            assertThat(ints(s.get("shape"))).as(e.getKey()).isEqualTo(e.getValue().shape());
            assertThat(floats(s.get("values"))).as(e.getKey()).containsExactly(e.getValue().toFloatArray());
        }
    }
}
