package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The KV-cache forward against the training forward of the same model: prefilling a left-padded
 * batch in one chunk of 3, then 1 token at a time, gives at every step the logits the full-sequence
 * forward gives at that position. Tolerance 2e-5 absolute on logits of magnitude ~1: the two paths
 * sum attention over keys in the same order but run different matmul shapes (skinny vs packed), whose
 * float32 accumulation orders differ.
 */
class KvCacheForwardTest {
    private static final int[][] SEQUENCES = {{1, 17, 42, 99, 3, 64, 120}, {1, 5, 88, 23, 101}};

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "qwen2_f32", "gpt2_f32"})
    void incrementalLogitsEqualFullForward(String name) {
        try (CausalLM model = Models.load(Paths.get("src/test/resources/golden/models").resolve(name))) {
            int batch = SEQUENCES.length;
            int length = SEQUENCES[0].length;
            // Full forward over the left-padded batch, positions cumsum(mask) - 1.
            TokenBatch full = Generator.leftPaddedPrompts(List.of(SEQUENCES), length);
            float[] fullLogits = model.forward(full).toFloatArray();
            int vocab = model.config().vocabSize();

            KvCache cache = model.newKvCache(batch, length);
            int prefill = 3;
            int t = 0;
            while (t < length) {
                int chunk = t == 0 ? prefill : 1;
                int[] ids = new int[batch * chunk];
                int[] mask = new int[batch * chunk];
                int[] pos = new int[batch * chunk];
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < chunk; i++) {
                        ids[b * chunk + i] = full.tokenIds()[b * length + t + i];
                        mask[b * chunk + i] = full.attentionMask()[b * length + t + i];
                        pos[b * chunk + i] = full.positions()[b * length + t + i];
                    }
                }
                Tensor logits = model.forwardCached(new TokenBatch(batch, chunk, ids, mask, pos), cache);
                t += chunk;
                assertThat(cache.length()).isEqualTo(t);
                for (int b = 0; b < batch; b++) {
                    for (int v = 0; v < vocab; v++) {
                        float expected = fullLogits[(b * length + t - 1) * vocab + v];
                        assertThat(logits.get(b, v)).as("%s step %d seq %d token %d", name, t, b, v)
                                .isCloseTo(expected, org.assertj.core.data.Offset.offset(2e-5f));
                    }
                }
            }
            int[] one = {1, 1};
            assertThatThrownBy(() -> model.forwardCached(new TokenBatch(batch, 1, one, one, new int[] {7, 7}), cache))
                    .hasMessageContaining("KV cache is full");
            assertThatThrownBy(() -> model.backward(Tensor.zeros(batch, vocab)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("forwardCached keeps nothing");
        }
    }
}
