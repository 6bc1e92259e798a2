package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Scaled dot-product attention with grouped-query heads, causal or bidirectional, with key padding
 * masks, for training (forward + backward) and for KV-cache decoding (Tq ≤ Tk).
 *
 * <p>Layout: q and out are [B·Tq, Hq·hd], k and v are [B·Tk, Hkv·hd] (F32, rows contiguous, row
 * views allowed, e.g. a prefix of a preallocated KV cache). Query head h reads key/value head
 * h / (Hq/Hkv), as Hugging Face's repeat_kv does. Query i of a sequence sits at position
 * Tk − Tq + i; with {@code causal} it sees keys 0..Tk − Tq + i. {@code keyMask[b·Tk + j]} = 0 hides
 * key j of sequence b. A query that sees no key at all gets a zero output (not NaN).
 *
 * <p>Forward, per (sequence, query head, query row): scores s_j = scale·⟨q, k_j⟩ into a scratch
 * row of length Tk, p = softmax(s) with the max subtracted, out = Σ p_j v_j. It saves
 * lse = log Σ exp(s_j) per query row ([B, Hq, Tq] flattened; −∞ for a query with no keys) and
 * never builds the [B, H, Tq, Tk] score tensor.
 *
 * <p>Backward recomputes p_j = exp(s_j − lse) row by row. With dp_j = ⟨dout, v_j⟩ and
 * D = ⟨dout, out⟩ (= Σ_j p_j dp_j): ds_j = p_j (dp_j − D); dq = scale·Σ_j ds_j k_j;
 * dk_j += scale·ds_j q; dv_j += p_j dout. It runs one task per (sequence, key/value head), which
 * owns the dk/dv rows it accumulates into, so no two threads write the same memory.
 */
public final class Attention {
    private Attention() {}

    public static void forward(Tensor q, Tensor k, Tensor v, Tensor out, int batch, int tq, int tk, int nHeads,
                               int nKvHeads, int headDim, boolean causal, int[] keyMaskOrNull, float scale,
                               float[] lseOrNull) {
        Shapes s = new Shapes(q, k, v, out, batch, tq, tk, nHeads, nKvHeads, headDim, keyMaskOrNull, "attention");
        Rows.checkStats(lseOrNull, "attention: lse", batch * nHeads * tq);
        int group = nHeads / nKvHeads;
        Parallel.forEach(batch * nHeads, task -> {
            int b = task / nHeads;
            int h = task % nHeads;
            int kvh = h / group;
            float[] scores = new float[tk];
            float[] acc = new float[headDim];
            for (int i = 0; i < tq; i++) {
                int qRow = b * tq + i;
                long qAt = s.q.at(qRow, h * headDim);
                long outAt = s.out.at(qRow, h * headDim);
                int visible = visibleKeys(causal, tq, tk, i);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    if (keyMaskOrNull != null && keyMaskOrNull[b * tk + j] == 0) {
                        scores[j] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    float sc = scale * Vec.dot(s.q.seg(), qAt, s.k.seg(), s.k.at(b * tk + j, kvh * headDim), headDim);
                    scores[j] = sc;
                    max = Math.max(max, sc);
                }
                Arrays.fill(acc, 0f);
                float lse = Float.NEGATIVE_INFINITY;
                if (max != Float.NEGATIVE_INFINITY) {    // at least one key is visible
                    float sum = Vec.expShiftInPlace(scores, 0, visible, max);   // masked keys: exp(−∞) = 0
                    for (int j = 0; j < visible; j++) {
                        if (scores[j] != 0f) {
                            Vec.axpy(scores[j], s.v.seg(), s.v.at(b * tk + j, kvh * headDim), acc, 0, headDim);
                        }
                    }
                    float inv = 1f / sum;
                    for (int d = 0; d < headDim; d++) {
                        acc[d] *= inv;
                    }
                    lse = max + (float) Math.log(sum);
                }
                for (int d = 0; d < headDim; d++) {
                    Vec.set(s.out.seg(), outAt, d, acc[d]);
                }
                if (lseOrNull != null) {
                    lseOrNull[(b * nHeads + h) * tq + i] = lse;
                }
            }
        });
    }

    public static void backward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor out, float[] lse,
                                Tensor dq, Tensor dk, Tensor dv, int batch, int tq, int tk, int nHeads,
                                int nKvHeads, int headDim, boolean causal, int[] keyMaskOrNull, float scale) {
        Shapes s = new Shapes(q, k, v, out, batch, tq, tk, nHeads, nKvHeads, headDim, keyMaskOrNull, "attention backward");
        Rows g = Rows.of(dout, "attention backward: dout", batch * tq, nHeads * headDim);
        Rows dqr = Rows.of(dq, "attention backward: dq", batch * tq, nHeads * headDim);
        Rows dkr = Rows.of(dk, "attention backward: dk", batch * tk, nKvHeads * headDim);
        Rows dvr = Rows.of(dv, "attention backward: dv", batch * tk, nKvHeads * headDim);
        if (lse == null) {
            throw new IllegalArgumentException("attention backward: lse (saved by forward) must not be null");
        }
        Rows.checkStats(lse, "attention backward: lse", batch * nHeads * tq);
        int group = nHeads / nKvHeads;
        Parallel.forEach(batch * nKvHeads, task -> {
            int b = task / nKvHeads;
            int kvh = task % nKvHeads;
            for (int j = 0; j < tk; j++) {
                zero(dkr, b * tk + j, kvh * headDim, headDim);
                zero(dvr, b * tk + j, kvh * headDim, headDim);
            }
            float[] qScaled = new float[headDim];
            float[] dqAcc = new float[headDim];
            float[] dOut = new float[headDim];
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                for (int i = 0; i < tq; i++) {
                    int qRow = b * tq + i;
                    long qAt = s.q.at(qRow, h * headDim);
                    long gAt = g.at(qRow, h * headDim);
                    float rowLse = lse[(b * nHeads + h) * tq + i];
                    Arrays.fill(dqAcc, 0f);
                    if (rowLse != Float.NEGATIVE_INFINITY) {
                        float dDot = Vec.dot(g.seg(), gAt, s.out.seg(), s.out.at(qRow, h * headDim), headDim);
                        for (int d = 0; d < headDim; d++) {
                            qScaled[d] = scale * Vec.get(s.q.seg(), qAt, d);
                            dOut[d] = Vec.get(g.seg(), gAt, d);
                        }
                        int visible = visibleKeys(causal, tq, tk, i);
                        for (int j = 0; j < visible; j++) {
                            if (keyMaskOrNull != null && keyMaskOrNull[b * tk + j] == 0) {
                                continue;
                            }
                            int kRow = b * tk + j;
                            long kAt = s.k.at(kRow, kvh * headDim);
                            long vAt = s.v.at(kRow, kvh * headDim);
                            float p = (float) Math.exp(Vec.dot(qScaled, 0, s.k.seg(), kAt, headDim) - rowLse);
                            float dp = Vec.dot(dOut, 0, s.v.seg(), vAt, headDim);
                            float ds = p * (dp - dDot);
                            Vec.axpy(ds, s.k.seg(), kAt, dqAcc, 0, headDim);               // dq += ds·k_j
                            Vec.axpy(ds, qScaled, 0, dkr.seg(), dkr.at(kRow, kvh * headDim), headDim); // dk_j += scale·ds·q
                            Vec.axpy(p, dOut, 0, dvr.seg(), dvr.at(kRow, kvh * headDim), headDim);     // dv_j += p·dout
                        }
                    }
                    long dqAt = dqr.at(qRow, h * headDim);
                    for (int d = 0; d < headDim; d++) {
                        Vec.set(dqr.seg(), dqAt, d, scale * dqAcc[d]);
                    }
                }
            }
        });
    }

    /** Keys query i may see: all Tk, or under the causal mask those at positions ≤ Tk − Tq + i. */
    static int visibleKeys(boolean causal, int tq, int tk, int i) {
        return causal ? Math.max(0, Math.min(tk, tk - tq + i + 1)) : tk;
    }

    private static void zero(Rows r, int row, int col, int n) {
        r.seg().asSlice(r.at(row, col), (long) n * Float.BYTES).fill((byte) 0);
    }

    /** Validated views of q, k, v, out. */
    private static final class Shapes {
        final Rows q;
        final Rows k;
        final Rows v;
        final Rows out;

        Shapes(Tensor q, Tensor k, Tensor v, Tensor out, int batch, int tq, int tk, int nHeads, int nKvHeads,
               int headDim, int[] keyMask, String op) {
            if (batch <= 0 || tq <= 0 || tk <= 0 || nHeads <= 0 || nKvHeads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException(op + ": batch, tq, tk, nHeads, nKvHeads, headDim must be positive, got "
                        + batch + ", " + tq + ", " + tk + ", " + nHeads + ", " + nKvHeads + ", " + headDim);
            }
            if (nHeads % nKvHeads != 0) {
                throw new IllegalArgumentException(op + ": nHeads " + nHeads + " is not a multiple of nKvHeads " + nKvHeads);
            }
            this.q = Rows.of(q, op + ": q", batch * tq, nHeads * headDim);
            this.k = Rows.of(k, op + ": k", batch * tk, nKvHeads * headDim);
            this.v = Rows.of(v, op + ": v", batch * tk, nKvHeads * headDim);
            this.out = Rows.of(out, op + ": out", batch * tq, nHeads * headDim);
            if (keyMask != null && keyMask.length != batch * tk) {
                throw new IllegalArgumentException(op + ": keyMask has length " + keyMask.length + ", expected batch*tk = "
                        + batch * tk);
            }
        }
    }
}
