package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/** Plain scalar twin of {@link CrossEntropy}. */
public final class CrossEntropyScalar {
    private CrossEntropyScalar() {}

    public static double forwardBackward(Tensor logits, int[] targets, Tensor dlogitsOrNull, float gradScale) {
        int rows = logits.dim(0);
        int v = logits.dim(1);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t == CrossEntropy.IGNORE_INDEX) {
                for (int i = 0; dlogitsOrNull != null && i < v; i++) {
                    dlogitsOrNull.set(0f, r, i);
                }
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < v; i++) {
                max = Math.max(max, logits.get(r, i));
            }
            float sum = 0;
            for (int i = 0; i < v; i++) {
                sum += (float) Math.exp(logits.get(r, i) - max);
            }
            float target = logits.get(r, t);
            total += max + Math.log(sum) - target;
            for (int i = 0; dlogitsOrNull != null && i < v; i++) {
                float p = (float) Math.exp(logits.get(r, i) - max) / sum;
                dlogitsOrNull.set(gradScale * (p - (i == t ? 1f : 0f)), r, i);
            }
        }
        return total;
    }
}
