package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.LinearAdapter;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backward pass of whole models, checked by finite differences. Every linear layer gets a dense
 * trainable adapter {@code y += x·Cᵀ} (a stand-in for LoRA);
 * the analytic gradient of the mean next-token loss with respect to entries of each C — which flows
 * back through the head, the norms, attention (RoPE, GQA, causal and padding masks), the MLPs and the
 * residuals — must match central differences of the loss.
 *
 * <p>Tolerance: |fd − analytic| ≤ 3e-3 + 3e-2·|analytic|. The loss (~5) is computed in float32, so each
 * evaluation carries ~1e-6 rounding noise; divided by 2ε with ε = 1e-2 that is ~1e-4, and the O(ε²)
 * truncation error of central differences is of the same order. The entry checked in each adapter is where the
 * analytic gradient is largest, so a wrong gradient cannot hide in the absolute term.
 */
class ModelBackwardTest {
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/models");
    private static final float EPS = 1e-2f;

    /** y += x·Cᵀ with a trainable C [out, in]; dC accumulates dyᵀ·x, dx accumulates dy·C. */
    static final class DenseAdapter implements LinearAdapter {
        final Tensor c;
        final Tensor grad;

        DenseAdapter(int out, int in, Random random) {
            c = Buffers.f32(out, in);
            for (int i = 0; i < out * in; i++) {
                c.setFlat(i, (float) (0.05 * random.nextGaussian()));
            }
            grad = Buffers.f32(out, in);
        }

        @Override
        public void forward(Tensor x, Tensor y) {
            Matmul.forward(x, c, y, true);
        }

        @Override
        public void backward(Tensor dy, Tensor x, Tensor dx) {
            Matmul.backwardInput(dy, c, dx, true);
            Matmul.backwardWeight(dy, x, grad, true);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "llama3_v4config_bf16", "qwen2_f32", "gpt2_f32"})
    void adapterGradientsMatchFiniteDifferences(String name) throws Exception {
        Path dir = GOLDEN.resolve(name);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("logits.json").toFile());
        int batchSize = ref.get("input_ids").size();
        int seq = ref.get("input_ids").get(0).size();
        TokenBatch batch = TokenBatch.of(batchSize, seq, ModelGoldenTest.flatten(ref.get("input_ids")),
                ModelGoldenTest.flatten(ref.get("attention_mask")), ModelGoldenTest.flatten(ref.get("position_ids")));
        int[] targets = targets(batch);
        try (CausalLM model = Models.load(dir)) {
            Random random = new Random(7);
            List<DenseAdapter> adapters = new ArrayList<>();
            for (Linear linear : model.linears()) {
                DenseAdapter a = new DenseAdapter(linear.outFeatures(), linear.inFeatures(), random);
                linear.setAdapter(a);
                adapters.add(a);
            }
            int count = 0;
            for (int t : targets) {
                count += t == CrossEntropy.IGNORE_INDEX ? 0 : 1;
            }
            Tensor logits = model.forward(batch);
            Tensor dLogits = Tensor.zeros(logits.dim(0), logits.dim(1));
            CrossEntropy.forwardBackward(logits, targets, dLogits, 1f / count);
            model.backward(dLogits);

            int checked = 0;
            for (int k = 0; k < adapters.size(); k++) {
                DenseAdapter a = adapters.get(k);
                for (int entry : largestEntries(a.grad, 1)) {
                    double analytic = a.grad.getFlat(entry);
                    float original = a.c.getFlat(entry);
                    a.c.setFlat(entry, original + EPS);
                    double plus = loss(model, batch, targets, count);
                    a.c.setFlat(entry, original - EPS);
                    double minus = loss(model, batch, targets, count);
                    a.c.setFlat(entry, original);
                    double fd = (plus - minus) / (2 * EPS);
                    assertThat(Math.abs(fd - analytic))
                            .as("%s, adapter on %s, entry %d: analytic %g, finite difference %g", name,
                                    model.linears().get(k).name(), entry, analytic, fd)
                            .isLessThanOrEqualTo(3e-3 + 3e-2 * Math.abs(analytic));
                    checked++;
                }
            }
            assertThat(checked).isEqualTo(model.linears().size());
        }
    }

    private static double loss(CausalLM model, TokenBatch batch, int[] targets, int count) {
        return CrossEntropy.forwardBackward(model.forward(batch), targets, null, 1f) / count;
    }

    /** Next real token of the same row, or ignore. */
    static int[] targets(TokenBatch b) {
        int[] ids = b.tokenIds();
        int[] mask = b.attentionMask();
        int[] t = new int[ids.length];
        for (int r = 0; r < ids.length; r++) {
            boolean next = r % b.seqLen() < b.seqLen() - 1 && mask[r] != 0 && mask[r + 1] != 0;
            t[r] = next ? ids[r + 1] : CrossEntropy.IGNORE_INDEX;
        }
        return t;
    }

    private static int[] largestEntries(Tensor g, int n) {
        float[] v = g.toFloatArray();
        int[] best = new int[n];
        for (int k = 0; k < n; k++) {
            int arg = -1;
            for (int i = 0; i < v.length; i++) {
                if (!Float.isNaN(v[i]) && (arg < 0 || Math.abs(v[i]) > Math.abs(v[arg]))) {
                    arg = i;
                }
            }
            best[k] = arg;
            v[arg] = Float.NaN;
        }
        return best;
    }
}
