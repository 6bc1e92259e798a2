package dev.lora4j.nn;

import dev.lora4j.tensor.Tensor;

/**
 * Something added to a frozen {@link Embedding}'s lookup, e.g. a LoRA branch {@code s·Aᵀ[ids]·Bᵀ}.
 * It sees the looked-up ids, adds its rows to the output, and in backward accumulates its own
 * parameter gradients (ids have no gradient, so nothing flows further down).
 */
public interface EmbeddingAdapter {
    /** {@code out[r] += adapter(ids[r])}; out is [ids.length, dim]. */
    void forward(int[] ids, Tensor out);

    /** Accumulates the adapter's gradients for the gradient {@code dOut} [ids.length, dim] of the lookup's output. */
    void backward(int[] ids, Tensor dOut);
}
