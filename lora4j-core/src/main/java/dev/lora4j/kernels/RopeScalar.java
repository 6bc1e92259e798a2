package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twin of {@link Rope}. */
public final class RopeScalar {
    private RopeScalar() {}

    public static void apply(Tensor x, int[] positions, int nHeads, int headDim, RopeTable t) {
        rotate(x, positions, nHeads, headDim, t, 1f);
    }

    public static void applyBackward(Tensor dx, int[] positions, int nHeads, int headDim, RopeTable t) {
        rotate(dx, positions, nHeads, headDim, t, -1f);
    }

    private static void rotate(Tensor x, int[] positions, int nHeads, int headDim, RopeTable t, float sign) {
        int h = t.half();
        for (int r = 0; r < x.dim(0); r++) {
            for (int head = 0; head < nHeads; head++) {
                int base = head * headDim;
                for (int j = 0; j < h; j++) {
                    float c = t.cos(positions[r], j);
                    float s = sign * t.sin(positions[r], j);
                    float a = x.get(r, base + j);
                    float b = x.get(r, base + h + j);
                    x.set(a * c - b * s, r, base + j);
                    x.set(b * c + a * s, r, base + h + j);
                }
            }
        }
    }
}
