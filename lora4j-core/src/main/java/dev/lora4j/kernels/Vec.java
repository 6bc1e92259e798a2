package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized reductions and updates over runs of {@code n} adjacent floats, addressed as
 * (segment, byte offset) or (float[], index). Species-generic: the vector length is whatever
 * {@link FloatVector#SPECIES_PREFERRED} is on this machine; the last {@code n mod length}
 * elements are handled one at a time.
 */
final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    // No load(segment, offset) / store(vector, segment, offset) helpers on purpose: the kernels call
    // FloatVector.fromMemorySegment / intoMemorySegment themselves. Those are always inlined
    // (@ForceInline in the JDK); a helper of ours is inlined only when C2 decides so, and where a
    // recompilation decided otherwise, every vector passed through it was boxed on the heap (50 MB
    // per training step in the cross-entropy loop).

    static float get(MemorySegment s, long at, int i) {
        return s.get(F, at + (long) i * Float.BYTES);
    }

    static void set(MemorySegment s, long at, int i, float v) {
        s.set(F, at + (long) i * Float.BYTES, v);
    }

    /** Σ a[i]·b[i]. */
    static float dot(MemorySegment a, long aAt, MemorySegment b, long bAt, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            long off = (long) i * Float.BYTES;
            acc = FloatVector.fromMemorySegment(S, a, aAt + off, NATIVE).fma(FloatVector.fromMemorySegment(S, b, bAt + off, NATIVE), acc);
        }
        float[] lanes = lanes();
        acc.intoArray(lanes, 0);
        float sum = sumInOrder(lanes);
        for (; i < n; i++) {
            sum += get(a, aAt, i) * get(b, bAt, i);
        }
        return sum;
    }

    /** Σ a[i]·b[i] with {@code a} in an array. */
    static float dot(float[] a, int aAt, MemorySegment b, long bAt, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            acc = FloatVector.fromArray(S, a, aAt + i).fma(FloatVector.fromMemorySegment(S, b, bAt + (long) i * Float.BYTES, NATIVE), acc);
        }
        float[] lanes = lanes();
        acc.intoArray(lanes, 0);
        float sum = sumInOrder(lanes);
        for (; i < n; i++) {
            sum += a[aAt + i] * get(b, bAt, i);
        }
        return sum;
    }

    /** y[i] += alpha·x[i], y in an array. */
    static void axpy(float alpha, MemorySegment x, long xAt, float[] y, int yAt, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            FloatVector.fromMemorySegment(S, x, xAt + (long) i * Float.BYTES, NATIVE).fma(a, FloatVector.fromArray(S, y, yAt + i)).intoArray(y, yAt + i);
        }
        for (; i < n; i++) {
            y[yAt + i] += alpha * get(x, xAt, i);
        }
    }

    /** y[i] += alpha·x[i], y in a segment, x in an array. */
    static void axpy(float alpha, float[] x, int xAt, MemorySegment y, long yAt, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            long off = yAt + (long) i * Float.BYTES;
            FloatVector.fromArray(S, x, xAt + i).fma(a, FloatVector.fromMemorySegment(S, y, off, NATIVE)).intoMemorySegment(y, off, NATIVE);
        }
        for (; i < n; i++) {
            set(y, yAt, i, get(y, yAt, i) + alpha * x[xAt + i]);
        }
    }

    /** y[i] += alpha·x[i], both in segments. */
    static void axpy(float alpha, MemorySegment x, long xAt, MemorySegment y, long yAt, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            long off = (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, xAt + off, NATIVE).fma(a, FloatVector.fromMemorySegment(S, y, yAt + off, NATIVE)).intoMemorySegment(y, yAt + off, NATIVE);
        }
        for (; i < n; i++) {
            set(y, yAt, i, get(y, yAt, i) + alpha * get(x, xAt, i));
        }
    }

    /** Σ x[i]. */
    static float sum(MemorySegment x, long at, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            acc = acc.add(FloatVector.fromMemorySegment(S, x, at + (long) i * Float.BYTES, NATIVE));
        }
        float[] lanes = lanes();
        acc.intoArray(lanes, 0);
        float sum = sumInOrder(lanes);
        for (; i < n; i++) {
            sum += get(x, at, i);
        }
        return sum;
    }

    /** max x[i] (−∞ for n = 0). */
    static float max(MemorySegment x, long at, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            acc = acc.max(FloatVector.fromMemorySegment(S, x, at + (long) i * Float.BYTES, NATIVE));
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, get(x, at, i));
        }
        return m;
    }

    /** max a[i] over an array range (−∞ for n = 0). */
    static float max(float[] a, int at, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            acc = acc.max(FloatVector.fromArray(S, a, at + i));
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, a[at + i]);
        }
        return m;
    }

    /** a[i] = exp(a[i] − shift) in place over an array range; returns Σ of the new values. */
    static float expShiftInPlace(float[] a, int at, int n, float shift) {
        int end = S.loopBound(n);
        for (int i = 0; i < end; i += L) {
            FloatVector.fromArray(S, a, at + i).sub(shift).intoArray(a, at + i);
        }
        VecMath.expInPlace(a, at, end);     // no vector crosses a call: see VecMath
        float sum = sumVectorPart(a, at, end);
        for (int i = end; i < n; i++) {
            float e = (float) Math.exp(a[at + i] - shift);
            a[at + i] = e;
            sum += e;
        }
        return sum;
    }

    /** y[i] = exp(x[i] − shift); returns Σ y[i]. y may alias x. */
    static float expShift(MemorySegment x, long xAt, MemorySegment y, long yAt, int n, float shift) {
        int end = S.loopBound(n);
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.EXP_ROW, end);
        for (int i = 0; i < end; i += L) {
            FloatVector.fromMemorySegment(S, x, xAt + (long) i * Float.BYTES, NATIVE).sub(shift).intoArray(e, i);
        }
        VecMath.expInPlace(e, 0, end);
        MemorySegment.copy(e, 0, y, F, yAt, end);
        float sum = sumVectorPart(e, 0, end);
        for (int i = end; i < n; i++) {
            float v = (float) Math.exp(get(x, xAt, i) - shift);
            set(y, yAt, i, v);
            sum += v;
        }
        return sum;
    }

    /**
     * Σ a[at + i] for i in [0, end), end a multiple of L, summed as the exp loops always did: lane j
     * adds elements j, j + L, j + 2L, ... in order (through this thread's lane array, see
     * {@link #laneSums}), then the lanes are added in lane order.
     */
    private static float sumVectorPart(float[] a, int at, int end) {
        float[] lanes = laneSums();
        for (int i = 0; i < end; i += L) {
            FloatVector.fromArray(S, lanes, 0).add(FloatVector.fromArray(S, a, at + i)).intoArray(lanes, 0);
        }
        return sumInOrder(lanes);
    }

    /** x[i] *= s in place. */
    static void scale(MemorySegment x, long at, int n, float s) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            long off = at + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, off, NATIVE).mul(s).intoMemorySegment(x, off, NATIVE);
        }
        for (; i < n; i++) {
            set(x, at, i, get(x, at, i) * s);
        }
    }

    /**
     * The sum of a vector's lanes in lane order. Not {@code reduceLanes(ADD)}: its order is
     * unspecified and differs between the interpreter and C2's intrinsic, which made the same
     * computation give different bits before and after JIT compilation (and training runs with
     * the same seed differ).
     */
    /**
     * This thread's zeroed lane accumulators, for loops whose body is an inlined exp: there a
     * loop-carried accumulator vector (acc = acc.add(e)) is, depending on how C2 compiles the
     * loop, boxed on the heap every iteration (50 MB per training step in cross-entropy alone).
     * Adding into an array instead costs a store and a forwarded load per vector and cannot box;
     * each lane still sums in element order, so the results are the same bits.
     */
    static float[] laneSums() {
        float[] lanes = ThreadScratch.floats(ThreadScratch.Slot.LANE_SUMS, L);
        java.util.Arrays.fill(lanes, 0, L, 0f);
        return lanes;
    }

    /** Σ lanes[0..L) in lane order. */
    static float sumInOrder(float[] lanes) {
        float sum = 0f;
        for (int i = 0; i < L; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    /**
     * This thread's array of L floats for a kernel to store a vector into before summing its lanes
     * with {@link #sumInOrder} (a fresh array per row was a steady stream of garbage). The kernels
     * store the vector themselves rather than pass it to a helper: see {@link VecMath} for why no
     * vector crosses one of our calls.
     */
    static float[] lanes() {
        return ThreadScratch.floats(ThreadScratch.Slot.LANES, L);
    }
}
