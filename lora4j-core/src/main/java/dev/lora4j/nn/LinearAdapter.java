package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;

/**
 * Something added to a frozen {@link Linear}'s output, e.g. a LoRA branch {@code s·(x·Aᵀ)·Bᵀ}. It sees
 * the same input, adds its contribution to the output, and in backward adds its part of the input
 * gradient (and accumulates its own parameter gradients).
 */
public interface LinearAdapter {
    /** {@code y += adapter(x)}; x is [rows, in], y is [rows, out]. */
    void forward(Tensor x, Tensor y);

    /** {@code dx += d adapter(x)/dx · dy}, and accumulates the adapter's own gradients. */
    void backward(Tensor dy, Tensor x, Tensor dx);

    /** Lets go of what forward saved for backward (activation recomputation will run forward again). */
    default void clearSaved() {}
}
