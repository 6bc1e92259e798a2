package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * A row-wise part of a transformer block with its own backward: a norm or an MLP. Forward keeps what
 * backward needs; backward takes the gradient of forward's output and returns its input's.
 */
public interface Sublayer {
    Tensor forward(Tensor x);

    Tensor backward(Tensor dy);

    /** The linear layers inside (where adapters can attach); none for a norm. */
    default List<Linear> linears() {
        return List.of();
    }
}
