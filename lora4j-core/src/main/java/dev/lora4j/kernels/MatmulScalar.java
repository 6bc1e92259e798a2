package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/**
 * Plain-loop twin of {@link Matmul}, the reference its tests compare against. It reads every
 * element through {@link Tensor#get} (so strides and dtypes are handled by the tensor itself, not by
 * the code under test) and sums in double, so its own rounding error is negligible next to the
 * float kernel's. Shapes are not validated here; tests call it with the shapes they gave Matmul.
 */
public final class MatmulScalar {
    private MatmulScalar() {}

    /** y[M,N] (+)= x[M,K] · w[N,K]ᵀ. */
    public static void forward(Tensor x, Tensor w, Tensor y, boolean accumulate) {
        int m = x.dim(0);
        int k = x.dim(1);
        int n = w.dim(0);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = accumulate ? y.get(i, j) : 0.0;
                for (int p = 0; p < k; p++) {
                    s += (double) x.get(i, p) * w.get(j, p);
                }
                y.set((float) s, i, j);
            }
        }
    }

    /** dx[M,K] (+)= dy[M,N] · w[N,K]. */
    public static void backwardInput(Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        int m = dy.dim(0);
        int n = dy.dim(1);
        int k = w.dim(1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                double s = accumulate ? dx.get(i, j) : 0.0;
                for (int p = 0; p < n; p++) {
                    s += (double) dy.get(i, p) * w.get(p, j);
                }
                dx.set((float) s, i, j);
            }
        }
    }

    /** dw[N,K] (+)= dy[M,N]ᵀ · x[M,K]. */
    public static void backwardWeight(Tensor dy, Tensor x, Tensor dw, boolean accumulate) {
        int m = dy.dim(0);
        int n = dy.dim(1);
        int k = x.dim(1);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double s = accumulate ? dw.get(i, j) : 0.0;
                for (int p = 0; p < m; p++) {
                    s += (double) dy.get(p, i) * x.get(p, j);
                }
                dw.set((float) s, i, j);
            }
        }
    }
}
