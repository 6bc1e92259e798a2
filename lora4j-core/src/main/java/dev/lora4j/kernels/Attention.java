package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.lora4j.kernels.ThreadScratch.Slot;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
 * <p>Forward, per (sequence, query head), in blocks of {@link #BLOCK} query rows: scores
 * S = scale·Q_blk·Kᵀ [BLOCK, keys the block's last row sees], P = softmax(S) row by row (max
 * subtracted; keys beyond a row's causal limit or masked get p = 0), out_blk = P·V. It saves
 * lse = log Σ exp(s_j) per query row ([B, Hq, Tq] flattened; −∞ for a query with no keys) and
 * never builds the [B, H, Tq, Tk] score tensor: the largest scratch is one [BLOCK, Tk] tile.
 *
 * <p>Backward recomputes P = exp(S − lse) block by block. With dP = dout·Vᵀ and
 * D = ⟨dout, out⟩ (= Σ_j p_j dp_j): dS = P ⊙ (dP − D); dq = scale·dS·K; dK += scale·dSᵀ·Q;
 * dV += Pᵀ·dout. It runs one task per (sequence, key/value head), which owns the dk/dv rows it
 * accumulates into, so no two threads write the same memory.
 *
 * <p>Each product is a small dense tile product ({@link AttentionTiles}) on contiguous copies of
 * the head's q, k, v columns (K and V also transposed), so every loaded vector feeds several FMAs.
 */
public final class Attention {
    private Attention() {}

    /** Query rows per block: the score tile is [BLOCK, keys seen by the block's last row]. */
    static final int BLOCK = 32;

    public static void forward(Tensor q, Tensor k, Tensor v, Tensor out, int batch, int tq, int tk, int nHeads,
                               int nKvHeads, int headDim, boolean causal, int[] keyMaskOrNull, float scale,
                               float[] lseOrNull) {
        Shapes s = new Shapes(q, k, v, out, batch, tq, tk, nHeads, nKvHeads, headDim, keyMaskOrNull, "attention");
        Rows.checkStats(lseOrNull, "attention: lse", batch * nHeads * tq);
        int group = nHeads / nKvHeads;
        if (tq == 1) {
            forwardOneQuery(s, batch, tk, nHeads, group, headDim, keyMaskOrNull, scale, lseOrNull);
            return;
        }
        Parallel.forEach(batch * nHeads, task -> {
            int b = task / nHeads;
            int h = task % nHeads;
            int kvh = h / group;
            float[] kt = transposedHead(s.k, b * tk, tk, kvh * headDim, headDim, Slot.ATTENTION_KT);   // [hd, Tk]
            float[] vh = head(s.v, b * tk, tk, kvh * headDim, headDim, Slot.ATTENTION_V);              // [Tk, hd]
            float[] qs = ThreadScratch.floats(Slot.ATTENTION_Q, BLOCK * headDim);
            float[] p = ThreadScratch.floats(Slot.ATTENTION_P, BLOCK * tk);
            float[] o = ThreadScratch.floats(Slot.ATTENTION_O, BLOCK * headDim);
            for (int i0 = 0; i0 < tq; i0 += BLOCK) {
                int mb = Math.min(BLOCK, tq - i0);
                int kEnd = visibleKeys(causal, tq, tk, i0 + mb - 1);   // keys the block's last row sees
                Arrays.fill(o, 0, mb * headDim, 0f);
                if (kEnd > 0) {
                    readRows(s.q, b * tq + i0, mb, h * headDim, headDim, qs, scale);
                    Arrays.fill(p, 0, mb * kEnd, 0f);
                    AttentionTiles.mulAdd(qs, 0, headDim, 1, kt, 0, tk, p, 0, kEnd, mb, kEnd, headDim);  // s = scale·q·kᵀ
                    for (int r = 0; r < mb; r++) {
                        float lse = softmaxRow(p, r * kEnd, kEnd, visibleKeys(causal, tq, tk, i0 + r), keyMaskOrNull, b * tk);
                        if (lseOrNull != null) {
                            lseOrNull[(b * nHeads + h) * tq + i0 + r] = lse;
                        }
                    }
                    AttentionTiles.mulAdd(p, 0, kEnd, 1, vh, 0, headDim, o, 0, headDim, mb, headDim, kEnd);   // out = p·v
                } else if (lseOrNull != null) {
                    Arrays.fill(lseOrNull, (b * nHeads + h) * tq + i0, (b * nHeads + h) * tq + i0 + mb,
                            Float.NEGATIVE_INFINITY);
                }
                writeRows(o, s.out, b * tq + i0, mb, h * headDim, headDim, 1f);
            }
        });
    }

    /**
     * One query per sequence (decoding): scores straight from the cached key rows, out as a sum of the
     * cached value rows, with no copy or transpose of the cache (which would cost more than the
     * arithmetic at one query). Always this path for Tq = 1, in training and inference alike, so a
     * decoded token's result does not depend on how many sequences are decoded with it.
     */
    private static void forwardOneQuery(Shapes s, int batch, int tk, int nHeads, int group, int headDim, int[] keyMask,
                                        float scale, float[] lseOrNull) {
        Parallel.forEach(batch * nHeads, task -> {
            int b = task / nHeads;
            int h = task % nHeads;
            float lse = oneQuery(s.q, b, s.k, s.v, b * tk, tk, keyMask, b * tk, s.out, h, (h / group) * headDim, headDim, scale);
            if (lseOrNull != null) {
                lseOrNull[b * nHeads + h] = lse;
            }
        });
    }

    /**
     * A decode step over sequences of different lengths, each with its own cache: query row b of
     * {@code q} [B, Hq·hd] attends to {@code keys.get(b)} and {@code values.get(b)} [Tk_b, Hkv·hd]
     * (all of them: the query is the newest token), except where {@code masks.get(b)} (null: none)
     * is 0. One task per (sequence, head) for the whole batch. The same arithmetic as
     * {@link #forward} with Tq = 1, so a sequence gets the same bits decoded alone or among others.
     */
    public static void forwardDecode(Tensor q, java.util.List<Tensor> keys, java.util.List<Tensor> values,
                                     java.util.List<int[]> masks, Tensor out, int nHeads, int nKvHeads, int headDim,
                                     float scale) {
        int batch = keys.size();
        if (values.size() != batch || masks.size() != batch || nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("attention decode: " + batch + " key tensors, " + values.size()
                    + " value tensors, " + masks.size() + " masks; heads " + nHeads + " / " + nKvHeads);
        }
        Rows qr = Rows.of(q, "attention decode: q", batch, nHeads * headDim);
        Rows outr = Rows.of(out, "attention decode: out", batch, nHeads * headDim);
        Rows[] kr = new Rows[batch];
        Rows[] vr = new Rows[batch];
        for (int b = 0; b < batch; b++) {
            int tk = keys.get(b).dim(0);
            kr[b] = Rows.of(keys.get(b), "attention decode: keys of sequence " + b, tk, nKvHeads * headDim);
            vr[b] = Rows.of(values.get(b), "attention decode: values of sequence " + b, tk, nKvHeads * headDim);
            if (masks.get(b) != null && masks.get(b).length != tk) {
                throw new IllegalArgumentException("attention decode: mask of sequence " + b + " has length "
                        + masks.get(b).length + ", expected " + tk);
            }
        }
        int group = nHeads / nKvHeads;
        int tasks = batch * nHeads;
        long flops = 0;
        for (Rows k : kr) {
            flops += 4L * k.rows() * headDim * nHeads;
        }
        // Contiguous ranges of (sequence, head) tasks, only as many as the work pays for (a small
        // model's decode step is a few microseconds of arithmetic: handing it out would cost more).
        int chunks = (int) Math.min(tasks, Math.max(1, flops / MatmulSkinny.MIN_FLOPS_PER_THREAD));
        Parallel.forEach(chunks, c -> {
            for (int task = tasks * c / chunks, end = tasks * (c + 1) / chunks; task < end; task++) {
                int b = task / nHeads;
                int h = task % nHeads;
                oneQuery(qr, b, kr[b], vr[b], 0, kr[b].rows(), masks.get(b), 0, outr, h, (h / group) * headDim, headDim, scale);
            }
        });
    }

    /**
     * Head h of query row {@code qRow} against keys/values rows kRow0 .. kRow0 + tk − 1 (key/value
     * columns from {@code kCol}): s_j = (scale·q)·k_j, a vector of lane sums over the head's features
     * added in lane order; p = softmax over the unmasked keys; out = Σ_j p_j·v_j, in key order.
     * Returns the log-sum-exp.
     */
    private static float oneQuery(Rows qs, int qRow, Rows ks, Rows vs, int kRow0, int tk, int[] keyMask, int maskAt,
                                  Rows outs, int h, int kCol, int headDim, float scale) {
        int hv = S.loopBound(headDim);
        float[] q = ThreadScratch.floats(Slot.ATTENTION_Q, headDim);
        float[] p = ThreadScratch.floats(Slot.ATTENTION_P, tk);
        float[] o = ThreadScratch.floats(Slot.ATTENTION_O, headDim);
        float[] lanes = ThreadScratch.floats(Slot.ATTENTION_ROW, L);
        readRows(qs, qRow, 1, h * headDim, headDim, q, scale);
        MemorySegment kSeg = ks.seg();
        MemorySegment vSeg = vs.seg();
        for (int j = 0; j < tk; j++) {
            long at = ks.at(kRow0 + j, kCol);
            FloatVector acc = FloatVector.zero(S);
            for (int d = 0; d < hv; d += L) {
                acc = FloatVector.fromArray(S, q, d).fma(FloatVector.fromMemorySegment(S, kSeg, at + 4L * d, NATIVE), acc);
            }
            acc.intoArray(lanes, 0);
            float dot = 0f;
            for (int l = 0; l < L; l++) {
                dot += lanes[l];
            }
            for (int d = hv; d < headDim; d++) {
                dot = Math.fma(q[d], kSeg.get(F, at + 4L * d), dot);
            }
            p[j] = dot;
        }
        float lse = softmaxRow(p, 0, tk, tk, keyMask, maskAt);
        Arrays.fill(o, 0, headDim, 0f);
        for (int j = 0; j < tk; j++) {
            long at = vs.at(kRow0 + j, kCol);
            FloatVector pj = FloatVector.broadcast(S, p[j]);
            int d = 0;
            for (; d < hv; d += L) {
                pj.fma(FloatVector.fromMemorySegment(S, vSeg, at + 4L * d, NATIVE), FloatVector.fromArray(S, o, d)).intoArray(o, d);
            }
            for (; d < headDim; d++) {
                o[d] = Math.fma(p[j], vSeg.get(F, at + 4L * d), o[d]);
            }
        }
        writeRows(o, outs, qRow, 1, h * headDim, headDim, 1f);
        return lse;
    }

    /**
     * Turns scores {@code p[at .. at+n)} into probabilities over the first {@code visible} keys that
     * the mask lets through (the rest become 0); returns lse = log Σ exp(s_j), −∞ (and an all-zero
     * row) when no key is visible.
     *
     * <p>Only the visible keys enter the max and the sum, so a query's result depends on the keys it
     * sees and nothing else: not on how many keys the block's last row sees, which changes with the
     * size of the step. That makes a prompt prefilled in chunks (the server) give the same bits as
     * one prefill of the whole prompt ({@code lora4j generate}).
     */
    private static float softmaxRow(float[] p, int at, int n, int visible, int[] keyMask, int maskAt) {
        Arrays.fill(p, at + visible, at + n, 0f);
        if (keyMask != null) {
            for (int j = 0; j < visible; j++) {
                if (keyMask[maskAt + j] == 0) {
                    p[at + j] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        float max = Vec.max(p, at, visible);
        if (max == Float.NEGATIVE_INFINITY) {
            Arrays.fill(p, at, at + visible, 0f);
            return Float.NEGATIVE_INFINITY;
        }
        float sum = Vec.expShiftInPlace(p, at, visible, max);    // masked keys: exp(−∞) = 0
        float inv = 1f / sum;
        for (int j = at; j < at + visible; j++) {
            p[j] *= inv;
        }
        return max + (float) Math.log(sum);
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
            float[] kt = transposedHead(s.k, b * tk, tk, kvh * headDim, headDim, Slot.ATTENTION_KT);   // [hd, Tk]
            float[] vt = transposedHead(s.v, b * tk, tk, kvh * headDim, headDim, Slot.ATTENTION_VT);   // [hd, Tk]
            float[] kh = head(s.k, b * tk, tk, kvh * headDim, headDim, Slot.ATTENTION_K);              // [Tk, hd]
            float[] dkAcc = ThreadScratch.floats(Slot.ATTENTION_DK, tk * headDim);
            float[] dvAcc = ThreadScratch.floats(Slot.ATTENTION_DV, tk * headDim);
            Arrays.fill(dkAcc, 0, tk * headDim, 0f);
            Arrays.fill(dvAcc, 0, tk * headDim, 0f);
            float[] qs = ThreadScratch.floats(Slot.ATTENTION_Q, BLOCK * headDim);
            float[] go = ThreadScratch.floats(Slot.ATTENTION_G, BLOCK * headDim);
            float[] dqb = ThreadScratch.floats(Slot.ATTENTION_O, BLOCK * headDim);
            float[] p = ThreadScratch.floats(Slot.ATTENTION_P, BLOCK * tk);
            float[] ds = ThreadScratch.floats(Slot.ATTENTION_DS, BLOCK * tk);
            float[] dDot = ThreadScratch.floats(Slot.ATTENTION_D, BLOCK);
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                for (int i0 = 0; i0 < tq; i0 += BLOCK) {
                    int mb = Math.min(BLOCK, tq - i0);
                    int kEnd = visibleKeys(causal, tq, tk, i0 + mb - 1);
                    Arrays.fill(dqb, 0, mb * headDim, 0f);
                    if (kEnd > 0) {
                        readRows(s.q, b * tq + i0, mb, h * headDim, headDim, qs, scale);
                        readRows(g, b * tq + i0, mb, h * headDim, headDim, go, 1f);
                        for (int r = 0; r < mb; r++) {    // D = ⟨dout, out⟩ = Σ_j p_j dp_j
                            dDot[r] = Vec.dot(go, r * headDim, s.out.seg(), s.out.at(b * tq + i0 + r, h * headDim), headDim);
                        }
                        Arrays.fill(p, 0, mb * kEnd, 0f);
                        AttentionTiles.mulAdd(qs, 0, headDim, 1, kt, 0, tk, p, 0, kEnd, mb, kEnd, headDim);
                        for (int r = 0; r < mb; r++) {    // p = exp(s − lse), recomputed
                            float rowLse = lse[(b * nHeads + h) * tq + i0 + r];
                            probabilityRow(p, r * kEnd, kEnd, visibleKeys(causal, tq, tk, i0 + r), keyMaskOrNull, b * tk, rowLse);
                        }
                        Arrays.fill(ds, 0, mb * kEnd, 0f);
                        AttentionTiles.mulAdd(go, 0, headDim, 1, vt, 0, tk, ds, 0, kEnd, mb, kEnd, headDim);  // dp = dout·vᵀ
                        for (int r = 0; r < mb; r++) {    // ds = p ⊙ (dp − D)
                            int at = r * kEnd;
                            float d = dDot[r];
                            for (int j = at; j < at + kEnd; j++) {
                                ds[j] = p[j] * (ds[j] - d);
                            }
                        }
                        AttentionTiles.mulAdd(ds, 0, kEnd, 1, kh, 0, headDim, dqb, 0, headDim, mb, headDim, kEnd);     // dq = ds·k
                        AttentionTiles.mulAdd(ds, 0, 1, kEnd, qs, 0, headDim, dkAcc, 0, headDim, kEnd, headDim, mb);   // dk += dsᵀ·(scale·q)
                        AttentionTiles.mulAdd(p, 0, 1, kEnd, go, 0, headDim, dvAcc, 0, headDim, kEnd, headDim, mb);    // dv += pᵀ·dout
                    }
                    writeRows(dqb, dqr, b * tq + i0, mb, h * headDim, headDim, scale);
                }
            }
            writeRows(dkAcc, dkr, b * tk, tk, kvh * headDim, headDim, 1f);
            writeRows(dvAcc, dvr, b * tk, tk, kvh * headDim, headDim, 1f);
        });
    }

    /** p_j = exp(s_j − lse) over visible, unmasked keys; 0 elsewhere (and everywhere when lse = −∞). */
    private static void probabilityRow(float[] p, int at, int n, int visible, int[] keyMask, int maskAt, float lse) {
        if (lse == Float.NEGATIVE_INFINITY) {
            Arrays.fill(p, at, at + n, 0f);
            return;
        }
        Arrays.fill(p, at + visible, at + n, Float.NEGATIVE_INFINITY);
        if (keyMask != null) {
            for (int j = 0; j < visible; j++) {
                if (keyMask[maskAt + j] == 0) {
                    p[at + j] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        Vec.expShiftInPlace(p, at, n, lse);
    }

    /** Columns [col, col+hd) of rows [row0, row0+n) as a contiguous [n, hd] array. */
    private static float[] head(Rows t, int row0, int n, int col, int hd, Slot slot) {
        float[] out = ThreadScratch.floats(slot, n * hd);
        readRows(t, row0, n, col, hd, out, 1f);
        return out;
    }

    /** The transpose of {@link #head}: [hd, n], so a key's features run down a column. */
    private static float[] transposedHead(Rows t, int row0, int n, int col, int hd, Slot slot) {
        float[] out = ThreadScratch.floats(slot, hd * n);
        float[] row = ThreadScratch.floats(Slot.ATTENTION_ROW, hd);
        for (int j = 0; j < n; j++) {
            MemorySegment.copy(t.seg(), F, t.at(row0 + j, col), row, 0, hd);
            for (int d = 0; d < hd; d++) {
                out[d * n + j] = row[d];
            }
        }
        return out;
    }

    /** dst[r·hd + d] = factor·t[row0 + r, col + d]. */
    private static void readRows(Rows t, int row0, int n, int col, int hd, float[] dst, float factor) {
        for (int r = 0; r < n; r++) {
            MemorySegment.copy(t.seg(), F, t.at(row0 + r, col), dst, r * hd, hd);
        }
        if (factor != 1f) {
            for (int i = 0; i < n * hd; i++) {
                dst[i] *= factor;
            }
        }
    }

    /** t[row0 + r, col + d] = factor·src[r·hd + d]. */
    private static void writeRows(float[] src, Rows t, int row0, int n, int col, int hd, float factor) {
        if (factor != 1f) {
            for (int i = 0; i < n * hd; i++) {
                src[i] *= factor;
            }
        }
        for (int r = 0; r < n; r++) {
            MemorySegment.copy(src, r * hd, t.seg(), F, t.at(row0 + r, col), hd);
        }
    }

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Float> S = Vec.S;
    private static final int L = Vec.L;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Keys query i may see: all Tk, or under the causal mask those at positions ≤ Tk − Tq + i. */
    static int visibleKeys(boolean causal, int tq, int tk, int i) {
        return causal ? Math.max(0, Math.min(tk, tk - tq + i + 1)) : tk;
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
