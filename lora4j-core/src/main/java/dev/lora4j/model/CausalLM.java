package dev.lora4j.model;

import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * A decoder-only language model: token ids in, next-token logits out. Built by an {@link Architecture}
 * over memory-mapped weights; closing it unmaps them.
 */
public interface CausalLM extends AutoCloseable {
    ModelConfig config();

    /**
     * Logits [batch·seqLen, vocab] (row b·seqLen + t predicts the token after position t of row b).
     * The layers keep what backward needs. The returned tensor is the model's own buffer, valid until
     * the next forward call (buffers are reused so that repeated steps allocate nothing).
     * For training and evaluation prefer {@link dev.lora4j.train.LanguageModelLoss}, which never holds
     * all rows' logits at once.
     */
    default Tensor forward(TokenBatch batch) {
        return head().forward(forwardHidden(batch));
    }

    /**
     * Propagates {@code dLogits} [rows, vocab] back through the model from the last {@link #forward};
     * frozen weights get no gradient, adapters attached to the linear and embedding layers accumulate theirs.
     */
    default void backward(Tensor dLogits) {
        // the same buffer as LanguageModelLoss uses: the gradient of the final hidden states
        Tensor dHidden = dev.lora4j.nn.Buffers.gradient("CausalLM.dHidden", dLogits.dim(0), head().inFeatures());
        head().backward(dLogits, dHidden, false);
        backwardHidden(dHidden);
    }

    /**
     * The last hidden states [batch·seqLen, hidden], after the final norm: what {@link #head()}
     * turns into logits. The layers keep what {@link #backwardHidden} needs.
     */
    Tensor forwardHidden(TokenBatch batch);

    /** The output projection hidden → vocab ({@code lm_head}; with tied embeddings, the embedding matrix). */
    Linear head();

    /** Propagates the gradient of {@link #forwardHidden}'s output back through the model. */
    void backwardHidden(Tensor dHidden);

    /**
     * The model's activation policy: keep every block's activations for backward (the default), or
     * keep only each block's input and recompute the block's forward during backward
     * ({@code activationMemory().setRecompute(true)}: about one more forward per step for much less
     * activation memory, with bit-identical gradients).
     */
    dev.lora4j.nn.ActivationMemory activationMemory();

    /** An empty KV cache for {@code batchSize} sequences of up to {@code capacity} tokens each. */
    KvCache newKvCache(int batchSize, int capacity);

    /**
     * Inference step over a KV cache: {@code step} holds the next seqLen tokens of every sequence
     * (the prompts at prefill, left-padded to one length with mask 0 on the padding and positions
     * cumsum(mask) − 1; then one token per sequence per decode step, at the sequence's next
     * position). Their keys and values are appended to {@code cache}. Returns the logits
     * [batch, vocab] of each sequence's last token of the step: the next-token distribution. The
     * returned tensor is the model's own buffer, valid until the next call. Nothing is kept for
     * {@link #backward}, which must follow a {@link #forward(TokenBatch)}.
     */
    Tensor forwardCached(TokenBatch step, KvCache cache);

    /** Every linear layer with its module path (as in the checkpoint), in model order. */
    List<Linear> linears();

    /**
     * Every embedding lookup with its module path, in model order (LoRA may target them). The default,
     * none, suits a model whose embeddings cannot take an adapter.
     */
    default List<Embedding> embeddings() {
        return List.of();
    }

    @Override
    void close();
}
