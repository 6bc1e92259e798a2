package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RopeTest {

    /** Llama-style inverse frequencies base^(−2j/rotaryDim). */
    static float[] invFreq(int rotaryDim, double base) {
        float[] f = new float[rotaryDim / 2];
        for (int j = 0; j < f.length; j++) {
            f[j] = (float) (1.0 / Math.pow(base, 2.0 * j / rotaryDim));
        }
        return f;
    }

    @Test
    void vectorMatchesScalarIncludingPartialRotary() {
        Random rnd = new Random(10);
        int[][] configs = {  // {nHeads, headDim, rotaryDim}
            {2, 2 * Vec.L, 2 * Vec.L}, {3, 2 * Vec.L + 6, 2 * Vec.L + 6}, {2, 10, 10}, {2, 2 * Vec.L + 8, 2 * Vec.L}, {1, 12, 4}};
        for (int[] c : configs) {
            int nHeads = c[0];
            int headDim = c[1];
            RopeTable table = new RopeTable(invFreq(c[2], 10000), 1.25f, 64);
            int rows = 5;
            int[] pos = {0, 1, 7, 33, 63};
            Tensor x = TestData.rowView(rnd, rows, nHeads * headDim);
            Tensor before = TestData.copyOf(x);
            Tensor ref = TestData.copyOf(x);
            Rope.apply(x, pos, nHeads, headDim, table);
            RopeScalar.apply(ref, pos, nHeads, headDim, table);
            // the same four products per element, possibly fused differently: ~1 ulp
            TestData.assertClose("rope " + java.util.Arrays.toString(c), ref, x, 1e-6, 1e-6);
            // dimensions past the rotary part are untouched (bitwise)
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < nHeads; h++) {
                    for (int d = c[2]; d < headDim; d++) {
                        assertThat(x.get(r, h * headDim + d)).isEqualTo(before.get(r, h * headDim + d));
                    }
                }
            }
            Rope.applyBackward(x, pos, nHeads, headDim, table);
            RopeScalar.applyBackward(ref, pos, nHeads, headDim, table);
            TestData.assertClose("rope backward " + java.util.Arrays.toString(c), ref, x, 1e-6, 1e-6);
        }
    }

    @Test
    void rotatesPairsHalfAHeadApartByPositionTimesFrequency() {
        // headDim 4: pairs (0,2) with frequency 1 and (1,3) with frequency 0.01, at position 3
        RopeTable table = new RopeTable(new float[] {1f, 0.01f}, 1f, 8);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4);
        Rope.apply(x, new int[] {3}, 1, 4, table);
        double c0 = Math.cos(3);
        double s0 = Math.sin(3);
        double c1 = Math.cos(0.03f);
        double s1 = Math.sin(0.03f);
        float[] expected = {(float) (1 * c0 - 3 * s0), (float) (2 * c1 - 4 * s1), (float) (3 * c0 + 1 * s0), (float) (4 * c1 + 2 * s1)};
        TestData.assertClose("rope by hand", expected, x.toFloatArray(), 1e-6, 1e-6);
    }

    @Test
    void backwardMatchesFiniteDifferencesAndInvertsWithoutScaling() {
        Random rnd = new Random(11);
        int nHeads = 2;
        int headDim = 2 * Vec.L + 6;
        RopeTable table = new RopeTable(invFreq(headDim - 4, 500), 0.8f, 16);
        int rows = 3;
        int[] pos = {2, 9, 15};
        float[] x = TestData.gaussian(rnd, rows * nHeads * headDim, 1);
        float[] g = TestData.gaussian(rnd, rows * nHeads * headDim, 1);
        Tensor dx = Tensor.of(g.clone(), rows, nHeads * headDim);
        Rope.applyBackward(dx, pos, nHeads, headDim, table);
        GradCheck.check("rope", x, () -> {
            Tensor y = Tensor.of(x.clone(), rows, nHeads * headDim);
            Rope.apply(y, pos, nHeads, headDim, table);
            return GradCheck.dot(g, y.toFloatArray());
        }, dx.toFloatArray());

        // with scaling 1, backward is the exact inverse of forward (a rotation)
        RopeTable plain = new RopeTable(invFreq(headDim, 10000), 1f, 16);
        Tensor t = Tensor.of(x.clone(), rows, nHeads * headDim);
        Rope.apply(t, pos, nHeads, headDim, plain);
        Rope.applyBackward(t, pos, nHeads, headDim, plain);
        TestData.assertClose("rope inverse", x, t.toFloatArray(), 1e-5, 1e-6);
    }

    @Test
    void positionsOutsideTheTableAreRejected() {
        RopeTable table = new RopeTable(new float[] {1f}, 1f, 4);
        assertThatThrownBy(() -> Rope.apply(Tensor.zeros(1, 2), new int[] {4}, 1, 2, table))
                .hasMessageContaining("position 4");
        assertThatThrownBy(() -> Rope.apply(Tensor.zeros(1, 6), new int[] {0}, 2, 2, table))
                .hasMessageContaining("nHeads*headDim");
    }
}
