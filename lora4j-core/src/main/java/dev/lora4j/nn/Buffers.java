package dev.lora4j.nn;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * Activation buffers: 64-byte aligned, off-heap F32 matrices, so that every kernel (including those
 * reading through the Vector API) can use them directly.
 *
 * <p>Each layer keeps its buffers and reuses them while the batch shape stays the same: a training
 * loop then allocates nothing per step, and off-heap memory (which the garbage collector frees only
 * when heap pressure makes it run) stays flat. The price is the usual one of llm.c-style layers: what
 * a forward or backward call returns is valid until the same layer runs again.
 */
public final class Buffers {
    private Buffers() {}

    public static Tensor f32(int rows, int cols) {
        return Tensor.allocate(Arena.ofAuto(), DType.F32, rows, cols);
    }

    /**
     * {@code buffer} when it already has this shape, else a new one. The content is not cleared:
     * callers overwrite it completely (kernels called with accumulate = false).
     */
    public static Tensor reuse(Tensor buffer, int rows, int cols) {
        if (buffer != null && buffer.dim(0) == rows && buffer.dim(1) == cols) {
            return buffer;
        }
        return f32(rows, cols);
    }

    /** {@code array} when it has length {@code n}, else a new one; not cleared. */
    public static float[] reuse(float[] array, int n) {
        return array != null && array.length == n ? array : new float[n];
    }
}
