package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Root-mean-square normalization as in Llama: for each row x of length D,
 * r = 1/√(mean(x²) + ε) and y = (x·r) ⊙ w. The per-row r is saved for the backward pass.
 *
 * <p>Backward: with x̂ = x·r and g = dy ⊙ w,
 * dx = r·(g − x̂·⟨g, x̂⟩/D), and dw += Σ_rows dy ⊙ x̂.
 *
 * <p>x, y, dy, dx are [R, D] F32 (row views allowed); the weight is [D] in F32, BF16 or F16 and is
 * widened once per call. Weight gradients accumulate into an F32 [D] tensor; the row reduction
 * runs in fixed chunks summed in order, so it is deterministic.
 */
public final class RmsNorm {
    private RmsNorm() {}

    /** y = x·r ⊙ weight; {@code invRms} (length ≥ R, may be null) receives r per row. */
    public static void forward(Tensor x, Tensor weight, float eps, Tensor y, float[] invRms) {
        Rows xr = Rows.of(x, "rmsnorm: x");
        Rows yr = Rows.of(y, "rmsnorm: y");
        xr.requireSameShape(yr, "x", "y");
        int d = xr.cols();
        float[] w = Rows.vector(weight, "rmsnorm: weight", d);
        Rows.checkStats(invRms, "rmsnorm: invRms", xr.rows());
        Rows.forEachRow(xr.rows(), d, row -> {
            MemorySegment xs = xr.seg();
            long xa = xr.row(row);
            float r = invRms(Vec.dot(xs, xa, xs, xa, d), d, eps);
            if (invRms != null) {
                invRms[row] = r;
            }
            MemorySegment ys = yr.seg();
            long ya = yr.row(row);
            int i = 0;
            for (int end = Vec.S.loopBound(d); i < end; i += Vec.L) {
                long off = (long) i * Float.BYTES;
                FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE).mul(r).mul(FloatVector.fromArray(Vec.S, w, i)).intoMemorySegment(ys, ya + off, Vec.NATIVE);
            }
            for (; i < d; i++) {
                Vec.set(ys, ya, i, Vec.get(xs, xa, i) * r * w[i]);
            }
        });
    }

    /** 1/√(Σx²/D + ε), computed in double from the float sum of squares. */
    static float invRms(float sumSquares, int d, float eps) {
        return (float) (1.0 / Math.sqrt((double) sumSquares / d + eps));
    }

    /**
     * dx = r·(g − x̂·⟨g, x̂⟩/D) (overwritten); {@code dWeightOrNull} (F32 [D]) += Σ_rows dy ⊙ x̂.
     * {@code invRms} is what {@link #forward} saved.
     */
    public static void backward(Tensor dy, Tensor x, Tensor weight, float[] invRms, Tensor dx, Tensor dWeightOrNull) {
        Rows xr = Rows.of(x, "rmsnorm backward: x");
        Rows gr = Rows.of(dy, "rmsnorm backward: dy");
        Rows dr = Rows.of(dx, "rmsnorm backward: dx");
        xr.requireSameShape(gr, "x", "dy");
        xr.requireSameShape(dr, "x", "dx");
        int d = xr.cols();
        int rows = xr.rows();
        float[] w = Rows.vector(weight, "rmsnorm backward: weight", d);
        if (invRms == null) {
            throw new IllegalArgumentException("rmsnorm backward: invRms (saved by forward) must not be null");
        }
        Rows.checkStats(invRms, "rmsnorm backward: invRms", rows);
        if (dWeightOrNull != null) {
            Rows.checkGrad(dWeightOrNull, "rmsnorm backward: dWeight", d);
        }
        float[][] partial = new float[dWeightOrNull == null ? 0 : Rows.chunkCount(rows, d)][];
        Rows.forEachChunk(rows, d, (chunk, start, end) -> {
            float[] dw = dWeightOrNull == null ? null : new float[d];
            for (int row = start; row < end; row++) {
                backwardRow(xr.seg(), xr.row(row), gr.seg(), gr.row(row), dr.seg(), dr.row(row), w, invRms[row], d, dw);
            }
            if (dw != null) {
                partial[chunk] = dw;
            }
        });
        if (dWeightOrNull != null) {
            float[] total = new float[d];
            for (float[] p : partial) {
                for (int i = 0; i < d; i++) {
                    total[i] += p[i];
                }
            }
            Rows.accumulate(dWeightOrNull, total);
        }
    }

    private static void backwardRow(MemorySegment xs, long xa, MemorySegment gs, long ga, MemorySegment ds, long da,
                                    float[] w, float r, int d, float[] dw) {
        // ⟨g, x̂⟩ = r·Σ dy·w·x, accumulated in a lane array (see Vec.laneSums: a loop-carried vector
        // here was boxed on every iteration in some compilations)
        float[] lanes = Vec.laneSums();
        int i = 0;
        int end = Vec.S.loopBound(d);
        for (; i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector g = FloatVector.fromMemorySegment(Vec.S, gs, ga + off, Vec.NATIVE).mul(FloatVector.fromArray(Vec.S, w, i));
            g.fma(FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE), FloatVector.fromArray(Vec.S, lanes, 0)).intoArray(lanes, 0);
        }
        float gx = Vec.sumInOrder(lanes);
        for (; i < d; i++) {
            gx += Vec.get(gs, ga, i) * w[i] * Vec.get(xs, xa, i);
        }
        float c = r * gx * r / d;           // ⟨g, x̂⟩/D, times r to turn x into x̂
        // dx = r·g − c·r·x ; dw += dy·x·r
        i = 0;
        for (; i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector x = FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE);
            FloatVector dyv = FloatVector.fromMemorySegment(Vec.S, gs, ga + off, Vec.NATIVE);
            FloatVector g = dyv.mul(FloatVector.fromArray(Vec.S, w, i));
            g.sub(x.mul(c)).mul(r).intoMemorySegment(ds, da + off, Vec.NATIVE);
            if (dw != null) {
                dyv.mul(x.mul(r)).add(FloatVector.fromArray(Vec.S, dw, i)).intoArray(dw, i);
            }
        }
        for (; i < d; i++) {
            float x = Vec.get(xs, xa, i);
            float dyv = Vec.get(gs, ga, i);
            Vec.set(ds, da, i, (dyv * w[i] - x * c) * r);
            if (dw != null) {
                dw[i] += dyv * x * r;
            }
        }
    }
}
