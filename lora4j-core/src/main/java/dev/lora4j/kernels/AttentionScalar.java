package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;

/**
 * Plain scalar twin of {@link Attention}: for each (sequence, head, query) the full score row,
 * its softmax, and the weighted sums, written out directly. The backward recomputes the softmax
 * from the scores (it does not trust the saved log-sum-exp), which makes it an independent check.
 */
public final class AttentionScalar {
    private AttentionScalar() {}

    public static void forward(Tensor q, Tensor k, Tensor v, Tensor out, int batch, int tq, int tk, int nHeads,
                               int nKvHeads, int headDim, boolean causal, int[] keyMask, float scale, float[] lse) {
        int group = nHeads / nKvHeads;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group;
                for (int i = 0; i < tq; i++) {
                    float[] p = probabilities(q, k, b, h, kvh, i, tq, tk, headDim, causal, keyMask, scale);
                    for (int d = 0; d < headDim; d++) {
                        float o = 0;
                        for (int j = 0; j < tk; j++) {
                            o += p[j] * v.get(b * tk + j, kvh * headDim + d);
                        }
                        out.set(o, b * tq + i, h * headDim + d);
                    }
                    if (lse != null) {
                        lse[(b * nHeads + h) * tq + i] = p[tk];
                    }
                }
            }
        }
    }

    /** Softmax over the visible keys of query i (zeros elsewhere); element [tk] holds the log-sum-exp. */
    private static float[] probabilities(Tensor q, Tensor k, int b, int h, int kvh, int i, int tq, int tk, int headDim,
                                         boolean causal, int[] keyMask, float scale) {
        float[] s = new float[tk + 1];
        boolean[] visible = new boolean[tk];
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < tk; j++) {
            visible[j] = (!causal || j <= tk - tq + i) && (keyMask == null || keyMask[b * tk + j] != 0);
            if (visible[j]) {
                float dot = 0;
                for (int d = 0; d < headDim; d++) {
                    dot += q.get(b * tq + i, h * headDim + d) * k.get(b * tk + j, kvh * headDim + d);
                }
                s[j] = scale * dot;
                max = Math.max(max, s[j]);
            }
        }
        if (max == Float.NEGATIVE_INFINITY) {
            s[tk] = Float.NEGATIVE_INFINITY;
            java.util.Arrays.fill(s, 0, tk, 0f);
            return s;
        }
        float sum = 0;
        for (int j = 0; j < tk; j++) {
            s[j] = visible[j] ? (float) Math.exp(s[j] - max) : 0f;
            sum += s[j];
        }
        for (int j = 0; j < tk; j++) {
            s[j] /= sum;
        }
        s[tk] = max + (float) Math.log(sum);
        return s;
    }

    public static void backward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, float[] lse,
                                Tensor dq, Tensor dk, Tensor dv, int batch, int tq, int tk, int nHeads,
                                int nKvHeads, int headDim, boolean causal, int[] keyMask, float scale) {
        int group = nHeads / nKvHeads;
        dk.fill(0f);
        dv.fill(0f);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group;
                for (int i = 0; i < tq; i++) {
                    int qr = b * tq + i;
                    float[] p = probabilities(q, k, b, h, kvh, i, tq, tk, headDim, causal, keyMask, scale);
                    float[] dp = new float[tk];
                    float dDot = 0;  // Σ_j p_j dp_j
                    for (int j = 0; j < tk; j++) {
                        for (int d = 0; d < headDim; d++) {
                            dp[j] += dout.get(qr, h * headDim + d) * v.get(b * tk + j, kvh * headDim + d);
                        }
                        dDot += p[j] * dp[j];
                    }
                    for (int d = 0; d < headDim; d++) {
                        float dqd = 0;
                        for (int j = 0; j < tk; j++) {
                            float ds = p[j] * (dp[j] - dDot);
                            int kr = b * tk + j;
                            int c = kvh * headDim + d;
                            dqd += ds * k.get(kr, c);
                            dk.set(dk.get(kr, c) + scale * ds * q.get(qr, h * headDim + d), kr, c);
                            dv.set(dv.get(kr, c) + p[j] * dout.get(qr, h * headDim + d), kr, c);
                        }
                        dq.set(scale * dqd, qr, h * headDim + d);
                    }
                }
            }
        }
    }
}
