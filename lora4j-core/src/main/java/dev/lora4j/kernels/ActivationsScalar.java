package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/**
 * Plain scalar twins of {@link Activations} (one element at a time, {@code Math.exp/tanh}); the
 * tests compare the vectorized kernels against these. Also used for the row tails of the
 * vectorized kernels.
 */
public final class ActivationsScalar {
    private ActivationsScalar() {}

    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    static float siluDerivative(float x) {
        float s = sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    static float geluErf(float x) {
        return 0.5f * x * Erf.erfc(-x * Activations.SQRT_HALF);
    }

    static float geluErfDerivative(float x) {
        float cdf = 0.5f * Erf.erfc(-x * Activations.SQRT_HALF);
        float pdf = (float) Math.exp(-0.5f * x * x) * Activations.INV_SQRT_2PI;
        return cdf + x * pdf;
    }

    static float geluTanh(float x) {
        float u = Activations.SQRT_2_OVER_PI * (x + Activations.GELU_TANH_C * x * x * x);
        return 0.5f * x * (1f + (float) Math.tanh(u));
    }

    /** In double, as σ-form: d/dx x·σ(2u) — the plain 1 − tanh² form cancels to garbage for x ≲ −4 in float. */
    static float geluTanhDerivative(float x) {
        double u = Activations.SQRT_2_OVER_PI * (x + Activations.GELU_TANH_C * (double) x * x * x);
        double s = 1 / (1 + Math.exp(-2 * u));
        double du = Activations.SQRT_2_OVER_PI * (1 + 3 * Activations.GELU_TANH_C * (double) x * x);
        return (float) (s + x * 2 * s * (1 - s) * du);
    }

    public static void silu(Tensor x, Tensor y) {
        unary(x, y, ActivationsScalar::silu);
    }

    public static void siluBackward(Tensor x, Tensor dy, Tensor dx) {
        binary(x, dy, dx, ActivationsScalar::siluDerivative);
    }

    public static void geluErf(Tensor x, Tensor y) {
        unary(x, y, ActivationsScalar::geluErf);
    }

    public static void geluErfBackward(Tensor x, Tensor dy, Tensor dx) {
        binary(x, dy, dx, ActivationsScalar::geluErfDerivative);
    }

    public static void geluTanh(Tensor x, Tensor y) {
        unary(x, y, ActivationsScalar::geluTanh);
    }

    public static void geluTanhBackward(Tensor x, Tensor dy, Tensor dx) {
        binary(x, dy, dx, ActivationsScalar::geluTanhDerivative);
    }

    private interface F {
        float apply(float x);
    }

    private static void unary(Tensor x, Tensor y, F f) {
        long n = x.numel();
        for (long i = 0; i < n; i++) {
            y.setFlat(i, f.apply(x.getFlat(i)));
        }
    }

    private static void binary(Tensor x, Tensor dy, Tensor dx, F derivative) {
        long n = x.numel();
        for (long i = 0; i < n; i++) {
            dx.setFlat(i, dy.getFlat(i) * derivative.apply(x.getFlat(i)));
        }
    }
}
