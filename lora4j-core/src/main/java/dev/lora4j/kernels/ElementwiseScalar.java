package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twins of {@link Elementwise}, element by element in logical order. */
public final class ElementwiseScalar {
    private ElementwiseScalar() {}

    public static void add(Tensor a, Tensor b, Tensor out) {
        for (long i = 0; i < a.numel(); i++) {
            out.setFlat(i, a.getFlat(i) + b.getFlat(i));
        }
    }

    public static void addInPlace(Tensor dst, Tensor src) {
        add(dst, src, dst);
    }

    public static void mul(Tensor a, Tensor b, Tensor out) {
        for (long i = 0; i < a.numel(); i++) {
            out.setFlat(i, a.getFlat(i) * b.getFlat(i));
        }
    }

    public static void scaleInPlace(Tensor t, float s) {
        for (long i = 0; i < t.numel(); i++) {
            t.setFlat(i, t.getFlat(i) * s);
        }
    }
}
