package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Row-wise softmax of [R, D] F32 tensors (row views allowed; output may alias input).
 *
 * <p>Forward: y = exp(x − max x) / Σ exp(x − max x); subtracting the row maximum keeps every
 * exponent ≤ 0, so nothing overflows. Backward (the Jacobian-vector product of softmax):
 * dx = y ⊙ (dy − ⟨dy, y⟩).
 */
public final class Softmax {
    private Softmax() {}

    public static void forward(Tensor x, Tensor y) {
        Rows xr = Rows.of(x, "softmax: x");
        Rows yr = Rows.of(y, "softmax: y");
        xr.requireSameShape(yr, "x", "y");
        int n = xr.cols();
        Rows.forEachRow(xr.rows(), n, r -> {
            float max = Vec.max(xr.seg(), xr.row(r), n);
            float sum = Vec.expShift(xr.seg(), xr.row(r), yr.seg(), yr.row(r), n, max);
            Vec.scale(yr.seg(), yr.row(r), n, 1f / sum);
        });
    }

    public static void backward(Tensor y, Tensor dy, Tensor dx) {
        Rows yr = Rows.of(y, "softmax backward: y");
        Rows gr = Rows.of(dy, "softmax backward: dy");
        Rows dr = Rows.of(dx, "softmax backward: dx");
        yr.requireSameShape(gr, "y", "dy");
        yr.requireSameShape(dr, "y", "dx");
        int n = yr.cols();
        Rows.forEachRow(yr.rows(), n, r -> {
            long ya = yr.row(r);
            long ga = gr.row(r);
            long da = dr.row(r);
            MemorySegment ys = yr.seg();
            MemorySegment gs = gr.seg();
            float dot = Vec.dot(ys, ya, gs, ga, n);
            int i = 0;
            for (int end = Vec.S.loopBound(n); i < end; i += Vec.L) {
                long off = (long) i * Float.BYTES;
                FloatVector yv = FloatVector.fromMemorySegment(Vec.S, ys, ya + off, Vec.NATIVE);
                FloatVector.fromMemorySegment(Vec.S, gs, ga + off, Vec.NATIVE).sub(dot).mul(yv).intoMemorySegment(dr.seg(), da + off, Vec.NATIVE);
            }
            for (; i < n; i++) {
                Vec.set(dr.seg(), da, i, Vec.get(ys, ya, i) * (Vec.get(gs, ga, i) - dot));
            }
        });
    }
}
