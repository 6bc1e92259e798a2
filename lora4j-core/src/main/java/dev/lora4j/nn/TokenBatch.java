package dev.lora4j.nn;

import java.util.List;

/**
 * A batch of token sequences laid out as {@code batchSize × seqLen} rows (row = b * seqLen + t).
 *
 * <p>{@code attentionMask[row]} is 1 for a real token and 0 for padding; padding keys are never
 * attended to. {@code positions[row]} is the position id fed to RoPE or the learned position table.
 * Like transformers' model forward, the default positions are 0..T-1 in every row whatever the
 * padding: right padding then needs nothing else, and for left padding the caller passes positions
 * that start at 0 on the first real token (cumsum(mask) - 1, as transformers' generate does), see
 * {@link #leftPaddedPositions}.
 */
public record TokenBatch(int batchSize, int seqLen, int[] tokenIds, int[] attentionMask, int[] positions) {

    public TokenBatch {
        int rows = Math.multiplyExact(batchSize, seqLen);
        if (tokenIds.length != rows || attentionMask.length != rows || positions.length != rows) {
            throw new IllegalArgumentException("batch " + batchSize + " x " + seqLen + " needs " + rows
                    + " token ids, mask entries and positions; got " + tokenIds.length + ", "
                    + attentionMask.length + ", " + positions.length);
        }
    }

    /** A batch with an optional mask (null: all ones) and optional positions (null: 0..T-1 per row). */
    public static TokenBatch of(int batchSize, int seqLen, int[] tokenIds, int[] maskOrNull, int[] positionsOrNull) {
        int rows = batchSize * seqLen;
        int[] mask = maskOrNull;
        if (mask == null) {
            mask = new int[rows];
            java.util.Arrays.fill(mask, 1);
        }
        int[] positions = positionsOrNull != null ? positionsOrNull : defaultPositions(batchSize, seqLen);
        return new TokenBatch(batchSize, seqLen, tokenIds, mask, positions);
    }

    /** Sequences of different lengths, right-padded with {@code padId} to the longest. */
    public static TokenBatch rightPadded(List<int[]> sequences, int padId) {
        int seqLen = 0;
        for (int[] s : sequences) {
            seqLen = Math.max(seqLen, s.length);
        }
        int b = sequences.size();
        int[] ids = new int[b * seqLen];
        int[] mask = new int[b * seqLen];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            int[] s = sequences.get(i);
            System.arraycopy(s, 0, ids, i * seqLen, s.length);
            java.util.Arrays.fill(mask, i * seqLen, i * seqLen + s.length, 1);
        }
        return new TokenBatch(b, seqLen, ids, mask, defaultPositions(b, seqLen));
    }

    /** 0..T-1 in every row. */
    public static int[] defaultPositions(int batchSize, int seqLen) {
        int[] p = new int[batchSize * seqLen];
        for (int i = 0; i < p.length; i++) {
            p[i] = i % seqLen;
        }
        return p;
    }

    /** cumsum(mask) - 1 clamped at 0 per row: the first real token of a left-padded row is position 0. */
    public static int[] leftPaddedPositions(int batchSize, int seqLen, int[] mask) {
        int[] p = new int[batchSize * seqLen];
        for (int b = 0; b < batchSize; b++) {
            int seen = 0;
            for (int t = 0; t < seqLen; t++) {
                seen += mask[b * seqLen + t];
                p[b * seqLen + t] = Math.max(seen - 1, 0);
            }
        }
        return p;
    }

    public int rows() {
        return batchSize * seqLen;
    }

    public int maxPosition() {
        int m = 0;
        for (int p : positions) {
            m = Math.max(m, p);
        }
        return m;
    }
}
