package dev.lora4j.tensor;

import java.util.Arrays;

/** Helpers for shapes (int[] dims) and row-major strides. */
public final class Shape {
    private Shape() {}

    public static long numel(int... dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Row-major (C order) strides, in elements. */
    public static long[] contiguousStrides(int... dims) {
        long[] strides = new long[dims.length];
        long s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= dims[i];
        }
        return strides;
    }

    public static String toString(int... dims) {
        return Arrays.toString(dims);
    }
}
