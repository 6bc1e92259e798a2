package dev.lora4j.model.bert;

import dev.lora4j.kernels.Attention;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * BERT self-attention: {@code q, k, v = x·Wᵀ + b}; per head {@code softmax(q·kᵀ/√d + padding mask)·v};
 * then {@code attention.output.dense}. Every token attends to every real token of its sequence (no
 * causal mask); padded keys get weight 0. Forward keeps q, k, v, the attention output and the
 * per-row log-sum-exp, from which the kernel's backward recomputes the attention weights.
 */
final class BidirectionalSelfAttention {
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear output;
    private final int nHeads;
    private final int headDim;
    private final float scale;
    private final ActivationMemory.Slot outSlot;
    private final ActivationMemory.Slot lseSlot;

    private TokenBatch savedBatch;
    private Tensor savedQ;
    private Tensor savedK;
    private Tensor savedV;
    private Tensor savedOut;
    private float[] savedLse;

    BidirectionalSelfAttention(Linear query, Linear key, Linear value, Linear output, int nHeads, int headDim,
                               ActivationMemory memory) {
        this.query = query;
        this.key = key;
        this.value = value;
        this.output = output;
        this.nHeads = nHeads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        String path = Buffers.parentPath(Buffers.parentPath(query.name()));  // encoder.layer.<i>.attention
        this.outSlot = memory.slot(path, "out");
        this.lseSlot = memory.slot(path, "lse");
    }

    Tensor forward(Tensor x, TokenBatch batch) {
        Tensor q = query.forward(x);
        Tensor k = key.forward(x);
        Tensor v = value.forward(x);
        Tensor out = outSlot.matrix(x.dim(0), nHeads * headDim);
        float[] lse = lseSlot.vector(batch.batchSize() * nHeads * batch.seqLen());
        Attention.forward(q, k, v, out, batch.batchSize(), batch.seqLen(), batch.seqLen(), nHeads, nHeads, headDim,
                false, batch.attentionMask(), scale, lse);
        savedBatch = batch;
        savedQ = q;
        savedK = k;
        savedV = v;
        savedOut = out;
        savedLse = lse;
        return output.forward(out);
    }

    Tensor backward(Tensor dy) {
        TokenBatch batch = savedBatch;
        int rows = dy.dim(0);
        int width = nHeads * headDim;
        Tensor dOut = Buffers.f32(rows, width);
        output.backward(dy, dOut, false);
        Tensor dq = Buffers.f32(rows, width);
        Tensor dk = Buffers.f32(rows, width);
        Tensor dv = Buffers.f32(rows, width);
        Attention.backward(dOut, savedQ, savedK, savedV, savedOut, savedLse, dq, dk, dv, batch.batchSize(),
                batch.seqLen(), batch.seqLen(), nHeads, nHeads, headDim, false, batch.attentionMask(), scale);
        Tensor dx = Buffers.f32(rows, query.inFeatures());
        query.backward(dq, dx, false);
        key.backward(dk, dx, true);
        value.backward(dv, dx, true);
        return dx;
    }

    List<Linear> linears() {
        return List.of(query, key, value, output);
    }
}
