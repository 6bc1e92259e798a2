package dev.lora4j.nn;

import dev.lora4j.kernels.Attention;
import dev.lora4j.kernels.Rope;
import dev.lora4j.kernels.RopeTable;
import dev.lora4j.tensor.Tensor;

/**
 * Causal multi-head self-attention with grouped-query heads:
 * q, k, v = projections of x; RoPE on q and k (when the model uses it); per head
 * {@code softmax(q·kᵀ·scale + causal/padding mask)·v}; then the output projection.
 *
 * <p>The projections are either separate (Llama, Qwen2: q_proj, k_proj, v_proj) or one fused
 * [3·hidden] projection whose output columns are q | k | v (GPT-2's c_attn); in the fused case q, k
 * and v are column views of one buffer, not copies. Forward keeps q and k after RoPE, v, the attention
 * output and the per-row log-sum-exp, from which backward recomputes the attention weights.
 */
public final class SelfAttention {
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear qkvProj;
    private final Linear oProj;
    private final int nHeads;
    private final int nKvHeads;
    private final int headDim;
    private final RotaryEmbedding rope;
    private final float scale;
    private final ActivationMemory.Slot outSlot;
    private final ActivationMemory.Slot lseSlot;

    private TokenBatch savedBatch;
    private RopeTable savedTable;
    private Tensor savedQ;
    private Tensor savedK;
    private Tensor savedV;
    private Tensor savedOut;
    private float[] savedLse;

    private SelfAttention(Linear q, Linear k, Linear v, Linear qkv, Linear o, int nHeads, int nKvHeads, int headDim,
                          RotaryEmbedding ropeOrNull, ActivationMemory memory) {
        this.qProj = q;
        this.kProj = k;
        this.vProj = v;
        this.qkvProj = qkv;
        this.oProj = o;
        this.nHeads = nHeads;
        this.nKvHeads = nKvHeads;
        this.headDim = headDim;
        this.rope = ropeOrNull;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        String path = Buffers.parentPath(o.name());  // the attention module: its output projection's parent
        this.outSlot = memory.slot(path, "out");
        this.lseSlot = memory.slot(path, "lse");
    }

    /** Separate q/k/v projections (Llama family). */
    public static SelfAttention separate(Linear q, Linear k, Linear v, Linear o, int nHeads, int nKvHeads, int headDim,
                                         RotaryEmbedding ropeOrNull) {
        return separate(q, k, v, o, nHeads, nKvHeads, headDim, ropeOrNull, new ActivationMemory());
    }

    /** As above, with the buffers backward reads placed by a model's activation policy. */
    public static SelfAttention separate(Linear q, Linear k, Linear v, Linear o, int nHeads, int nKvHeads, int headDim,
                                         RotaryEmbedding ropeOrNull, ActivationMemory memory) {
        check(q.outFeatures() == nHeads * headDim, "q projection", q);
        check(k.outFeatures() == nKvHeads * headDim, "k projection", k);
        check(v.outFeatures() == nKvHeads * headDim, "v projection", v);
        check(o.inFeatures() == nHeads * headDim, "output projection", o);
        return new SelfAttention(q, k, v, null, o, nHeads, nKvHeads, headDim, ropeOrNull, memory);
    }

    /** One fused projection with output columns q | k | v (GPT-2's c_attn); no key/value grouping. */
    public static SelfAttention fused(Linear qkv, Linear o, int nHeads, int headDim, RotaryEmbedding ropeOrNull) {
        return fused(qkv, o, nHeads, headDim, ropeOrNull, new ActivationMemory());
    }

    /** As above, with the buffers backward reads placed by a model's activation policy. */
    public static SelfAttention fused(Linear qkv, Linear o, int nHeads, int headDim, RotaryEmbedding ropeOrNull,
                                      ActivationMemory memory) {
        check(qkv.outFeatures() == 3 * nHeads * headDim, "fused qkv projection", qkv);
        check(o.inFeatures() == nHeads * headDim, "output projection", o);
        return new SelfAttention(null, null, null, qkv, o, nHeads, nHeads, headDim, ropeOrNull, memory);
    }

    private static void check(boolean ok, String what, Linear layer) {
        if (!ok) {
            throw new IllegalArgumentException(what + " " + layer + " does not match the head layout");
        }
    }

    /** The queries, keys and values of x, q and k rotated by RoPE (table null without RoPE). */
    private record Qkv(Tensor q, Tensor k, Tensor v, RopeTable table) {}

    /** Projects x to q, k, v (one fused product or three) and applies RoPE at the batch's positions. */
    private Qkv project(Tensor x, TokenBatch batch) {
        int qWidth = nHeads * headDim;
        int kvWidth = nKvHeads * headDim;
        Tensor q;
        Tensor k;
        Tensor v;
        if (qkvProj != null) {
            Tensor qkv = qkvProj.forward(x);
            q = qkv.slice(1, 0, qWidth);
            k = qkv.slice(1, qWidth, qWidth + kvWidth);
            v = qkv.slice(1, qWidth + kvWidth, qWidth + 2 * kvWidth);
        } else {
            q = qProj.forward(x);
            k = kProj.forward(x);
            v = vProj.forward(x);
        }
        RopeTable table = null;
        if (rope != null) {
            table = rope.table(batch.maxPosition());
            Rope.apply(q, batch.positions(), nHeads, headDim, table);
            Rope.apply(k, batch.positions(), nKvHeads, headDim, table);
        }
        return new Qkv(q, k, v, table);
    }

    /** x [B·T, hidden] → [B·T, hidden]. */
    public Tensor forward(Tensor x, TokenBatch batch) {
        int rows = x.dim(0);
        int qWidth = nHeads * headDim;
        Qkv p = project(x, batch);
        Tensor q = p.q();
        Tensor k = p.k();
        Tensor v = p.v();
        RopeTable table = p.table();
        Tensor out = outSlot.matrix(rows, qWidth);
        float[] lse = lseSlot.vector(batch.batchSize() * nHeads * batch.seqLen());
        Attention.forward(q, k, v, out, batch.batchSize(), batch.seqLen(), batch.seqLen(), nHeads, nKvHeads, headDim,
                true, batch.attentionMask(), scale, lse);
        savedBatch = batch;
        savedTable = table;
        savedQ = q;
        savedK = k;
        savedV = v;
        savedOut = out;
        savedLse = lse;
        // The projection's result is only added to the residual stream: one buffer serves every layer.
        Tensor projected = Buffers.shared("SelfAttention.projected", rows, oProj.outFeatures());
        oProj.forward(out, projected);
        return projected;
    }

    /**
     * Inference over a KV cache: x [B·T, hidden] holds the step's T new tokens of each of the B
     * sequences (a whole prompt at prefill, one token per decode step). Their keys and values join
     * layer {@code layer}'s slots in {@code cache} (between its beginStep and endStep), and each new
     * query attends causally to all earlier slots of its sequence except padding. Nothing is kept
     * for backward.
     */
    public Tensor forwardCached(Tensor x, TokenBatch step, KvCache cache, int layer) {
        int rows = x.dim(0);
        int t = step.seqLen();
        int qWidth = nHeads * headDim;
        Qkv p = project(x, step);
        Tensor q = p.q();
        cache.append(layer, p.k(), p.v());
        // Inference keeps nothing between layers: the attention output and its projection are scratch.
        Tensor out = Buffers.shared("SelfAttention.cachedOut", rows, qWidth);
        // Each sequence's slots are its own buffers, and sequences may be at different lengths (the
        // server decodes requests of different ages together). A decode step runs every sequence's
        // heads in one parallel pass; a prompt step runs the blocked kernel per sequence.
        if (t == 1) {
            java.util.List<Tensor> keys = new java.util.ArrayList<>(step.batchSize());
            java.util.List<Tensor> values = new java.util.ArrayList<>(step.batchSize());
            java.util.List<int[]> masks = new java.util.ArrayList<>(step.batchSize());
            for (int b = 0; b < step.batchSize(); b++) {
                keys.add(cache.keys(layer, b));
                values.add(cache.values(layer, b));
                masks.add(cache.allVisible(b) ? null : cache.keyMask(b));
            }
            Attention.forwardDecode(q, keys, values, masks, out, nHeads, nKvHeads, headDim, scale);
        } else {
            for (int b = 0; b < step.batchSize(); b++) {
                int[] mask = cache.allVisible(b) ? null : cache.keyMask(b);
                Attention.forward(q.slice(0, b * t, (b + 1) * t), cache.keys(layer, b), cache.values(layer, b),
                        out.slice(0, b * t, (b + 1) * t), 1, t, cache.visibleLength(b), nHeads, nKvHeads, headDim, true,
                        mask, scale, null);
            }
        }
        Tensor projected = Buffers.shared("SelfAttention.projected", rows, oProj.outFeatures());
        oProj.forward(out, projected);
        return projected;
    }

    /** dy [B·T, hidden] → dx [B·T, hidden]; gradients flow to adapters of the projections only. */
    public Tensor backward(Tensor dy) {
        TokenBatch batch = savedBatch;
        int rows = dy.dim(0);
        Tensor dOut = Buffers.gradient("SelfAttention.dOut", rows, nHeads * headDim);
        oProj.backward(dy, dOut, false);
        Tensor dq = Buffers.gradient("SelfAttention.dq", rows, nHeads * headDim);
        Tensor dk = Buffers.gradient("SelfAttention.dk", rows, nKvHeads * headDim);
        Tensor dv = Buffers.gradient("SelfAttention.dv", rows, nKvHeads * headDim);
        Attention.backward(dOut, savedQ, savedK, savedV, savedOut, savedLse, dq, dk, dv, batch.batchSize(),
                batch.seqLen(), batch.seqLen(), nHeads, nKvHeads, headDim, true, batch.attentionMask(), scale);
        if (rope != null) {
            Rope.applyBackward(dq, batch.positions(), nHeads, headDim, savedTable);
            Rope.applyBackward(dk, batch.positions(), nKvHeads, headDim, savedTable);
        }
        Tensor dx = Buffers.gradient("SelfAttention.dx", rows, (qkvProj != null ? qkvProj : qProj).inFeatures());
        if (qkvProj != null) {
            int qWidth = nHeads * headDim;
            int kvWidth = nKvHeads * headDim;
            Tensor dqkv = Buffers.gradient("SelfAttention.dqkv", rows, qWidth + 2 * kvWidth);
            dqkv.slice(1, 0, qWidth).copyFrom(dq);
            dqkv.slice(1, qWidth, qWidth + kvWidth).copyFrom(dk);
            dqkv.slice(1, qWidth + kvWidth, qWidth + 2 * kvWidth).copyFrom(dv);
            qkvProj.backward(dqkv, dx, false);
        } else {
            qProj.backward(dq, dx, false);
            kProj.backward(dk, dx, true);
            vProj.backward(dv, dx, true);
        }
        return dx;
    }

    /** The linear layers in module order (for LoRA targeting). */
    public java.util.List<Linear> linears() {
        return qkvProj != null ? java.util.List.of(qkvProj, oProj) : java.util.List.of(qProj, kProj, vProj, oProj);
    }
}
