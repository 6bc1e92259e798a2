package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** RMSNorm and LayerNorm: vector vs scalar twins, finite differences, reduced-precision weights. */
class NormsTest {
    static final float EPS = 1e-5f;

    /** A weight vector near 1 stored as {@code dtype} (allocated in {@code arena}). */
    static Tensor weight(Random rnd, int d, DType dtype, Arena arena) {
        float[] w = TestData.uniform(rnd, d, 0.5f, 1.5f);
        Tensor f = Tensor.of(w, d);
        return dtype == DType.F32 ? f : f.copy(arena, dtype);
    }

    @Test
    void rmsNormVectorMatchesScalar() {
        Random rnd = new Random(6);
        try (Arena arena = Arena.ofConfined()) {
            for (DType wt : DType.values()) {
                for (int d : TestData.widths()) {
                    int rows = 5;
                    Tensor x = TestData.rowView(rnd, rows, d);
                    Tensor w = weight(rnd, d, wt, arena);
                    Tensor y = TestData.rowView(rnd, rows, d);
                    Tensor yRef = Tensor.zeros(rows, d);
                    float[] inv = new float[rows];
                    float[] invRef = new float[rows];
                    RmsNorm.forward(x, w, EPS, y, inv);
                    RmsNormScalar.forward(x, w, EPS, yRef, invRef);
                    // sums of d squares in different orders: ~1e-6 relative
                    TestData.assertClose("rmsnorm invRms " + wt + " d=" + d, invRef, inv, 1e-5, 0);
                    TestData.assertClose("rmsnorm y " + wt + " d=" + d, yRef, y, 1e-5, 1e-6);

                    Tensor dy = TestData.rowView(rnd, rows, d);
                    Tensor dx = TestData.rowView(rnd, rows, d);
                    Tensor dxRef = Tensor.zeros(rows, d);
                    float[] start = TestData.gaussian(rnd, d, 1);  // accumulation must add to what is there
                    Tensor dw = Tensor.of(start.clone(), d);
                    Tensor dwRef = Tensor.of(start.clone(), d);
                    RmsNorm.backward(dy, x, w, inv, dx, dw);
                    RmsNormScalar.backward(dy, x, w, invRef, dxRef, dwRef);
                    TestData.assertClose("rmsnorm dx " + wt + " d=" + d, dxRef, dx, 1e-4, 1e-5);
                    TestData.assertClose("rmsnorm dw " + wt + " d=" + d, dwRef, dw, 1e-4, 1e-5);
                }
            }
        }
    }

    @Test
    void rmsNormBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(7);
        int rows = 3;
        int d = Vec.L + 3;
        float[] x = TestData.gaussian(rnd, rows * d, 1);
        float[] w = TestData.uniform(rnd, d, 0.5f, 1.5f);
        float[] g = TestData.gaussian(rnd, rows * d, 1);
        Tensor xt = Tensor.of(x, rows, d);
        Tensor wt = Tensor.of(w, d);
        Tensor y = Tensor.zeros(rows, d);
        float[] inv = new float[rows];
        RmsNorm.forward(xt, wt, EPS, y, inv);
        Tensor dx = Tensor.zeros(rows, d);
        Tensor dw = Tensor.zeros(d);
        RmsNorm.backward(Tensor.of(g, rows, d), xt, wt, inv, dx, dw);
        java.util.function.DoubleSupplier loss = () -> {
            RmsNorm.forward(xt, wt, EPS, y, null);
            return GradCheck.dot(g, y.toFloatArray());
        };
        GradCheck.check("rmsnorm dx", x, loss, dx.toFloatArray());
        GradCheck.check("rmsnorm dweight", w, loss, dw.toFloatArray());
    }

    @Test
    void layerNormVectorMatchesScalar() {
        Random rnd = new Random(8);
        try (Arena arena = Arena.ofConfined()) {
            for (DType wt : DType.values()) {
                for (int d : TestData.widths()) {
                    int rows = 4;
                    Tensor x = TestData.rowView(rnd, rows, d);
                    Tensor w = weight(rnd, d, wt, arena);
                    Tensor b = weight(rnd, d, wt, arena);
                    Tensor y = TestData.rowView(rnd, rows, d);
                    Tensor yRef = Tensor.zeros(rows, d);
                    float[] mean = new float[rows];
                    float[] inv = new float[rows];
                    float[] meanRef = new float[rows];
                    float[] invRef = new float[rows];
                    LayerNorm.forward(x, w, b, EPS, y, mean, inv);
                    LayerNormScalar.forward(x, w, b, EPS, yRef, meanRef, invRef);
                    TestData.assertClose("layernorm mean " + wt + " d=" + d, meanRef, mean, 1e-5, 1e-6);
                    TestData.assertClose("layernorm invStd " + wt + " d=" + d, invRef, inv, 1e-4, 0);
                    TestData.assertClose("layernorm y " + wt + " d=" + d, yRef, y, 1e-4, 1e-5);

                    Tensor dy = TestData.rowView(rnd, rows, d);
                    Tensor dx = TestData.rowView(rnd, rows, d);
                    Tensor dxRef = Tensor.zeros(rows, d);
                    Tensor dw = Tensor.zeros(d);
                    Tensor dwRef = Tensor.zeros(d);
                    Tensor db = Tensor.of(new float[d], d);
                    Tensor dbRef = Tensor.zeros(d);
                    db.fill(0.25f);
                    dbRef.fill(0.25f);
                    LayerNorm.backward(dy, x, w, mean, inv, dx, dw, db);
                    LayerNormScalar.backward(dy, x, w, meanRef, invRef, dxRef, dwRef, dbRef);
                    // d = 1 makes x̂ = 0 and dx = 0 up to cancellation; the atol covers that
                    TestData.assertClose("layernorm dx " + wt + " d=" + d, dxRef, dx, 1e-4, 1e-4);
                    TestData.assertClose("layernorm dw " + wt + " d=" + d, dwRef, dw, 1e-4, 1e-5);
                    TestData.assertClose("layernorm db " + wt + " d=" + d, dbRef, db, 1e-5, 1e-6);
                }
            }
        }
    }

    @Test
    void layerNormBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(9);
        int rows = 3;
        int d = Vec.L + 3;
        float[] x = TestData.gaussian(rnd, rows * d, 1);
        for (int i = 0; i < x.length; i++) {
            x[i] += 3f;  // a non-zero mean exercises the centring
        }
        float[] w = TestData.uniform(rnd, d, 0.5f, 1.5f);
        float[] b = TestData.gaussian(rnd, d, 1);
        float[] g = TestData.gaussian(rnd, rows * d, 1);
        Tensor xt = Tensor.of(x, rows, d);
        Tensor wt = Tensor.of(w, d);
        Tensor bt = Tensor.of(b, d);
        Tensor y = Tensor.zeros(rows, d);
        float[] mean = new float[rows];
        float[] inv = new float[rows];
        LayerNorm.forward(xt, wt, bt, EPS, y, mean, inv);
        Tensor dx = Tensor.zeros(rows, d);
        Tensor dw = Tensor.zeros(d);
        Tensor db = Tensor.zeros(d);
        LayerNorm.backward(Tensor.of(g, rows, d), xt, wt, mean, inv, dx, dw, db);
        java.util.function.DoubleSupplier loss = () -> {
            LayerNorm.forward(xt, wt, bt, EPS, y, null, null);
            return GradCheck.dot(g, y.toFloatArray());
        };
        GradCheck.check("layernorm dx", x, loss, dx.toFloatArray());
        GradCheck.check("layernorm dweight", w, loss, dw.toFloatArray());
        GradCheck.check("layernorm dbias", b, loss, db.toFloatArray());
    }

    @Test
    void layerNormWithoutAffineParameters() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4);
        Tensor y = Tensor.zeros(1, 4);
        LayerNorm.forward(x, null, null, 0f, y, null, null);
        // mean 2.5, variance 1.25: (x − 2.5)/√1.25
        double s = 1 / Math.sqrt(1.25);
        assertThat((double) y.get(0, 0)).isCloseTo(-1.5 * s, org.assertj.core.data.Offset.offset(1e-6));
        assertThat((double) y.get(0, 3)).isCloseTo(1.5 * s, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void badInputsAreNamed() {
        assertThatThrownBy(() -> RmsNorm.forward(Tensor.zeros(2, 4), Tensor.zeros(3), EPS, Tensor.zeros(2, 4), null))
                .hasMessageContaining("rmsnorm: weight").hasMessageContaining("[4]");
        assertThatThrownBy(() -> RmsNorm.forward(Tensor.zeros(2, 4), Tensor.zeros(4), EPS, Tensor.zeros(2, 4), new float[1]))
                .hasMessageContaining("invRms");
        assertThatThrownBy(() -> RmsNorm.forward(Tensor.zeros(4, 2).t(), Tensor.zeros(4), EPS, Tensor.zeros(2, 4), null))
                .hasMessageContaining("column stride 1");
    }
}
