package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twin of {@link RmsNorm}: the formulas written out element by element. */
public final class RmsNormScalar {
    private RmsNormScalar() {}

    public static void forward(Tensor x, Tensor weight, float eps, Tensor y, float[] invRms) {
        int rows = x.dim(0);
        int d = x.dim(1);
        for (int r = 0; r < rows; r++) {
            float ss = 0;
            for (int i = 0; i < d; i++) {
                ss += x.get(r, i) * x.get(r, i);
            }
            float inv = (float) (1.0 / Math.sqrt((double) ss / d + eps));
            if (invRms != null) {
                invRms[r] = inv;
            }
            for (int i = 0; i < d; i++) {
                y.set(x.get(r, i) * inv * weight.get(i), r, i);
            }
        }
    }

    public static void backward(Tensor dy, Tensor x, Tensor weight, float[] invRms, Tensor dx, Tensor dWeightOrNull) {
        int rows = x.dim(0);
        int d = x.dim(1);
        for (int r = 0; r < rows; r++) {
            float inv = invRms[r];
            float gxhat = 0;  // ⟨dy ⊙ w, x̂⟩
            for (int i = 0; i < d; i++) {
                gxhat += dy.get(r, i) * weight.get(i) * x.get(r, i) * inv;
            }
            for (int i = 0; i < d; i++) {
                float xhat = x.get(r, i) * inv;
                float g = dy.get(r, i) * weight.get(i);
                dx.set(inv * (g - xhat * gxhat / d), r, i);
                if (dWeightOrNull != null) {
                    dWeightOrNull.set(dWeightOrNull.get(i) + dy.get(r, i) * xhat, i);
                }
            }
        }
    }
}
