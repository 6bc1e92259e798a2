package dev.lora4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional array: a dtype, a shape, strides and an offset into a {@link MemorySegment}.
 *
 * <p>The segment is owned by whoever created it (an {@link Arena}, a memory-mapped file, or the
 * garbage collector for heap-backed tensors); a tensor never frees memory itself. Views (slices,
 * selections, transposes, reshapes of contiguous tensors) share the segment and copy nothing.
 * Strides and offset are counted in elements, not bytes.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final DType dtype;
    private final int[] shape;
    private final long[] strides;
    private final long offset;
    private final MemorySegment data;

    private Tensor(DType dtype, int[] shape, long[] strides, long offset, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.data = data;
    }

    // ---- creation -------------------------------------------------------------------------

    /** A zero-filled contiguous tensor allocated in {@code arena}. */
    public static Tensor allocate(Arena arena, DType dtype, int... shape) {
        long bytes = dtype.byteSizeOf(Shape.numel(shape));
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64);
        return new Tensor(dtype, shape.clone(), Shape.contiguousStrides(shape), 0, seg);
    }

    /** A zero-filled F32 tensor on the Java heap (freed by the garbage collector). */
    public static Tensor zeros(int... shape) {
        long n = Shape.numel(shape);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("heap tensor too large: " + Shape.toString(shape));
        }
        return of(new float[(int) n], shape);
    }

    /** Wraps a float array (no copy) as a contiguous F32 tensor. */
    public static Tensor of(float[] values, int... shape) {
        if (Shape.numel(shape) != values.length) {
            throw new IllegalArgumentException(
                    "shape " + Shape.toString(shape) + " needs " + Shape.numel(shape) + " values, got " + values.length);
        }
        return new Tensor(DType.F32, shape.clone(), Shape.contiguousStrides(shape), 0, MemorySegment.ofArray(values));
    }

    /** Wraps a region of memory (e.g. part of a memory-mapped file) as a contiguous tensor. */
    public static Tensor wrap(MemorySegment segment, DType dtype, int... shape) {
        long need = dtype.byteSizeOf(Shape.numel(shape));
        if (segment.byteSize() < need) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for "
                    + dtype + Shape.toString(shape) + " (" + need + " bytes)");
        }
        return new Tensor(dtype, shape.clone(), Shape.contiguousStrides(shape), 0, segment);
    }

    // ---- accessors ------------------------------------------------------------------------

    public DType dtype() {
        return dtype;
    }

    public int rank() {
        return shape.length;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[axis(axis)];
    }

    public long stride(int axis) {
        return strides[axis(axis)];
    }

    public long[] strides() {
        return strides.clone();
    }

    /** Offset of element [0,...,0] in the segment, in elements. */
    public long offset() {
        return offset;
    }

    /** The whole backing segment (shared with other views). */
    public MemorySegment data() {
        return data;
    }

    public long numel() {
        return Shape.numel(shape);
    }

    private int axis(int axis) {
        int a = axis < 0 ? axis + shape.length : axis;
        if (a < 0 || a >= shape.length) {
            throw new IndexOutOfBoundsException("axis " + axis + " for tensor of rank " + shape.length);
        }
        return a;
    }

    // ---- element access -------------------------------------------------------------------

    /** Reads storage element {@code index} (absolute, in elements) of a segment holding {@code dtype}. */
    public static float read(MemorySegment seg, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> seg.getAtIndex(F32, index);
            case BF16 -> Floats.bf16ToFloat(seg.getAtIndex(I16, index));
            case F16 -> Floats.f16ToFloat(seg.getAtIndex(I16, index));
        };
    }

    /** Writes storage element {@code index}, rounding to {@code dtype} (nearest, ties to even). */
    public static void write(MemorySegment seg, DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> seg.setAtIndex(F32, index, value);
            case BF16 -> seg.setAtIndex(I16, index, Floats.floatToBf16(value));
            case F16 -> seg.setAtIndex(I16, index, Floats.floatToF16(value));
        }
    }

    /** Storage index (in elements) of the element at {@code idx}. */
    public long indexOf(int... idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("expected " + shape.length + " indices, got " + idx.length);
        }
        long p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of shape " + Shape.toString(shape));
            }
            p += idx[i] * strides[i];
        }
        return p;
    }

    public float get(int... idx) {
        return read(data, dtype, indexOf(idx));
    }

    public void set(float value, int... idx) {
        write(data, dtype, indexOf(idx), value);
    }

    /** Element {@code i} in row-major order of the logical shape (works for any strides). */
    public float getFlat(long i) {
        return read(data, dtype, storageIndexOfFlat(i));
    }

    public void setFlat(long i, float value) {
        write(data, dtype, storageIndexOfFlat(i), value);
    }

    private long storageIndexOfFlat(long i) {
        long p = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            p += (i % n) * strides[d];
            i /= n;
        }
        return p;
    }

    // ---- views ----------------------------------------------------------------------------

    /** Elements {@code [start, end)} along {@code axis}; shares storage. */
    public Tensor slice(int axis, int start, int end) {
        int a = axis(axis);
        if (start < 0 || end > shape[a] || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") of axis " + a + " with size " + shape[a]);
        }
        int[] s = shape.clone();
        s[a] = end - start;
        return new Tensor(dtype, s, strides.clone(), offset + start * strides[a], data);
    }

    /** Index {@code index} along {@code axis}, dropping that axis; shares storage. */
    public Tensor select(int axis, int index) {
        int a = axis(axis);
        if (index < 0 || index >= shape[a]) {
            throw new IndexOutOfBoundsException("index " + index + " of axis " + a + " with size " + shape[a]);
        }
        int[] s = new int[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != a) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return new Tensor(dtype, s, st, offset + index * strides[a], data);
    }

    /** Swaps two axes without copying. */
    public Tensor transpose(int axis0, int axis1) {
        int a = axis(axis0);
        int b = axis(axis1);
        int[] s = shape.clone();
        long[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return new Tensor(dtype, s, st, offset, data);
    }

    /** The 2-D transpose: {@code transpose(0, 1)} of a matrix. */
    public Tensor t() {
        if (shape.length != 2) {
            throw new IllegalStateException("t() needs a matrix, got shape " + Shape.toString(shape));
        }
        return transpose(0, 1);
    }

    /** A new shape over the same elements; the tensor must be contiguous. One dim may be -1. */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("only one -1 allowed in " + Shape.toString(newShape));
                }
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            s[infer] = (int) (numel() / Math.max(known, 1));
        }
        if (Shape.numel(s) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + Shape.toString(shape) + " to " + Shape.toString(newShape));
        }
        if (!isContiguous()) {
            throw new IllegalStateException("reshape needs a contiguous tensor; call contiguous() first");
        }
        return new Tensor(dtype, s, Shape.contiguousStrides(s), offset, data);
    }

    /** True when the elements are laid out densely in row-major order. */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** Byte range of the elements of a contiguous tensor. */
    public MemorySegment segment() {
        if (!isContiguous()) {
            throw new IllegalStateException("segment() needs a contiguous tensor");
        }
        long bytes = dtype.byteSizeOf(numel());
        return data.asSlice(dtype.byteSizeOf(offset), bytes);
    }

    // ---- copies ---------------------------------------------------------------------------

    /** A contiguous copy in {@code dtype}, allocated in {@code arena}. */
    public Tensor copy(Arena arena, DType target) {
        Tensor out = allocate(arena, target, shape);
        out.copyFrom(this);
        return out;
    }

    /** Copies (and converts) every element of {@code src}, which must have the same shape. */
    public void copyFrom(Tensor src) {
        if (!Arrays.equals(shape, src.shape)) {
            throw new IllegalArgumentException("copy from " + Shape.toString(src.shape) + " into " + Shape.toString(shape));
        }
        if (dtype == src.dtype && isContiguous() && src.isContiguous()) {
            MemorySegment.copy(src.segment(), 0, segment(), 0, dtype.byteSizeOf(numel()));
            return;
        }
        long n = numel();
        for (long i = 0; i < n; i++) {
            setFlat(i, src.getFlat(i));
        }
    }

    /** Row {@code r} of a matrix into {@code dst} (its length = the row's), widened to float; one copy for F32 rows. */
    public void readRow(int r, float[] dst) {
        if (dtype == DType.F32 && (stride(1) == 1 || dst.length <= 1)) {
            MemorySegment.copy(data(), ValueLayout.JAVA_FLOAT_UNALIGNED, (offset() + (long) r * stride(0)) * Float.BYTES,
                    dst, 0, dst.length);
        } else {
            for (int i = 0; i < dst.length; i++) {
                dst[i] = get(r, i);
            }
        }
    }

    /** All elements, widened to float, in row-major order. */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalStateException("tensor too large for a float[]: " + Shape.toString(shape));
        }
        float[] out = new float[(int) n];
        if (dtype == DType.F32 && isContiguous()) {
            MemorySegment.copy(data, F32, offset * 4, out, 0, out.length);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = getFlat(i);
        }
        return out;
    }

    public void fill(float value) {
        long n = numel();
        for (long i = 0; i < n; i++) {
            setFlat(i, value);
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + Shape.toString(shape) + (isContiguous() ? "" : ", strided") + "]";
    }
}
