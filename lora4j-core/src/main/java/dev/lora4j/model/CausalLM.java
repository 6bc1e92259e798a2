package dev.lora4j.model;

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
     */
    Tensor forward(TokenBatch batch);

    /**
     * Propagates {@code dLogits} [rows, vocab] back through the model from the last {@link #forward};
     * frozen weights get no gradient, adapters attached to the linear layers accumulate theirs.
     */
    void backward(Tensor dLogits);

    /** Every linear layer with its module path (as in the checkpoint), in model order. */
    List<Linear> linears();

    @Override
    void close();
}
