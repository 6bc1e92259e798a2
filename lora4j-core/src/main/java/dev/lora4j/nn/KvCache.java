package dev.lora4j.nn;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Keys and values of the tokens seen so far, per attention layer, for incremental decoding: a
 * prompt is run once (prefill), then each new token attends to the cached keys and values instead
 * of recomputing them.
 *
 * <p>All sequences of the batch advance together: the cache holds {@link #length()} slots per
 * sequence, sequence b's slot j at row {@code b·capacity + j} of each layer's [batch·capacity,
 * kvHeads·headDim] key and value buffers. A slot whose token was padding (left padding of a
 * shorter prompt) is masked out of attention for good. Keys are stored after RoPE, so a cached
 * key never needs its position again.
 *
 * <p>A forward step calls {@link #beginStep} once, every layer writes its chunk with
 * {@link #append}, and {@link #endStep} makes the chunk part of the past.
 */
public final class KvCache {
    private final int batchSize;
    private final int capacity;
    private final int kvWidth;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int[] keyMask;
    private int length;
    private int stepLength;

    public KvCache(int numLayers, int batchSize, int capacity, int kvWidth) {
        if (numLayers <= 0 || batchSize <= 0 || capacity <= 0 || kvWidth <= 0) {
            throw new IllegalArgumentException("KV cache needs positive layers, batch, capacity and width; got "
                    + numLayers + ", " + batchSize + ", " + capacity + ", " + kvWidth);
        }
        this.batchSize = batchSize;
        this.capacity = capacity;
        this.kvWidth = kvWidth;
        this.keys = new Tensor[numLayers];
        this.values = new Tensor[numLayers];
        int rows = Math.multiplyExact(batchSize, capacity);
        for (int i = 0; i < numLayers; i++) {
            keys[i] = Buffers.f32(rows, kvWidth);
            values[i] = Buffers.f32(rows, kvWidth);
        }
        this.keyMask = new int[rows];
    }

    public int batchSize() {
        return batchSize;
    }

    public int capacity() {
        return capacity;
    }

    /** Slots filled per sequence (padding slots included). */
    public int length() {
        return length;
    }

    /** Starts a forward step over {@code chunk}: its tokens take slots length .. length + seqLen − 1. */
    public void beginStep(TokenBatch chunk) {
        if (chunk.batchSize() != batchSize) {
            throw new IllegalArgumentException("chunk has " + chunk.batchSize() + " sequences but the KV cache was made for "
                    + batchSize);
        }
        if (length + chunk.seqLen() > capacity) {
            throw new IllegalArgumentException("KV cache is full: " + length + " + " + chunk.seqLen()
                    + " tokens exceed its capacity of " + capacity);
        }
        int t = chunk.seqLen();
        for (int b = 0; b < batchSize; b++) {
            System.arraycopy(chunk.attentionMask(), b * t, keyMask, b * capacity + length, t);
        }
        stepLength = t;
    }

    /** Makes the current step's slots part of the past. */
    public void endStep() {
        length += stepLength;
        stepLength = 0;
    }

    /** Keys visible to the current step: past plus the step's own tokens. */
    public int visibleLength() {
        return length + stepLength;
    }

    /**
     * Copies the step's keys and values (rows b·T + i of {@code k} and {@code v}, T = step length)
     * into layer {@code layer}'s slots.
     */
    public void append(int layer, Tensor k, Tensor v) {
        copyRows(k, keys[layer]);
        copyRows(v, values[layer]);
    }

    private void copyRows(Tensor src, Tensor dst) {
        if (src.dtype() != DType.F32 || src.rank() != 2 || src.dim(0) != batchSize * stepLength
                || src.dim(1) != kvWidth || src.stride(1) != 1) {
            throw new IllegalArgumentException("KV cache append: expected F32 [" + batchSize * stepLength + ", " + kvWidth
                    + "] with unit column stride, got " + src);
        }
        MemorySegment from = src.data();
        MemorySegment to = dst.data();
        long rowBytes = (long) kvWidth * Float.BYTES;
        for (int b = 0; b < batchSize; b++) {
            for (int i = 0; i < stepLength; i++) {
                long srcAt = (src.offset() + (long) (b * stepLength + i) * src.stride(0)) * Float.BYTES;
                long dstAt = (dst.offset() + (long) (b * capacity + length + i) * dst.stride(0)) * Float.BYTES;
                MemorySegment.copy(from, srcAt, to, dstAt, rowBytes);
            }
        }
    }

    /** Sequence b's keys of layer {@code layer}, slots 0 .. visibleLength − 1, as [visible, kvWidth]. */
    public Tensor keys(int layer, int b) {
        return keys[layer].slice(0, b * capacity, b * capacity + visibleLength());
    }

    public Tensor values(int layer, int b) {
        return values[layer].slice(0, b * capacity, b * capacity + visibleLength());
    }

    /** Sequence b's key mask over slots 0 .. visibleLength − 1 (1 = real token, 0 = padding). */
    public int[] keyMask(int b) {
        return Arrays.copyOfRange(keyMask, b * capacity, b * capacity + visibleLength());
    }

    /** Whether every visible slot of sequence b holds a real token (no mask needed). */
    public boolean allVisible(int b) {
        for (int j = b * capacity, end = j + visibleLength(); j < end; j++) {
            if (keyMask[j] == 0) {
                return false;
            }
        }
        return true;
    }
}
