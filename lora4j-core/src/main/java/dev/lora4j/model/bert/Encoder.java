package dev.lora4j.model.bert;

import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * A bidirectional transformer encoder (BERT family): token ids in, one hidden state per token out.
 * Unlike a causal LM every token sees every real (unmasked) token of its sequence; padding is
 * excluded as attention keys by {@link TokenBatch#attentionMask()}.
 */
public interface Encoder extends AutoCloseable {
    BertConfig config();

    /**
     * Last hidden states [batch·seqLen, hidden] (row b·seqLen + t is token t of sequence b).
     *
     * @param tokenTypeIdsOrNull segment ids per row (all 0 when null)
     */
    Tensor forward(TokenBatch batch, int[] tokenTypeIdsOrNull);

    default Tensor forward(TokenBatch batch) {
        return forward(batch, null);
    }

    /**
     * Propagates {@code dHidden} [rows, hidden] back through the encoder from the last forward;
     * frozen weights get no gradient, adapters attached to the linear layers accumulate theirs.
     */
    void backward(Tensor dHidden);

    /**
     * The encoder's activation policy: keep every layer's activations for backward (the default), or
     * recompute each layer's forward during backward ({@code setRecompute(true)}; see {@link ActivationMemory}).
     */
    ActivationMemory activationMemory();

    /** Every linear layer with its module path, in model order. */
    List<Linear> linears();

    @Override
    void close();
}
