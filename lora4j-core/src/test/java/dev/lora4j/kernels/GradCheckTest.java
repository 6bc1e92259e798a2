package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The checker itself must accept a right gradient and reject a slightly wrong one. */
class GradCheckTest {

    @Test
    void acceptsTheRightGradientAndRejectsAWrongOne() {
        float[] x = {0.3f, -1.2f, 2.0f};
        // L = Σ sin(x_i)·x_i, computed in float like a kernel would
        java.util.function.DoubleSupplier loss = () -> {
            float s = 0;
            for (float v : x) {
                s += (float) Math.sin(v) * v;
            }
            return s;
        };
        float[] right = new float[3];
        for (int i = 0; i < 3; i++) {
            right[i] = (float) (Math.cos(x[i]) * x[i] + Math.sin(x[i]));
        }
        GradCheck.check("right", x, loss, right);
        float[] wrong = right.clone();
        wrong[1] *= 1.05f;  // a 5% error must be caught
        assertThatThrownBy(() -> GradCheck.check("wrong", x, loss, wrong)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("gradient[1]");
    }
}
