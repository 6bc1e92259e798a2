package dev.lora4j.nn;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * Keys and values of the tokens seen so far, per attention layer, for incremental decoding: a
 * prompt is run once (prefill), then each new token attends to the cached keys and values instead
 * of recomputing them.
 *
 * <p>Each sequence owns its slots ({@link Sequence}: per layer a [capacity, kvWidth] key and value
 * buffer, and how many slots are filled). A {@code KvCache} is the set of sequences one forward step
 * runs over, in the step's row order. {@code lora4j generate} makes one cache of B equal sequences
 * that advance together; the server keeps a {@link Sequence} per request and groups whichever are
 * running into a cache for each step, so sequences of different lengths decode side by side and
 * join or leave between steps. A slot whose token was padding (left padding of a shorter prompt)
 * is masked out of attention for good. Keys are stored after RoPE, so a cached key never needs its
 * position again.
 *
 * <p>A forward step calls {@link #beginStep} once, every layer writes its chunk with
 * {@link #append}, and {@link #endStep} makes the chunk part of each sequence's past.
 */
public final class KvCache {
    private final Sequence[] sequences;
    private int stepLength;

    /** One sequence's cached keys and values, for every layer. */
    public static final class Sequence {
        private final int capacity;
        private final int kvWidth;
        private final Tensor[] keys;
        private final Tensor[] values;
        private final int[] keyMask;
        private int length;

        public Sequence(int numLayers, int capacity, int kvWidth) {
            if (numLayers <= 0 || capacity <= 0 || kvWidth <= 0) {
                throw new IllegalArgumentException("KV cache needs positive layers, capacity and width; got "
                        + numLayers + ", " + capacity + ", " + kvWidth);
            }
            this.capacity = capacity;
            this.kvWidth = kvWidth;
            this.keys = new Tensor[numLayers];
            this.values = new Tensor[numLayers];
            for (int i = 0; i < numLayers; i++) {
                keys[i] = Buffers.f32(capacity, kvWidth);
                values[i] = Buffers.f32(capacity, kvWidth);
            }
            this.keyMask = new int[capacity];
        }

        /** Bytes of keys and values a sequence of this shape holds: what a KV budget counts. */
        public static long bytes(int numLayers, int capacity, int kvWidth) {
            return 2L * numLayers * capacity * kvWidth * Float.BYTES;
        }

        public long bytes() {
            return bytes(keys.length, capacity, kvWidth);
        }

        public int capacity() {
            return capacity;
        }

        /** Slots filled (padding slots included). */
        public int length() {
            return length;
        }
    }

    /** {@code batchSize} empty sequences of {@code capacity} slots each, advancing together. */
    public KvCache(int numLayers, int batchSize, int capacity, int kvWidth) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("KV cache needs a positive batch size, got " + batchSize);
        }
        this.sequences = new Sequence[batchSize];
        for (int b = 0; b < batchSize; b++) {
            sequences[b] = new Sequence(numLayers, capacity, kvWidth);
        }
    }

    private KvCache(Sequence[] sequences) {
        this.sequences = sequences;
    }

    /** A step over existing sequences (row b of the step is {@code sequences.get(b)}), each at its own length. */
    public static KvCache over(List<Sequence> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a KV-cache step needs at least one sequence");
        }
        if (new java.util.HashSet<>(sequences).size() != sequences.size()) {
            throw new IllegalArgumentException("a sequence appears twice in one KV-cache step");
        }
        return new KvCache(sequences.toArray(new Sequence[0]));
    }

    public int batchSize() {
        return sequences.length;
    }

    public Sequence sequence(int b) {
        return sequences[b];
    }

    /** Slots filled by the longest sequence (all of them, when they advance together). */
    public int length() {
        int max = 0;
        for (Sequence s : sequences) {
            max = Math.max(max, s.length);
        }
        return max;
    }

    /** Starts a forward step over {@code chunk}: sequence b's tokens take its slots length .. length + seqLen − 1. */
    public void beginStep(TokenBatch chunk) {
        if (chunk.batchSize() != sequences.length) {
            throw new IllegalArgumentException("chunk has " + chunk.batchSize() + " sequences but the KV cache step has "
                    + sequences.length);
        }
        int t = chunk.seqLen();
        for (Sequence s : sequences) {
            if (s.length + t > s.capacity) {
                throw new IllegalArgumentException("KV cache is full: " + s.length + " + " + t
                        + " tokens exceed its capacity of " + s.capacity);
            }
        }
        for (int b = 0; b < sequences.length; b++) {
            System.arraycopy(chunk.attentionMask(), b * t, sequences[b].keyMask, sequences[b].length, t);
        }
        stepLength = t;
    }

    /** Makes the current step's slots part of each sequence's past. */
    public void endStep() {
        for (Sequence s : sequences) {
            s.length += stepLength;
        }
        stepLength = 0;
    }

    /** Keys visible to sequence b in the current step: its past plus the step's own tokens. */
    public int visibleLength(int b) {
        return sequences[b].length + stepLength;
    }

    /**
     * Copies the step's keys and values (rows b·T + i of {@code k} and {@code v}, T = step length)
     * into layer {@code layer}'s slots of each sequence.
     */
    public void append(int layer, Tensor k, Tensor v) {
        for (int b = 0; b < sequences.length; b++) {
            copyRows(k, b, sequences[b].keys[layer], sequences[b]);
            copyRows(v, b, sequences[b].values[layer], sequences[b]);
        }
    }

    private void copyRows(Tensor src, int b, Tensor dst, Sequence s) {
        if (src.dtype() != DType.F32 || src.rank() != 2 || src.dim(0) != sequences.length * stepLength
                || src.dim(1) != s.kvWidth || src.stride(1) != 1) {
            throw new IllegalArgumentException("KV cache append: expected F32 [" + sequences.length * stepLength + ", "
                    + s.kvWidth + "] with unit column stride, got " + src);
        }
        MemorySegment from = src.data();
        MemorySegment to = dst.data();
        long rowBytes = (long) s.kvWidth * Float.BYTES;
        for (int i = 0; i < stepLength; i++) {
            long srcAt = (src.offset() + (long) (b * stepLength + i) * src.stride(0)) * Float.BYTES;
            long dstAt = (dst.offset() + (long) (s.length + i) * dst.stride(0)) * Float.BYTES;
            MemorySegment.copy(from, srcAt, to, dstAt, rowBytes);
        }
    }

    /** Sequence b's keys of layer {@code layer}, slots 0 .. visibleLength(b) − 1, as [visible, kvWidth]. */
    public Tensor keys(int layer, int b) {
        return sequences[b].keys[layer].slice(0, 0, visibleLength(b));
    }

    public Tensor values(int layer, int b) {
        return sequences[b].values[layer].slice(0, 0, visibleLength(b));
    }

    /** Sequence b's key mask over slots 0 .. visibleLength(b) − 1 (1 = real token, 0 = padding). */
    public int[] keyMask(int b) {
        return Arrays.copyOf(sequences[b].keyMask, visibleLength(b));
    }

    /** Whether every visible slot of sequence b holds a real token (no mask needed). */
    public boolean allVisible(int b) {
        int[] mask = sequences[b].keyMask;
        for (int j = 0, end = visibleLength(b); j < end; j++) {
            if (mask[j] == 0) {
                return false;
            }
        }
        return true;
    }
}
