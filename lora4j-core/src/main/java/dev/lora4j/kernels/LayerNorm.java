package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Layer normalization (BERT, GPT-2): per row of length D, μ = mean(x), σ² = mean((x − μ)²)
 * (biased, as PyTorch), s = 1/√(σ² + ε), x̂ = (x − μ)·s and y = x̂ ⊙ w + b. The mean and s are
 * saved per row. The variance is computed in a second pass over (x − μ), which stays accurate
 * when |μ| is large compared with the spread.
 *
 * <p>Backward: with g = dy ⊙ w, dx = s·(g − mean(g) − x̂·mean(g ⊙ x̂));
 * dw += Σ_rows dy ⊙ x̂; db += Σ_rows dy.
 *
 * <p>Shapes as in {@link RmsNorm}. {@code weight} may be null (no affine weight: w = 1), then
 * {@code dWeightOrNull} must be null too; weight and bias may be F32, BF16 or F16.
 */
public final class LayerNorm {
    private LayerNorm() {}

    public static void forward(Tensor x, Tensor weight, Tensor biasOrNull, float eps, Tensor y, float[] mean, float[] invStd) {
        Rows xr = Rows.of(x, "layernorm: x");
        Rows yr = Rows.of(y, "layernorm: y");
        xr.requireSameShape(yr, "x", "y");
        int d = xr.cols();
        float[] w = weight == null ? ones(d) : Rows.vector(weight, "layernorm: weight", d);
        float[] b = biasOrNull == null ? new float[d] : Rows.vector(biasOrNull, "layernorm: bias", d);
        Rows.checkStats(mean, "layernorm: mean", xr.rows());
        Rows.checkStats(invStd, "layernorm: invStd", xr.rows());
        Rows.forEachRow(xr.rows(), d, row -> {
            MemorySegment xs = xr.seg();
            long xa = xr.row(row);
            float mu = Vec.sum(xs, xa, d) / d;
            FloatVector acc = FloatVector.zero(Vec.S);
            int i = 0;
            int end = Vec.S.loopBound(d);
            for (; i < end; i += Vec.L) {
                FloatVector c = FloatVector.fromMemorySegment(Vec.S, xs, xa + (long) i * Float.BYTES, Vec.NATIVE).sub(mu);
                acc = c.fma(c, acc);
            }
            float[] lanes = Vec.lanes();
            acc.intoArray(lanes, 0);
            float ss = Vec.sumInOrder(lanes);
            for (; i < d; i++) {
                float c = Vec.get(xs, xa, i) - mu;
                ss += c * c;
            }
            float s = (float) (1.0 / Math.sqrt((double) ss / d + eps));
            if (mean != null) {
                mean[row] = mu;
            }
            if (invStd != null) {
                invStd[row] = s;
            }
            MemorySegment ys = yr.seg();
            long ya = yr.row(row);
            for (i = 0; i < end; i += Vec.L) {
                long off = (long) i * Float.BYTES;
                FloatVector xhat = FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE).sub(mu).mul(s);
                xhat.fma(FloatVector.fromArray(Vec.S, w, i), FloatVector.fromArray(Vec.S, b, i)).intoMemorySegment(ys, ya + off, Vec.NATIVE);
            }
            for (; i < d; i++) {
                Vec.set(ys, ya, i, (Vec.get(xs, xa, i) - mu) * s * w[i] + b[i]);
            }
        });
    }

    /**
     * dx overwritten; {@code dWeightOrNull} += Σ dy ⊙ x̂ and {@code dBiasOrNull} += Σ dy (F32 [D]).
     * {@code mean} and {@code invStd} are what {@link #forward} saved.
     */
    public static void backward(Tensor dy, Tensor x, Tensor weight, float[] mean, float[] invStd,
                                Tensor dx, Tensor dWeightOrNull, Tensor dBiasOrNull) {
        Rows xr = Rows.of(x, "layernorm backward: x");
        Rows gr = Rows.of(dy, "layernorm backward: dy");
        Rows dr = Rows.of(dx, "layernorm backward: dx");
        xr.requireSameShape(gr, "x", "dy");
        xr.requireSameShape(dr, "x", "dx");
        int d = xr.cols();
        int rows = xr.rows();
        if (mean == null || invStd == null) {
            throw new IllegalArgumentException("layernorm backward: mean and invStd (saved by forward) must not be null");
        }
        Rows.checkStats(mean, "layernorm backward: mean", rows);
        Rows.checkStats(invStd, "layernorm backward: invStd", rows);
        if (weight == null && dWeightOrNull != null) {
            throw new IllegalArgumentException("layernorm backward: dWeight given but the layer has no weight");
        }
        float[] w = weight == null ? ones(d) : Rows.vector(weight, "layernorm backward: weight", d);
        if (dWeightOrNull != null) {
            Rows.checkGrad(dWeightOrNull, "layernorm backward: dWeight", d);
        }
        if (dBiasOrNull != null) {
            Rows.checkGrad(dBiasOrNull, "layernorm backward: dBias", d);
        }
        int chunks = Rows.chunkCount(rows, d);
        float[][] dwPart = new float[dWeightOrNull == null ? 0 : chunks][];
        float[][] dbPart = new float[dBiasOrNull == null ? 0 : chunks][];
        Rows.forEachChunk(rows, d, (chunk, start, end) -> {
            float[] dw = dWeightOrNull == null ? null : new float[d];
            float[] db = dBiasOrNull == null ? null : new float[d];
            for (int row = start; row < end; row++) {
                backwardRow(xr.seg(), xr.row(row), gr.seg(), gr.row(row), dr.seg(), dr.row(row), w,
                        mean[row], invStd[row], d, dw, db);
            }
            if (dw != null) {
                dwPart[chunk] = dw;
            }
            if (db != null) {
                dbPart[chunk] = db;
            }
        });
        if (dWeightOrNull != null) {
            Rows.accumulate(dWeightOrNull, sumInOrder(dwPart, d));
        }
        if (dBiasOrNull != null) {
            Rows.accumulate(dBiasOrNull, sumInOrder(dbPart, d));
        }
    }

    private static void backwardRow(MemorySegment xs, long xa, MemorySegment gs, long ga, MemorySegment ds, long da,
                                    float[] w, float mu, float s, int d, float[] dw, float[] db) {
        // mean(g) and mean(g ⊙ x̂), g = dy ⊙ w
        FloatVector sumG = FloatVector.zero(Vec.S);
        FloatVector sumGX = FloatVector.zero(Vec.S);
        int end = Vec.S.loopBound(d);
        int i = 0;
        for (; i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector g = FloatVector.fromMemorySegment(Vec.S, gs, ga + off, Vec.NATIVE).mul(FloatVector.fromArray(Vec.S, w, i));
            FloatVector xhat = FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE).sub(mu).mul(s);
            sumG = sumG.add(g);
            sumGX = g.fma(xhat, sumGX);
        }
        float[] lanes = Vec.lanes();
        sumG.intoArray(lanes, 0);
        float mg = Vec.sumInOrder(lanes);
        sumGX.intoArray(lanes, 0);
        float mgx = Vec.sumInOrder(lanes);
        for (; i < d; i++) {
            float g = Vec.get(gs, ga, i) * w[i];
            mg += g;
            mgx += g * (Vec.get(xs, xa, i) - mu) * s;
        }
        mg /= d;
        mgx /= d;
        for (i = 0; i < end; i += Vec.L) {
            long off = (long) i * Float.BYTES;
            FloatVector dyv = FloatVector.fromMemorySegment(Vec.S, gs, ga + off, Vec.NATIVE);
            FloatVector xhat = FloatVector.fromMemorySegment(Vec.S, xs, xa + off, Vec.NATIVE).sub(mu).mul(s);
            FloatVector g = dyv.mul(FloatVector.fromArray(Vec.S, w, i));
            g.sub(mg).sub(xhat.mul(mgx)).mul(s).intoMemorySegment(ds, da + off, Vec.NATIVE);
            if (dw != null) {
                dyv.fma(xhat, FloatVector.fromArray(Vec.S, dw, i)).intoArray(dw, i);
            }
            if (db != null) {
                dyv.add(FloatVector.fromArray(Vec.S, db, i)).intoArray(db, i);
            }
        }
        for (; i < d; i++) {
            float dyv = Vec.get(gs, ga, i);
            float xhat = (Vec.get(xs, xa, i) - mu) * s;
            Vec.set(ds, da, i, (dyv * w[i] - mg - xhat * mgx) * s);
            if (dw != null) {
                dw[i] += dyv * xhat;
            }
            if (db != null) {
                db[i] += dyv;
            }
        }
    }

    private static float[] ones(int d) {
        float[] w = new float[d];
        java.util.Arrays.fill(w, 1f);
        return w;
    }

    private static float[] sumInOrder(float[][] parts, int d) {
        float[] total = new float[d];
        for (float[] p : parts) {
            for (int i = 0; i < d; i++) {
                total[i] += p[i];
            }
        }
        return total;
    }
}
