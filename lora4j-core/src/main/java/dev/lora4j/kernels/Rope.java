package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Rotary position embeddings in Hugging Face's rotate-half convention, in place.
 *
 * <p>Each head of a row is split into halves a = x[0, h) and b = x[h, 2h) of its first
 * {@code 2h = rotaryDim} dimensions; pair j (a_j, b_j) is rotated by angle θ_j(position):
 * a'_j = a_j·cos − b_j·sin, b'_j = b_j·cos + a_j·sin (this is x·cos + rotate_half(x)·sin with
 * rotate_half(x) = [−b, a]). Dimensions past rotaryDim are left untouched (partial rotary).
 *
 * <p>Backward: the rotation is orthogonal (times the attention scaling), so the gradient is
 * rotated by the negative angle: da = ga·cos + gb·sin, db = gb·cos − ga·sin.
 *
 * <p>x is [R, nHeads·headDim] F32 with contiguous rows (row views allowed, e.g. the query part of
 * a fused QKV projection); {@code positions[r]} is the position of row r.
 */
public final class Rope {
    private Rope() {}

    public static void apply(Tensor x, int[] positions, int nHeads, int headDim, RopeTable table) {
        rotate(x, positions, nHeads, headDim, table, 1f, "rope");
    }

    public static void applyBackward(Tensor dx, int[] positions, int nHeads, int headDim, RopeTable table) {
        rotate(dx, positions, nHeads, headDim, table, -1f, "rope backward");
    }

    /** Rotates by +θ ({@code sign} = 1) or −θ ({@code sign} = −1). */
    private static void rotate(Tensor x, int[] positions, int nHeads, int headDim, RopeTable table, float sign, String op) {
        Rows xr = Rows.of(x, op + ": x");
        check(xr, positions, nHeads, headDim, table, op);
        int h = table.half();
        float[] cos = table.cosArray();
        float[] sin = table.sinArray();
        MemorySegment seg = xr.seg();
        Rows.forEachRow(xr.rows(), xr.cols(), r -> {
            int t = positions[r] * h;
            for (int head = 0; head < nHeads; head++) {
                long a = xr.at(r, head * headDim);
                long b = a + (long) h * Float.BYTES;
                int j = 0;
                for (int end = Vec.S.loopBound(h); j < end; j += Vec.L) {
                    long off = (long) j * Float.BYTES;
                    FloatVector c = FloatVector.fromArray(Vec.S, cos, t + j);
                    FloatVector s = FloatVector.fromArray(Vec.S, sin, t + j).mul(sign);
                    FloatVector av = FloatVector.fromMemorySegment(Vec.S, seg, a + off, Vec.NATIVE);
                    FloatVector bv = FloatVector.fromMemorySegment(Vec.S, seg, b + off, Vec.NATIVE);
                    av.mul(c).sub(bv.mul(s)).intoMemorySegment(seg, a + off, Vec.NATIVE);
                    bv.mul(c).add(av.mul(s)).intoMemorySegment(seg, b + off, Vec.NATIVE);
                }
                for (; j < h; j++) {
                    float c = cos[t + j];
                    float s = sign * sin[t + j];
                    float av = Vec.get(seg, a, j);
                    float bv = Vec.get(seg, b, j);
                    Vec.set(seg, a, j, av * c - bv * s);
                    Vec.set(seg, b, j, bv * c + av * s);
                }
            }
        });
    }

    static void check(Rows xr, int[] positions, int nHeads, int headDim, RopeTable table, String op) {
        if (nHeads <= 0 || headDim <= 0 || xr.cols() != nHeads * headDim) {
            throw new IllegalArgumentException(op + ": x has " + xr.cols() + " columns, expected nHeads*headDim = "
                    + nHeads + "*" + headDim);
        }
        if (table.rotaryDim() > headDim) {
            throw new IllegalArgumentException(op + ": the table rotates " + table.rotaryDim() + " dimensions but headDim is " + headDim);
        }
        if (positions == null || positions.length < xr.rows()) {
            throw new IllegalArgumentException(op + ": need one position per row (" + xr.rows() + "), got "
                    + (positions == null ? "null" : positions.length));
        }
        for (int r = 0; r < xr.rows(); r++) {
            if (positions[r] < 0 || positions[r] >= table.maxPositions()) {
                throw new IllegalArgumentException(op + ": position " + positions[r] + " of row " + r
                        + " is outside the table's [0, " + table.maxPositions() + ")");
            }
        }
    }
}
