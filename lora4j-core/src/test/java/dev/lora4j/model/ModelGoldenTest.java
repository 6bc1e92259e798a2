package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits of tiny random checkpoints against transformers (tools/golden/make_model_goldens.py), for
 * every architecture, F32 and BF16 weights, and both config.json styles. The batch has a full row,
 * a right-padded row (positions 0..T-1) and a left-padded row (explicit positions from the mask);
 * logits are compared at every non-padded position.
 *
 * <p>Tolerance 2e-5 absolute on logits of magnitude up to ~5 (measured worst: 4.3e-6): both sides
 * compute in float32 (the BF16 references load the BF16 weights upcast to float32, which is exactly
 * what lora4j's kernels read), so the only differences are float32 summation order in matmuls,
 * softmax and norms over widths of at most 96 — a few ulps (~1e-6) amplified through two layers. The
 * references are stored rounded to 7 decimals (error 5e-8).
 */
class ModelGoldenTest {
    private static final double TOLERANCE = 2e-5;
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/models");

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "llama3_v4config_bf16", "qwen2_f32", "gpt2_f32", "gpt2_bf16"})
    void logitsMatchTransformers(String name) throws Exception {
        Path dir = GOLDEN.resolve(name);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("logits.json").toFile());
        int batch = ref.get("input_ids").size();
        int seq = ref.get("input_ids").get(0).size();
        int[] ids = flatten(ref.get("input_ids"));
        int[] mask = flatten(ref.get("attention_mask"));
        int[] positions = flatten(ref.get("position_ids"));
        try (CausalLM model = Models.load(dir)) {
            Tensor logits = model.forward(TokenBatch.of(batch, seq, ids, mask, positions));
            int vocab = model.config().vocabSize();
            assertThat(logits.shape()).containsExactly(batch * seq, vocab);
            double worst = 0;
            for (JsonNode row : ref.get("logits")) {
                int r = row.get("batch").asInt() * seq + row.get("position").asInt();
                JsonNode expected = row.get("logits");
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(logits.get(r, v) - expected.get(v).asDouble()));
                }
            }
            assertThat(worst).as("max |logit difference| for %s", name).isLessThan(TOLERANCE);
        }
    }

    static int[] flatten(JsonNode rows) {
        int n = 0;
        for (JsonNode r : rows) {
            n += r.size();
        }
        int[] out = new int[n];
        int i = 0;
        for (JsonNode r : rows) {
            for (JsonNode v : r) {
                out[i++] = v.asInt();
            }
        }
        return out;
    }
}
