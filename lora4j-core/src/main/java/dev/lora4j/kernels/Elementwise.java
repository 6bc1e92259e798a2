package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Element-wise arithmetic on F32 tensors of equal shape (2-D with contiguous rows, row views
 * allowed, or any contiguous tensor). Outputs may alias inputs.
 */
public final class Elementwise {
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private Elementwise() {}

    private enum Op { ADD, MUL }

    /** out = a + b. */
    public static void add(Tensor a, Tensor b, Tensor out) {
        binary(a, b, out, Op.ADD, "add");
    }

    /** dst += src. */
    public static void addInPlace(Tensor dst, Tensor src) {
        binary(dst, src, dst, Op.ADD, "addInPlace");
    }

    /** out = a · b (element-wise). */
    public static void mul(Tensor a, Tensor b, Tensor out) {
        binary(a, b, out, Op.MUL, "mul");
    }

    /** t *= s. */
    public static void scaleInPlace(Tensor t, float s) {
        Rows tr = Rows.view(t, "scaleInPlace: t");
        int n = tr.cols();
        MemorySegment seg = tr.seg();
        Rows.forEachRow(tr.rows(), n, r -> {
            long at = tr.row(r);
            int i = 0;
            for (int end = Vec.S.loopBound(n); i < end; i += Vec.L) {
                long off = at + (long) i * Float.BYTES;
                FloatVector.fromMemorySegment(Vec.S, seg, off, Vec.NATIVE).mul(s).intoMemorySegment(seg, off, Vec.NATIVE);
            }
            for (; i < n; i++) {
                Vec.set(seg, at, i, Vec.get(seg, at, i) * s);
            }
        });
    }

    private static void binary(Tensor a, Tensor b, Tensor out, Op op, String name) {
        Rows ar = Rows.view(a, name + ": a");
        Rows br = Rows.view(b, name + ": b");
        Rows or = Rows.view(out, name + ": out");
        ar.requireSameShape(br, "a", "b");
        ar.requireSameShape(or, "a", "out");
        int n = ar.cols();
        Rows.forEachRow(ar.rows(), n, r -> {
            long aa = ar.row(r);
            long ba = br.row(r);
            long oa = or.row(r);
            // One loop per operation, not `op == ADD ? x.add(y) : x.mul(y)` in one loop: a vector
            // merged from two branches is boxed by C2 on every iteration once both have run (it
            // happened when a recompilation saw both: a gigabyte of garbage per training step).
            if (op == Op.ADD) {
                addRow(ar.seg(), aa, br.seg(), ba, or.seg(), oa, n);
            } else {
                mulRow(ar.seg(), aa, br.seg(), ba, or.seg(), oa, n);
            }
        });
    }

    private static void addRow(MemorySegment as, long aa, MemorySegment bs, long ba, MemorySegment os, long oa, int n) {
        int i = 0;
        for (int end = Vec.S.loopBound(n); i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(Vec.S, as, aa + off, NATIVE);
            FloatVector y = FloatVector.fromMemorySegment(Vec.S, bs, ba + off, NATIVE);
            x.add(y).intoMemorySegment(os, oa + off, NATIVE);
        }
        for (; i < n; i++) {
            Vec.set(os, oa, i, Vec.get(as, aa, i) + Vec.get(bs, ba, i));
        }
    }

    private static void mulRow(MemorySegment as, long aa, MemorySegment bs, long ba, MemorySegment os, long oa, int n) {
        int i = 0;
        for (int end = Vec.S.loopBound(n); i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(Vec.S, as, aa + off, NATIVE);
            FloatVector y = FloatVector.fromMemorySegment(Vec.S, bs, ba + off, NATIVE);
            x.mul(y).intoMemorySegment(os, oa + off, NATIVE);
        }
        for (; i < n; i++) {
            Vec.set(os, oa, i, Vec.get(as, aa, i) * Vec.get(bs, ba, i));
        }
    }
}
