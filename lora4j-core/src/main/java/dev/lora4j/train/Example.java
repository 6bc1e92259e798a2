package dev.lora4j.train;

/**
 * One training sequence: token ids and, per position, whether the model is trained to predict that
 * token ({@code lossMask[t]} true means token t is a target, predicted from positions before it).
 * For plain text every token but the first is a target; for prompt/completion data only the
 * completion's tokens are.
 */
public record Example(int[] ids, boolean[] lossMask) {
    public Example {
        if (ids.length != lossMask.length) {
            throw new IllegalArgumentException("ids and loss mask differ in length");
        }
    }

    public static Example allTokens(int[] ids) {
        boolean[] mask = new boolean[ids.length];
        for (int t = 1; t < ids.length; t++) {
            mask[t] = true;
        }
        return new Example(ids, mask);
    }

    public static Example promptCompletion(int[] prompt, int[] completion) {
        int[] ids = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        boolean[] mask = new boolean[ids.length];
        for (int t = Math.max(prompt.length, 1); t < ids.length; t++) {
            mask[t] = true;
        }
        return new Example(ids, mask);
    }

    public int length() {
        return ids.length;
    }

    /** The first {@code n} tokens (sequences longer than the training length are cut). */
    public Example truncate(int n) {
        if (ids.length <= n) {
            return this;
        }
        return new Example(java.util.Arrays.copyOf(ids, n), java.util.Arrays.copyOf(lossMask, n));
    }

    public int targetCount() {
        int n = 0;
        for (boolean b : lossMask) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
