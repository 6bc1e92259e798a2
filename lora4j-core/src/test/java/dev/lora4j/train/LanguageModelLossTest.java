package dev.lora4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import org.assertj.core.data.Offset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The head run slice by slice gives what the whole-logits path gives, up to float rounding: a slice
 * of a few rows takes the skinny matmul (which sums each element in a different order than the
 * blocked GEMM), and an adapter on the head sums its gradient slice by slice. Tolerance: 1e-5 of the
 * largest gradient element, 1e-6 relative on the loss (float rounding of sums over 64-1376 terms is
 * ~1e-7 relative; a wrong row offset or a missing slice changes them at order 1).
 */
class LanguageModelLossTest {
    private static Path golden(String path) throws Exception {
        return Path.of(LanguageModelLossTest.class.getResource("/golden/" + path).toURI());
    }

    @ParameterizedTest
    @CsvSource({
            "llama_gqa_f32, 'q_proj,v_proj,down_proj', 5",
            "llama_gqa_f32, 'q_proj,lm_head', 7",
            "llama_gqa_f32, 'q_proj,lm_head', 16",
            "gpt2_f32, 'c_attn,c_fc', 3"})
    void slicedHeadMatchesWholeLogits(String model, String targets, int chunkRows) throws Exception {
        try (CausalLM base = Models.load(golden("models/" + model))) {
            LoraModel lora = LoraModel.attach(base, LoraConfig.of(4, 8, ModuleSelector.parseCli(targets))
                    .withInit(InitLoraWeights.RANDOM), 3);
            int batch = 3;
            int seqLen = 11;   // 33 rows: slices of 5, 7 and 3 rows leave a shorter last slice
            int[] ids = new int[batch * seqLen];
            SplittableRandom rng = new SplittableRandom(5);
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rng.nextInt(base.config().vocabSize());
            }
            int[] next = new int[ids.length];
            for (int r = 0; r < ids.length; r++) {
                next[r] = r % seqLen == seqLen - 1 || r % 4 == 1 ? CrossEntropy.IGNORE_INDEX : ids[r + 1];
            }
            TokenBatch tokens = TokenBatch.of(batch, seqLen, ids, null, null);
            float scale = 1f / 20;

            Tensor logits = base.forward(tokens);
            double wholeLoss = CrossEntropy.forwardBackward(logits, next, logits, scale);
            base.backward(logits);
            List<float[]> whole = gradients(lora);
            lora.zeroGrad();

            double slicedLoss = LanguageModelLoss.forwardBackward(base, tokens, next, scale, chunkRows);
            List<float[]> sliced = gradients(lora);

            assertThat(slicedLoss).isCloseTo(wholeLoss, Offset.offset(1e-6 * Math.abs(wholeLoss)));
            assertThat(LanguageModelLoss.forward(base, tokens, next, chunkRows)).isEqualTo(slicedLoss);
            assertThat(whole).hasSameSizeAs(sliced);
            for (int i = 0; i < whole.size(); i++) {
                float[] w = whole.get(i);
                float[] s = sliced.get(i);
                float max = 0;
                for (float v : w) {
                    max = Math.max(max, Math.abs(v));
                }
                assertThat(max).as("gradient %d is not all zero", i).isGreaterThan(0f);
                for (int j = 0; j < w.length; j++) {
                    assertThat(s[j]).as("gradient %d[%d]", i, j).isCloseTo(w[j], Offset.offset(1e-5f * max));
                }
            }
        }
    }

    private static List<float[]> gradients(LoraModel lora) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : lora.parameters()) {
            out.add(p.grad().clone());
        }
        return out;
    }
}
