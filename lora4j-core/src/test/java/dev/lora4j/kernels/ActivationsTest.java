package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationsTest {

    interface Forward {
        void run(Tensor x, Tensor y);
    }

    interface Backward {
        void run(Tensor x, Tensor dy, Tensor dx);
    }

    record Fn(String name, Forward vec, Forward scalar, Backward vecBack, Backward scalarBack) {}

    static final Fn[] FUNCTIONS = {
        new Fn("silu", Activations::silu, ActivationsScalar::silu, Activations::siluBackward, ActivationsScalar::siluBackward),
        new Fn("geluErf", Activations::geluErf, ActivationsScalar::geluErf, Activations::geluErfBackward, ActivationsScalar::geluErfBackward),
        new Fn("geluTanh", Activations::geluTanh, ActivationsScalar::geluTanh, Activations::geluTanhBackward, ActivationsScalar::geluTanhBackward),
    };

    @Test
    void vectorMatchesScalarOnRowViewsOfEveryWidth() {
        Random rnd = new Random(1);
        for (Fn f : FUNCTIONS) {
            for (int d : TestData.widths()) {
                Tensor x = TestData.rowView(rnd, 3, d);
                x.copyFrom(Tensor.of(TestData.uniform(rnd, 3 * d, -8f, 8f), 3, d));
                Tensor dy = TestData.rowView(rnd, 3, d);
                Tensor y = TestData.rowView(rnd, 3, d);
                Tensor yRef = Tensor.zeros(3, d);
                f.vec.run(x, y);
                f.scalar.run(x, yRef);
                // vector exp/tanh/erfc vs Math.exp/tanh and the double erfc: a few float ulps
                TestData.assertClose(f.name + " d=" + d, yRef, y, 2e-6, 1e-7);
                Tensor dx = TestData.rowView(rnd, 3, d);
                Tensor dxRef = Tensor.zeros(3, d);
                f.vecBack.run(x, dy, dx);
                f.scalarBack.run(x, dy, dxRef);
                TestData.assertClose(f.name + " backward d=" + d, dxRef, dx, 2e-6, 1e-7);
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rnd = new Random(2);
        for (Fn f : FUNCTIONS) {
            int d = Vec.L + 3;
            float[] x = TestData.uniform(rnd, 2 * d, -4f, 4f);
            float[] w = TestData.gaussian(rnd, 2 * d, 1.0);
            Tensor xt = Tensor.of(x, 2, d);
            Tensor y = Tensor.zeros(2, d);
            Tensor dx = Tensor.zeros(2, d);
            f.vecBack.run(xt, Tensor.of(w, 2, d), dx);
            GradCheck.check(f.name, x, () -> {
                f.vec.run(xt, y);
                return GradCheck.dot(w, y.toFloatArray());
            }, dx.toFloatArray());
        }
    }

    @Test
    void knownValues() {
        // SiLU(1) = 1/(1+e^-1); GELU(1) = Φ(1) = 0.841344746...; tanh-GELU(1) from the formula in double
        Tensor x = Tensor.of(new float[] {1f, -2f, 0f}, 1, 3);
        Tensor y = Tensor.zeros(1, 3);
        Activations.silu(x, y);
        assertThat((double) y.get(0, 0)).isCloseTo(1 / (1 + Math.exp(-1)), org.assertj.core.data.Offset.offset(1e-7));
        Activations.geluErf(x, y);
        assertThat((double) y.get(0, 0)).isCloseTo(0.8413447460685429, org.assertj.core.data.Offset.offset(2e-7));
        // GELU(−2) = −2·Φ(−2) = −2·0.0227501319481792
        assertThat((double) y.get(0, 1)).isCloseTo(-2 * 0.0227501319481792, org.assertj.core.data.Offset.offset(2e-8));
        assertThat(y.get(0, 2)).isZero();
        Activations.geluTanh(x, y);
        double u = Math.sqrt(2 / Math.PI) * (1 + 0.044715);
        assertThat((double) y.get(0, 0)).isCloseTo(0.5 * (1 + Math.tanh(u)), org.assertj.core.data.Offset.offset(2e-7));
    }

    @Test
    void extremeInputsStayFinite() {
        Tensor x = Tensor.of(new float[] {-200f, 200f, -90f, 90f}, 1, 4);
        Tensor y = Tensor.zeros(1, 4);
        for (Fn f : FUNCTIONS) {
            f.vec.run(x, y);
            assertThat(y.toFloatArray()).as(f.name).doesNotContain(Float.NaN);
            assertThat((double) y.get(0, 1)).as(f.name).isEqualTo(200.0);
            f.vecBack.run(x, Tensor.of(new float[] {1, 1, 1, 1}, 1, 4), y);
            assertThat(y.toFloatArray()).as(f.name + " backward").doesNotContain(Float.NaN);
        }
    }

    @Test
    void mismatchedShapesAreRejected() {
        assertThatThrownBy(() -> Activations.silu(Tensor.zeros(2, 3), Tensor.zeros(2, 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shape");
    }
}
