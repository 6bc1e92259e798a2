package dev.lora4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Input gradients of every layer against central finite differences, in double-checked float32.
 * For a layer y = f(x) and a fixed random R, the scalar L = Σ y ⊙ R has dL/dx = backward(R); each
 * entry of x is perturbed by ±ε and (L⁺ − L⁻)/2ε compared with the analytic value.
 *
 * <p>Tolerance |fd − analytic| ≤ 2e-3 + 2e-2·|analytic| with ε = 1e-2: L sums ≤ 200 float32 terms of
 * magnitude ~1, so each evaluation carries ~1e-5 rounding noise, /2ε ≈ 5e-4; the O(ε²) truncation
 * error of the smooth layers is of the same order.
 */
class LayerGradientTest {
    private static final float EPS = 1e-2f;

    private static Tensor random(Random r, double scale, int... shape) {
        Tensor t = Tensor.allocate(Arena.ofAuto(), DType.F32, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFlat(i, (float) (scale * r.nextGaussian()));
        }
        return t;
    }

    private static double dot(Tensor a, Tensor b) {
        double s = 0;
        for (long i = 0; i < a.numel(); i++) {
            s += (double) a.getFlat(i) * b.getFlat(i);
        }
        return s;
    }

    /** Checks every entry of x: forward must not keep references that the perturbation breaks. */
    private static void check(String what, Tensor x, Function<Tensor, Tensor> forward, Function<Tensor, Tensor> backward,
                              Random r) {
        Tensor y = forward.apply(x);
        Tensor weights = random(r, 1.0, y.shape());
        Tensor dx = backward.apply(weights);
        float[] analytic = dx.toFloatArray();
        for (long i = 0; i < x.numel(); i++) {
            float original = x.getFlat(i);
            x.setFlat(i, original + EPS);
            double plus = dot(forward.apply(x), weights);
            x.setFlat(i, original - EPS);
            double minus = dot(forward.apply(x), weights);
            x.setFlat(i, original);
            double fd = (plus - minus) / (2 * EPS);
            assertThat(Math.abs(fd - analytic[(int) i]))
                    .as("%s: dx[%d] analytic %g, finite difference %g", what, i, analytic[(int) i], fd)
                    .isLessThanOrEqualTo(2e-3 + 2e-2 * Math.abs(analytic[(int) i]));
        }
        forward.apply(x);  // leave the layer's saved state consistent
    }

    @Test
    void linearWithBiasAndTransposedBf16Weight() {
        Random r = new Random(1);
        Tensor stored = random(r, 0.5, 6, 5).copy(Arena.ofAuto(), DType.BF16);  // [in, out] as GPT-2's Conv1D
        Linear layer = new Linear("fc", stored.t(), random(r, 0.5, 5), true);
        Tensor x = random(r, 1.0, 4, 6);
        check("linear", x, layer::forward, dy -> {
            Tensor dx = Buffers.f32(4, 6);
            layer.backward(dy, dx, false);
            return dx;
        }, r);
    }

    @Test
    void rmsNorm() {
        Random r = new Random(2);
        RmsNormLayer layer = new RmsNormLayer("norm", random(r, 0.3, 8), 1e-5f);
        check("rmsnorm", random(r, 1.0, 3, 8), layer::forward, layer::backward, r);
    }

    @Test
    void layerNorm() {
        Random r = new Random(3);
        LayerNormLayer layer = new LayerNormLayer("ln", random(r, 0.5, 8), random(r, 0.5, 8), 1e-5f);
        check("layernorm", random(r, 1.0, 3, 8), layer::forward, layer::backward, r);
    }

    @Test
    void gatedMlp() {
        Random r = new Random(4);
        GatedMlp mlp = new GatedMlp(new Linear("g", random(r, 0.4, 10, 6), null, false),
                new Linear("u", random(r, 0.4, 10, 6), null, false), new Linear("d", random(r, 0.4, 6, 10), null, false));
        check("gated mlp", random(r, 1.0, 3, 6), mlp::forward, mlp::backward, r);
    }

    @Test
    void geluMlpBothVariants() {
        for (GeluMlp.Gelu gelu : GeluMlp.Gelu.values()) {
            Random r = new Random(5);
            GeluMlp mlp = new GeluMlp(new Linear("fc", random(r, 0.4, 12, 6), random(r, 0.3, 12), false),
                    new Linear("proj", random(r, 0.4, 6, 12), random(r, 0.3, 6), false), gelu);
            check("gelu mlp " + gelu, random(r, 1.0, 3, 6), mlp::forward, mlp::backward, r);
        }
    }

    /** GQA (4 query heads over 2 kv heads), RoPE at left-padded positions, a padding mask. */
    @Test
    void attentionWithRopeGroupedHeadsAndPadding() {
        Random r = new Random(6);
        int hidden = 12;
        int headDim = 4;
        Linear q = new Linear("q", random(r, 0.4, 16, hidden), random(r, 0.2, 16), false);
        Linear k = new Linear("k", random(r, 0.4, 8, hidden), null, false);
        Linear v = new Linear("v", random(r, 0.4, 8, hidden), null, false);
        Linear o = new Linear("o", random(r, 0.4, hidden, 16), null, false);
        RotaryEmbedding rope = new RotaryEmbedding(new float[] {1.0f, 0.1f}, 1.0f);
        SelfAttention attention = SelfAttention.separate(q, k, v, o, 4, 2, headDim, rope);
        int[] mask = {1, 1, 1, 0, 0, 1, 1, 1};
        TokenBatch batch = new TokenBatch(2, 4, new int[8], mask, TokenBatch.leftPaddedPositions(2, 4, mask));
        Tensor x = random(r, 1.0, 8, hidden);
        // Only real tokens' outputs count (padded query rows are garbage by definition), so R is
        // zero on them: mask the output before the dot product.
        check("attention", x, in -> maskRows(attention.forward(in, batch), mask), dy -> attention.backward(maskRows(dy, mask)), r);
    }

    @Test
    void fusedQkvAttentionWithoutRope() {
        Random r = new Random(7);
        int hidden = 8;
        Linear qkv = new Linear("c_attn", random(r, 0.4, hidden, 3 * hidden).t(), random(r, 0.2, 3 * hidden), true);
        Linear o = new Linear("c_proj", random(r, 0.4, hidden, hidden), null, false);
        SelfAttention attention = SelfAttention.fused(qkv, o, 2, 4, null);
        TokenBatch batch = TokenBatch.of(1, 5, new int[5], null, null);
        check("fused attention", random(r, 1.0, 5, hidden), in -> attention.forward(in, batch), attention::backward, r);
    }

    private static Tensor maskRows(Tensor t, int[] mask) {
        for (int row = 0; row < mask.length; row++) {
            if (mask[row] == 0) {
                for (int c = 0; c < t.dim(1); c++) {
                    t.set(0f, row, c);
                }
            }
        }
        return t;
    }
}
