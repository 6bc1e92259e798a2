package dev.lora4j.train;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.nn.TokenBatch;
import java.util.List;

/**
 * Examples right-padded into one {@link TokenBatch}, with next-token targets: row b·T + t is
 * trained to predict token t+1 of sequence b when that token is a target, else it is ignored
 * (padding, prompt tokens, the last position).
 */
public record Batch(TokenBatch tokens, int[] targets, int targetCount) {

    public static Batch of(List<Example> examples, int padId) {
        int b = examples.size();
        int seqLen = 0;
        for (Example e : examples) {
            seqLen = Math.max(seqLen, e.length());
        }
        int rows = b * seqLen;
        int[] ids = new int[rows];
        int[] mask = new int[rows];
        int[] targets = new int[rows];
        java.util.Arrays.fill(ids, padId);
        java.util.Arrays.fill(targets, CrossEntropy.IGNORE_INDEX);
        int count = 0;
        for (int i = 0; i < b; i++) {
            Example e = examples.get(i);
            int base = i * seqLen;
            for (int t = 0; t < e.length(); t++) {
                ids[base + t] = e.ids()[t];
                mask[base + t] = 1;
                if (t + 1 < e.length() && e.lossMask()[t + 1]) {
                    targets[base + t] = e.ids()[t + 1];
                    count++;
                }
            }
        }
        return new Batch(TokenBatch.of(b, seqLen, ids, mask, null), targets, count);
    }
}
