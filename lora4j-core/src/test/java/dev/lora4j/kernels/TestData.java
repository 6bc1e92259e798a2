package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.fail;

import dev.lora4j.tensor.Tensor;
import java.util.Random;

/** Random inputs, strided row views and closeness checks shared by the kernel tests. */
final class TestData {
    private TestData() {}

    /** Column counts around the vector length: tails shorter than a vector, exact fits, odd sizes. */
    static int[] widths() {
        int l = Vec.L;
        return new int[] {1, 3, l - 1, l, l + 1, 2 * l + 5, 67};
    }

    static float[] uniform(Random rnd, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return a;
    }

    static float[] gaussian(Random rnd, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * sd);
        }
        return a;
    }

    /**
     * An [rows, cols] view into a wider random buffer: rows are {@code cols + 5} apart and start at
     * column 2, so kernels must honour row stride and offset.
     */
    static Tensor rowView(Random rnd, int rows, int cols) {
        int wide = cols + 5;
        Tensor buf = Tensor.of(gaussian(rnd, rows * wide, 1.0), rows, wide);
        return buf.slice(1, 2, 2 + cols);
    }

    /** A contiguous copy of a tensor's values (heap F32). */
    static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** Asserts |e − a| ≤ atol + rtol·|e| element-wise, naming the worst element. */
    static void assertClose(String what, float[] expected, float[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + " != " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (Double.isNaN(a) || Math.abs(e - a) > atol + rtol * Math.abs(e)) {
                fail(String.format("%s: element %d expected %.8g got %.8g", what, i, e, a));
            }
        }
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        assertClose(what, expected.toFloatArray(), actual.toFloatArray(), rtol, atol);
    }
}
