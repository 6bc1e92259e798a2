package dev.lora4j.kernels;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Shape;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A 2-D F32 tensor seen as rows of contiguous floats: what the row-wise kernels (norms, softmax,
 * activations, RoPE, attention) need. Rows may be spaced apart (a column slice of a wider matrix,
 * rows of a KV cache), but the elements within a row must be adjacent.
 *
 * <p>Addresses are in bytes, ready for {@code FloatVector.fromMemorySegment}.
 */
record Rows(MemorySegment seg, long baseByte, long rowStrideBytes, int rows, int cols) {

    /** Checks {@code t} and describes it; {@code what} names the argument in error messages. */
    static Rows of(Tensor t, String what) {
        if (t == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(what + " must be F32, got " + t.dtype());
        }
        if (t.rank() != 2) {
            throw new IllegalArgumentException(what + " must be 2-D [rows, cols], got shape " + Shape.toString(t.shape()));
        }
        if (t.dim(1) > 1 && t.stride(1) != 1) {
            throw new IllegalArgumentException(what + " must have adjacent elements within a row (column stride 1), got strides "
                    + java.util.Arrays.toString(t.strides()) + "; make a contiguous copy first");
        }
        return new Rows(t.data(), t.offset() * Float.BYTES, t.stride(0) * Float.BYTES, t.dim(0), t.dim(1));
    }

    /**
     * Any F32 tensor as rows: a 2-D tensor as it is (row views allowed), any other contiguous
     * tensor as [numel / lastDim, lastDim]. Element-wise kernels use this.
     */
    static Rows view(Tensor t, String what) {
        if (t != null && t.rank() != 2 && t.dtype() == DType.F32 && t.isContiguous()) {
            int cols = t.rank() == 0 ? 1 : Math.max(t.dim(-1), 1);
            long rows = t.numel() / cols;
            if (rows > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(what + " has too many rows: " + Shape.toString(t.shape()));
            }
            return new Rows(t.data(), t.offset() * Float.BYTES, (long) cols * Float.BYTES, (int) rows, t.rank() == 0 ? 1 : t.dim(-1));
        }
        return of(t, what);
    }

    /** Checks that two row views have the same shape. */
    void requireSameShape(Rows other, String what, String otherWhat) {
        if (rows != other.rows || cols != other.cols) {
            throw new IllegalArgumentException(otherWhat + " has shape [" + other.rows + ", " + other.cols + "] but " + what
                    + " has [" + rows + ", " + cols + "]");
        }
    }

    /**
     * Rows per parallel chunk: enough elements per chunk (about 16K) that scheduling costs are
     * negligible. Depends only on the shape, so chunked reductions are deterministic.
     */
    static int chunkRows(int rows, int cols) {
        return Math.max(1, Math.min(rows, 16384 / Math.max(cols, 1)));
    }

    /** Runs {@code body.accept(row)} for every row, in parallel chunks. */
    static void forEachRow(int rows, int cols, java.util.function.IntConsumer body) {
        int per = chunkRows(rows, cols);
        int chunks = (rows + per - 1) / per;
        Parallel.forEach(chunks, c -> {
            int end = Math.min(rows, (c + 1) * per);
            for (int r = c * per; r < end; r++) {
                body.accept(r);
            }
        });
    }

    /** A contiguous range of rows [start, end) handled as one parallel task, numbered {@code chunk}. */
    interface ChunkBody {
        void run(int chunk, int start, int end);
    }

    /** Number of chunks {@link #forEachChunk} splits {@code rows} into. */
    static int chunkCount(int rows, int cols) {
        int per = chunkRows(rows, cols);
        return (rows + per - 1) / per;
    }

    /** Runs {@code body} over fixed row chunks in parallel (for reductions over rows). */
    static void forEachChunk(int rows, int cols, ChunkBody body) {
        int per = chunkRows(rows, cols);
        Parallel.forEach(chunkCount(rows, cols), c -> body.run(c, c * per, Math.min(rows, (c + 1) * per)));
    }

    /** Like {@link #of} and also checks the shape is exactly [rows, cols]. */
    static Rows of(Tensor t, String what, int rows, int cols) {
        Rows r = of(t, what);
        if (r.rows != rows || r.cols != cols) {
            throw new IllegalArgumentException(what + " must have shape [" + rows + ", " + cols + "], got "
                    + Shape.toString(t.shape()));
        }
        return r;
    }

    /** Byte address of element [row, 0]. */
    long row(int row) {
        return baseByte + row * rowStrideBytes;
    }

    /** Byte address of element [row, col]. */
    long at(int row, int col) {
        return baseByte + row * rowStrideBytes + (long) col * Float.BYTES;
    }

    float get(int row, int col) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at(row, col));
    }

    void set(int row, int col, float v) {
        seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at(row, col), v);
    }

    /** Reads a 1-D parameter vector of length {@code n} (any float dtype, any stride) into floats. */
    static float[] vector(Tensor t, String what, int n) {
        if (t.rank() != 1 || t.dim(0) != n) {
            throw new IllegalArgumentException(what + " must have shape [" + n + "], got " + Shape.toString(t.shape()));
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = t.getFlat(i);
        }
        return out;
    }

    /** Checks a 1-D F32 gradient accumulator of length {@code n}. */
    static void checkGrad(Tensor t, String what, int n) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(what + " must be F32, got " + t.dtype());
        }
        if (t.rank() != 1 || t.dim(0) != n) {
            throw new IllegalArgumentException(what + " must have shape [" + n + "], got " + Shape.toString(t.shape()));
        }
    }

    static void checkStats(float[] stats, String what, int rows) {
        if (stats != null && stats.length < rows) {
            throw new IllegalArgumentException(what + " needs length >= " + rows + " (one per row), got " + stats.length);
        }
    }

    /** Adds {@code values} element-wise into a 1-D F32 tensor (any stride). */
    static void accumulate(Tensor dst, float[] values) {
        for (int i = 0; i < values.length; i++) {
            dst.setFlat(i, dst.getFlat(i) + values[i]);
        }
    }
}
