package dev.lora4j.classify;

import dev.lora4j.tensor.Tensor;

/**
 * Mean softmax cross-entropy over a batch of logits [B, K], optionally class-weighted, with its
 * gradient — PyTorch's {@code F.cross_entropy(logits, y, weight=w)} (reduction "mean"):
 * <pre>
 *   loss   = Σ_b w[y_b]·(−log softmax(z_b)[y_b]) / Σ_b w[y_b]
 *   dz_b,k = w[y_b]·(softmax(z_b)_k − [k = y_b]) / Σ_b w[y_b]
 * </pre>
 * Without weights every w is 1 and the denominator is B. The softmax is computed with the row's
 * maximum subtracted, in double (K is a handful of classes; this costs nothing).
 */
public final class WeightedCrossEntropy {
    private WeightedCrossEntropy() {}

    /** Returns the loss and writes dLogits [B, K] (overwritten). */
    public static double forwardBackward(Tensor logits, int[] targets, float[] weightsOrNull, Tensor dLogits) {
        int b = logits.dim(0);
        int k = logits.dim(1);
        double weightSum = 0;
        for (int r = 0; r < b; r++) {
            weightSum += weightsOrNull == null ? 1 : weightsOrNull[targets[r]];
        }
        double loss = 0;
        double[] p = new double[k];
        for (int r = 0; r < b; r++) {
            int y = targets[r];
            if (y < 0 || y >= k) {
                throw new IllegalArgumentException("target " + y + " of row " + r + " outside [0, " + k + ")");
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                max = Math.max(max, logits.get(r, c));
            }
            double sum = 0;
            for (int c = 0; c < k; c++) {
                p[c] = Math.exp(logits.get(r, c) - max);
                sum += p[c];
            }
            double w = weightsOrNull == null ? 1 : weightsOrNull[y];
            loss += w * -(logits.get(r, y) - max - Math.log(sum));
            if (dLogits != null) {
                for (int c = 0; c < k; c++) {
                    double g = p[c] / sum - (c == y ? 1 : 0);
                    dLogits.set((float) (w * g / weightSum), r, c);
                }
            }
        }
        return loss / weightSum;
    }
}
