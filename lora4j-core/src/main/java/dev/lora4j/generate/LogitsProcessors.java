package dev.lora4j.generate;

import java.util.Arrays;

/**
 * The transformations of one sequence's next-token logits that precede the choice of a token, with
 * transformers' semantics. Each works in place on a row of logits; a removed token gets −∞, so its
 * probability after softmax is exactly 0. The filters keep at least one token, like transformers
 * with its default {@code min_tokens_to_keep = 1}.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {}

    /**
     * CTRL's repetition penalty as transformers applies it: every token id that occurs in
     * {@code seen} (the sequence so far, prompt included) has its logit divided by the penalty when
     * positive and multiplied by it when negative, once however often it occurs.
     */
    public static void repetitionPenalty(float[] logits, boolean[] seen, float penalty) {
        for (int id = 0; id < logits.length; id++) {
            if (seen[id]) {
                float s = logits[id];
                logits[id] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }

    public static void temperature(float[] logits, float temperature) {
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= temperature;
        }
    }

    /** Keeps the tokens whose logit is at least the k-th largest (ties with it survive, as in transformers). */
    public static void topK(float[] logits, int k) {
        if (k <= 0 || k >= logits.length) {
            return;
        }
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float kth = sorted[sorted.length - k];
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] < kth) {
                logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * Nucleus filtering: sorting ascending and accumulating probabilities, a token is removed while
     * the running sum (including itself) is ≤ 1 − p; the most likely token always stays.
     */
    public static void topP(float[] logits, float p) {
        if (p >= 1f) {
            return;
        }
        int[] order = ascendingOrder(logits);
        double[] probs = softmax(logits);
        double cumulative = 0;
        float threshold = 1f - p;
        for (int r = 0; r < order.length - 1; r++) {   // the last (most likely) token is always kept
            int id = order[r];
            cumulative += probs[id];
            if ((float) cumulative <= threshold) {
                logits[id] = Float.NEGATIVE_INFINITY;
            } else {
                break;   // the running sum only grows: no later token is removed
            }
        }
    }

    /** Removes tokens whose probability is below {@code minP} times the most likely token's probability. */
    public static void minP(float[] logits, float minP) {
        if (minP <= 0f) {
            return;
        }
        double[] probs = softmax(logits);
        int top = argmax(logits);
        double threshold = minP * probs[top];
        for (int i = 0; i < logits.length; i++) {
            if (i != top && probs[i] < threshold) {
                logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Index of the largest logit; the first one on ties (as torch.argmax). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** softmax in double precision; −∞ logits get probability 0. */
    public static double[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Token ids ordered by increasing logit (ties by id, a stable order). */
    static int[] ascendingOrder(float[] logits) {
        Integer[] boxed = new Integer[logits.length];
        for (int i = 0; i < boxed.length; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Float.compare(logits[a], logits[b]));
        int[] order = new int[boxed.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = boxed[i];
        }
        return order;
    }
}
