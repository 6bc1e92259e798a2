package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twin of {@link LayerNorm}. */
public final class LayerNormScalar {
    private LayerNormScalar() {}

    public static void forward(Tensor x, Tensor weight, Tensor biasOrNull, float eps, Tensor y, float[] mean, float[] invStd) {
        int rows = x.dim(0);
        int d = x.dim(1);
        for (int r = 0; r < rows; r++) {
            float sum = 0;
            for (int i = 0; i < d; i++) {
                sum += x.get(r, i);
            }
            float mu = sum / d;
            float ss = 0;
            for (int i = 0; i < d; i++) {
                float c = x.get(r, i) - mu;
                ss += c * c;
            }
            float s = (float) (1.0 / Math.sqrt((double) ss / d + eps));
            if (mean != null) {
                mean[r] = mu;
            }
            if (invStd != null) {
                invStd[r] = s;
            }
            for (int i = 0; i < d; i++) {
                float w = weight == null ? 1f : weight.get(i);
                float b = biasOrNull == null ? 0f : biasOrNull.get(i);
                y.set((x.get(r, i) - mu) * s * w + b, r, i);
            }
        }
    }

    public static void backward(Tensor dy, Tensor x, Tensor weight, float[] mean, float[] invStd,
                                Tensor dx, Tensor dWeightOrNull, Tensor dBiasOrNull) {
        int rows = x.dim(0);
        int d = x.dim(1);
        for (int r = 0; r < rows; r++) {
            float s = invStd[r];
            float mg = 0;
            float mgx = 0;
            for (int i = 0; i < d; i++) {
                float g = dy.get(r, i) * (weight == null ? 1f : weight.get(i));
                float xhat = (x.get(r, i) - mean[r]) * s;
                mg += g;
                mgx += g * xhat;
            }
            mg /= d;
            mgx /= d;
            for (int i = 0; i < d; i++) {
                float g = dy.get(r, i) * (weight == null ? 1f : weight.get(i));
                float xhat = (x.get(r, i) - mean[r]) * s;
                dx.set(s * (g - mg - xhat * mgx), r, i);
                if (dWeightOrNull != null) {
                    dWeightOrNull.set(dWeightOrNull.get(i) + dy.get(r, i) * xhat, i);
                }
                if (dBiasOrNull != null) {
                    dBiasOrNull.set(dBiasOrNull.get(i) + dy.get(r, i), i);
                }
            }
        }
    }
}
