package dev.lora4j.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lora4j.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference check of the LoRA branch's gradients. The loss L = Σ y ⊙ G is linear in y, so
 * central differences in double over float32 forward passes are accurate to about
 * eps_f32·|y|/step ≈ 1e-4 relative with step 1e-2; we allow 2e-3 relative.
 */
class LoraLinearTest {
    static final int ROWS = 5;
    static final int IN = 7;
    static final int OUT = 6;
    static final int RANK = 3;

    @Test
    void gradientsMatchFiniteDifferences() {
        check(0.0);
    }

    @Test
    void gradientsMatchFiniteDifferencesWithDropout() {
        check(0.3);
    }

    private void check(double dropout) {
        SplittableRandom rng = new SplittableRandom(7);
        LoraLinear lora = new LoraLinear("m.q_proj", IN, OUT, RANK, 2.0, dropout);
        lora.initialize(InitLoraWeights.RANDOM, rng);
        lora.setTraining(true, 42, 3);
        float[] x = random(rng, ROWS * IN);
        float[] g = random(rng, ROWS * OUT);
        DoubleSupplier loss = () -> {
            Tensor y = Tensor.zeros(ROWS, OUT);
            lora.forward(Tensor.of(x.clone(), ROWS, IN), y);
            double s = 0;
            float[] yv = y.toFloatArray();
            for (int i = 0; i < yv.length; i++) {
                s += (double) yv[i] * g[i];
            }
            return s;
        };
        // analytic
        Tensor xt = Tensor.of(x.clone(), ROWS, IN);
        Tensor y = Tensor.zeros(ROWS, OUT);
        lora.forward(xt, y);
        Tensor dx = Tensor.zeros(ROWS, IN);
        lora.backward(Tensor.of(g, ROWS, OUT), xt, dx);
        float[] dA = lora.loraA().grad().clone();
        float[] dB = lora.loraB().grad().clone();

        compare("dA", lora.loraA().value(), dA, loss);
        compare("dB", lora.loraB().value(), dB, loss);
        compare("dx", x, dx.toFloatArray(), loss);
        assertThat(dA).isNotEqualTo(new float[dA.length]);
    }

    private static void compare(String what, float[] values, float[] analytic, DoubleSupplier loss) {
        float step = 1e-2f;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            values[i] = v + step;
            double plus = loss.getAsDouble();
            values[i] = v - step;
            double minus = loss.getAsDouble();
            values[i] = v;
            double numeric = (plus - minus) / (2 * step);
            assertThat((double) analytic[i]).as("%s[%d]", what, i)
                    .isCloseTo(numeric, within(2e-3 * Math.max(1, Math.abs(numeric))));
        }
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    @Test
    void kaimingInitIsANoOpAndBoundedLikePeft() {
        LoraLinear lora = new LoraLinear("m.v_proj", 64, 32, 8, 2.0, 0.0);
        lora.initialize(InitLoraWeights.KAIMING, new SplittableRandom(1));
        float bound = (float) (1 / Math.sqrt(64));
        for (float v : lora.loraA().value()) {
            assertThat(Math.abs(v)).isLessThanOrEqualTo(bound);
        }
        assertThat(lora.loraB().value()).containsOnly(0f);
        Tensor y = Tensor.zeros(2, 32);
        lora.forward(Tensor.of(new float[128], 2, 64), y);
        assertThat(y.toFloatArray()).containsOnly(0f);
    }
}
