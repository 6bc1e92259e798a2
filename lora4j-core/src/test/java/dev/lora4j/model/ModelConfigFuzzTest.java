package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutations of the valid golden configs — byte flips, truncation, deleted and duplicated
 * spans, numbers and keywords swapped for other values — each of which must either parse into a
 * consistent config or fail with a {@link ConfigException} whose message names the source. Any other
 * exception (NullPointerException, NumberFormatException, ...) is a bug. Bounded: 4000 mutants.
 */
class ModelConfigFuzzTest {
    private static final String[] CONFIGS = {"llama_gqa_f32", "llama3_v4config_bf16", "qwen2_f32", "gpt2_f32"};
    private static final String[] REPLACEMENTS = {"null", "-1", "0", "1e309", "\"x\"", "[]", "{}", "true", "2.5",
            "99999999999", "\"llama\"", "\"gpt2\""};

    @Test
    void mutatedConfigsParseOrFailClearly() throws Exception {
        Random random = new Random(20240601);
        int parsed = 0;
        int rejected = 0;
        for (int i = 0; i < 4000; i++) {
            String name = CONFIGS[i % CONFIGS.length];
            Path file = Paths.get("src/test/resources/golden/models", name, "config.json");
            String text = Files.readString(file);
            String mutant = mutate(text, random);
            String source = "mutant-" + i + "/config.json";
            try {
                ModelConfig c = ModelConfig.parse(mutant, source);
                assertThat(c.hiddenSize()).isPositive();
                assertThat(c.numHeads() % c.numKvHeads()).isZero();
                if (c.rope() != null) {
                    for (float f : c.rope().inverseFrequencies(c.headDim())) {
                        assertThat(f).isPositive();
                    }
                }
                parsed++;
            } catch (ConfigException e) {
                assertThat(e.getMessage()).startsWith(source + ": ");
                rejected++;
            } catch (RuntimeException e) {
                fail("mutant " + i + " of " + name + " threw " + e + " instead of a ConfigException:\n" + mutant, e);
            }
        }
        // Both outcomes must actually occur, or the mutations are not testing anything.
        assertThat(parsed).isGreaterThan(100);
        assertThat(rejected).isGreaterThan(100);
    }

    private static String mutate(String text, Random r) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        switch (r.nextInt(5)) {
            case 0 -> {  // flip a bit
                int at = r.nextInt(b.length);
                b[at] ^= (byte) (1 << r.nextInt(8));
                return new String(b, StandardCharsets.UTF_8);
            }
            case 1 -> {  // truncate
                return text.substring(0, r.nextInt(text.length()));
            }
            case 2 -> {  // delete a span
                int from = r.nextInt(text.length());
                int to = Math.min(text.length(), from + 1 + r.nextInt(30));
                return text.substring(0, from) + text.substring(to);
            }
            case 3 -> {  // replace a value after a colon
                int colon = nthIndexOf(text, ':', r);
                if (colon < 0) {
                    return text;
                }
                int end = colon + 1;
                while (end < text.length() && text.charAt(end) != ',' && text.charAt(end) != '\n'
                        && text.charAt(end) != '}') {
                    end++;
                }
                return text.substring(0, colon + 1) + " " + REPLACEMENTS[r.nextInt(REPLACEMENTS.length)] + text.substring(end);
            }
            default -> {  // duplicate a span somewhere else
                int from = r.nextInt(text.length());
                int to = Math.min(text.length(), from + 1 + r.nextInt(40));
                int at = r.nextInt(text.length());
                return text.substring(0, at) + text.substring(from, to) + text.substring(at);
            }
        }
    }

    private static int nthIndexOf(String s, char c, Random r) {
        int count = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                count++;
            }
        }
        if (count == 0) {
            return -1;
        }
        int n = r.nextInt(count);
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c && n-- == 0) {
                return i;
            }
        }
        return -1;
    }
}
