package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxTest {

    @Test
    void vectorMatchesScalarOnRowViews() {
        Random rnd = new Random(4);
        for (int d : TestData.widths()) {
            Tensor x = TestData.rowView(rnd, 3, d);
            Tensor y = TestData.rowView(rnd, 3, d);
            Tensor ref = Tensor.zeros(3, d);
            Softmax.forward(x, y);
            SoftmaxScalar.forward(x, ref);
            // different summation order and exp implementation: ~1e-6 relative
            TestData.assertClose("softmax d=" + d, ref, y, 1e-5, 1e-8);
            Tensor dy = TestData.rowView(rnd, 3, d);
            Tensor dx = TestData.rowView(rnd, 3, d);
            Tensor dxRef = Tensor.zeros(3, d);
            Softmax.backward(y, dy, dx);
            SoftmaxScalar.backward(ref, dy, dxRef);
            TestData.assertClose("softmax backward d=" + d, dxRef, dx, 1e-5, 1e-7);
        }
    }

    @Test
    void largeLogitsDoNotOverflow() {
        Tensor x = Tensor.of(new float[] {1000f, 1000f, -1000f}, 1, 3);
        Tensor y = Tensor.zeros(1, 3);
        Softmax.forward(x, y);
        assertThat(y.toFloatArray()).containsExactly(0.5f, 0.5f, 0f);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rnd = new Random(5);
        int d = Vec.L + 5;
        float[] x = TestData.gaussian(rnd, 2 * d, 2.0);
        float[] w = TestData.gaussian(rnd, 2 * d, 1.0);
        Tensor xt = Tensor.of(x, 2, d);
        Tensor y = Tensor.zeros(2, d);
        Softmax.forward(xt, y);
        Tensor dx = Tensor.zeros(2, d);
        Softmax.backward(y, Tensor.of(w, 2, d), dx);
        GradCheck.check("softmax", x, () -> {
            Softmax.forward(xt, y);
            return GradCheck.dot(w, y.toFloatArray());
        }, dx.toFloatArray());
    }
}
