package dev.lora4j.kernels;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A matrix as the GEMM driver sees it: {@code rows x cols} elements of one dtype in a segment,
 * element (i, j) stored at {@code offset + i*rowStride + j*colStride} (all counted in elements).
 *
 * <p>The three {@link Matmul} forms are the one product {@code C = A·B} on different views of the
 * same tensors (a transpose is just a swap of the two strides), so the driver never needs to know
 * which form it is computing; packing reads whatever layout it is given.
 */
record GemmOperand(MemorySegment data, DType dtype, long offset, long rowStride, long colStride, int rows, int cols) {

    static GemmOperand of(Tensor t) {
        return new GemmOperand(t.data(), t.dtype(), t.offset(), t.stride(0), t.stride(1), t.dim(0), t.dim(1));
    }

    /** The transposed view: rows and columns swap, nothing is copied. */
    GemmOperand transposed() {
        return new GemmOperand(data, dtype, offset, colStride, rowStride, cols, rows);
    }

    /** Storage index of element (i, j). */
    long index(int i, int j) {
        return offset + i * rowStride + j * colStride;
    }
}
