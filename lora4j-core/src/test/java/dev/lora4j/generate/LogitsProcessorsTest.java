package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The logits processors against transformers' own (golden/generation/logits_processors.json from
 * tools/golden/make_generation_goldens.py processors): each alone, and chained in generate()'s
 * order. Removed tokens must be exactly the same set (−∞ in both); kept logits agree to 1e-6
 * relative (float32 division and multiplication, rounded the same way up to one ulp).
 */
class LogitsProcessorsTest {
    private static JsonNode golden() throws Exception {
        JsonMapper mapper = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
        return mapper.readTree(Paths.get("src/test/resources/golden/generation/logits_processors.json").toFile());
    }

    @Test
    void eachProcessorMatchesTransformers() throws Exception {
        JsonNode g = golden();
        boolean[] seen = seen(g);
        for (JsonNode c : g.get("single")) {
            float[] logits = floats(g.get("logits"));
            double value = c.get("value").asDouble();
            switch (c.get("processor").asText()) {
                case "repetition_penalty" -> LogitsProcessors.repetitionPenalty(logits, seen, (float) value);
                case "temperature" -> LogitsProcessors.temperature(logits, (float) value);
                case "top_k" -> LogitsProcessors.topK(logits, (int) value);
                case "top_p" -> LogitsProcessors.topP(logits, (float) value);
                case "min_p" -> LogitsProcessors.minP(logits, (float) value);
                default -> throw new AssertionError(c);
            }
            assertSameLogits(logits, floats(c.get("output")), c.get("processor").asText());
        }
    }

    @Test
    void chainInGenerateOrderMatchesTransformers() throws Exception {
        JsonNode g = golden();
        float[] logits = floats(g.get("logits"));
        LogitsProcessors.repetitionPenalty(logits, seen(g), 1.3f);
        LogitsProcessors.temperature(logits, 1.6f);
        LogitsProcessors.topK(logits, 6);
        LogitsProcessors.topP(logits, 0.6f);
        LogitsProcessors.minP(logits, 0.1f);
        assertSameLogits(logits, floats(g.get("chained")), "chain");
        long kept = 0;
        for (float l : logits) {
            kept += l == Float.NEGATIVE_INFINITY ? 0 : 1;
        }
        assertThat(kept).as("the chain leaves a few tokens, not one or all").isBetween(2L, 5L);
    }

    @Test
    void topKKeepsTiesWithTheKthLogit() throws Exception {
        float[] logits = floats(golden().get("logits"));
        LogitsProcessors.topK(logits, 6);
        long kept = 0;
        for (float l : logits) {
            kept += l == Float.NEGATIVE_INFINITY ? 0 : 1;
        }
        assertThat(kept).isEqualTo(7);   // the golden's logit 0 ties the 6th largest
    }

    @Test
    void samplingIsReproducibleFromTheSeedAndTopKOneIsGreedy() {
        float[] base = new float[50];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < base.length; i++) {
            base[i] = (float) r.nextGaussian();
        }
        boolean[] seen = new boolean[50];
        GenerationConfig sampling = GenerationConfig.sampling(8, 1.0, 42);
        List<Integer> a = draws(new TokenChooser(sampling), base, seen);
        List<Integer> b = draws(new TokenChooser(sampling), base, seen);
        List<Integer> c = draws(new TokenChooser(GenerationConfig.sampling(8, 1.0, 43)), base, seen);
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
        assertThat(draws(new TokenChooser(sampling.withTopK(1)), base, seen)).containsOnly(LogitsProcessors.argmax(base));
    }

    @Test
    void samplingFollowsTheDistribution() {
        // Two tokens with probabilities 0.8 / 0.2 (logit gap ln 4): 20000 draws, expected 16000 ± 57 (1 sd).
        float[] logits = {(float) Math.log(4), 0f};
        TokenChooser chooser = new TokenChooser(GenerationConfig.sampling(1, 1.0, 1));
        int zeros = 0;
        for (int i = 0; i < 20000; i++) {
            zeros += chooser.choose(logits.clone(), new boolean[2]) == 0 ? 1 : 0;
        }
        assertThat(zeros).isBetween(16000 - 300, 16000 + 300);   // ±5 sd
    }

    private static List<Integer> draws(TokenChooser chooser, float[] base, boolean[] seen) {
        List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            out.add(chooser.choose(base.clone(), seen));
        }
        return out;
    }

    private static void assertSameLogits(float[] actual, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == Float.NEGATIVE_INFINITY) {
                assertThat(actual[i]).as("%s: token %d removed", what, i).isEqualTo(Float.NEGATIVE_INFINITY);
            } else {
                assertThat(actual[i]).as("%s: token %d", what, i)
                        .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6f * Math.max(1f, Math.abs(expected[i]))));
            }
        }
    }

    private static boolean[] seen(JsonNode g) {
        boolean[] seen = new boolean[g.get("logits").size()];
        g.get("seen").forEach(id -> seen[id.asInt()] = true);
        return seen;
    }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }
}
