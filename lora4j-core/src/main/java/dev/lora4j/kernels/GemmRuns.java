package dev.lora4j.kernels;

import dev.lora4j.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reads a run of matrix elements (equally spaced in storage) into a float[], widening BF16/F16 to
 * F32 on the way. Everything the GEMM reads from a tensor goes through here, so the driver and the
 * micro-kernel only ever see plain F32 arrays.
 *
 * <p>Contiguous F32 runs are copied in bulk ({@link MemorySegment#copy}); contiguous BF16 runs are
 * widened in vector registers (BF16 is the upper half of an F32, so widening is a 16-bit left
 * shift); contiguous F16 runs are copied as shorts into a scratch array and widened by the hardware
 * conversion behind {@link Float#float16ToFloat}.
 */
final class GemmRuns {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Shorts and ints with as many lanes as F: half and the same vector width. */
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private GemmRuns() {}

    /**
     * {@code dst[dstOff + i] = element at storage index start + i*stride}, for i in [0, count).
     * {@code scratch} must hold at least {@code count} shorts when the dtype is 16-bit and the run is
     * contiguous.
     */
    static void read(MemorySegment seg, DType dtype, long start, long stride, int count,
                     float[] dst, int dstOff, short[] scratch) {
        if (stride == 1) {
            switch (dtype) {
                case F32 -> MemorySegment.copy(seg, F32, start * 4, dst, dstOff, count);
                case BF16 -> widenBf16(seg, start, count, dst, dstOff);
                case F16 -> {
                    MemorySegment.copy(seg, I16, start * 2, scratch, 0, count);
                    for (int i = 0; i < count; i++) {
                        dst[dstOff + i] = Float.float16ToFloat(scratch[i]);
                    }
                }
            }
            return;
        }
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = seg.getAtIndex(F32, start + i * stride);
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Float.intBitsToFloat(seg.getAtIndex(I16, start + i * stride) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Float.float16ToFloat(seg.getAtIndex(I16, start + i * stride));
                }
            }
        }
    }

    /**
     * Contiguous BF16 to F32 in registers: load L shorts, sign-extend them to L ints (the sign
     * bits are shifted out again), shift each left by 16 and reinterpret the bits as floats.
     */
    private static void widenBf16(MemorySegment seg, long start, int count, float[] dst, int dstOff) {
        int i = 0;
        for (int bound = F.loopBound(count); i < bound; i += F.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S, seg, (start + i) * 2, NATIVE);
            IntVector w = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
            w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < count; i++) {
            dst[dstOff + i] = Float.intBitsToFloat(seg.getAtIndex(I16, start + i) << 16);
        }
    }

    /** A run of an operand's row {@code i}, columns [j, j+count). */
    static void readRow(GemmOperand m, int i, int j, int count, float[] dst, int dstOff, short[] scratch) {
        read(m.data(), m.dtype(), m.index(i, j), m.colStride(), count, dst, dstOff, scratch);
    }

    /** A run of an operand's column {@code j}, rows [i, i+count). */
    static void readColumn(GemmOperand m, int i, int j, int count, float[] dst, int dstOff, short[] scratch) {
        read(m.data(), m.dtype(), m.index(i, j), m.rowStride(), count, dst, dstOff, scratch);
    }
}
