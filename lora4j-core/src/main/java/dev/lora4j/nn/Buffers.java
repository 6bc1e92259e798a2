package dev.lora4j.nn;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * Activation buffers: zero-filled, 64-byte aligned, off-heap F32 matrices whose memory the garbage
 * collector frees once no layer holds them any more. Off-heap so that every kernel (including those
 * reading through the Vector API) can use them directly.
 */
public final class Buffers {
    private Buffers() {}

    public static Tensor f32(int rows, int cols) {
        return Tensor.allocate(Arena.ofAuto(), DType.F32, rows, cols);
    }

    /** {@code buffer} when it already has this shape, else a new one (layers reuse buffers across steps). */
    public static Tensor reuse(Tensor buffer, int rows, int cols) {
        if (buffer != null && buffer.dim(0) == rows && buffer.dim(1) == cols) {
            return buffer;
        }
        return f32(rows, cols);
    }
}
