package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twin of {@link Softmax}. */
public final class SoftmaxScalar {
    private SoftmaxScalar() {}

    public static void forward(Tensor x, Tensor y) {
        int rows = x.dim(0);
        int n = x.dim(1);
        for (int r = 0; r < rows; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x.get(r, i));
            }
            float sum = 0;
            float[] e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = (float) Math.exp(x.get(r, i) - max);
                sum += e[i];
            }
            for (int i = 0; i < n; i++) {
                y.set(e[i] / sum, r, i);
            }
        }
    }

    public static void backward(Tensor y, Tensor dy, Tensor dx) {
        int rows = y.dim(0);
        int n = y.dim(1);
        for (int r = 0; r < rows; r++) {
            float dot = 0;
            for (int i = 0; i < n; i++) {
                dot += y.get(r, i) * dy.get(r, i);
            }
            for (int i = 0; i < n; i++) {
                dx.set(y.get(r, i) * (dy.get(r, i) - dot), r, i);
            }
        }
    }
}
