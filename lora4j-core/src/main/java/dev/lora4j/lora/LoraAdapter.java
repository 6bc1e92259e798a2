package dev.lora4j.lora;

import dev.lora4j.tensor.Parameter;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What every LoRA branch has, whichever layer it sits on: two trainable factors A and B of rank r, a
 * scale s, PEFT's initialization, and the switches a {@link LoraModel} flips for all of them at once.
 */
public sealed interface LoraAdapter permits LoraLinear, LoraEmbedding {
    /** The adapted module's path, e.g. {@code model.layers.0.self_attn.q_proj} or {@code model.embed_tokens}. */
    String modulePath();

    Parameter loraA();

    Parameter loraB();

    /** A then B. */
    default List<Parameter> parameters() {
        return List.of(loraA(), loraB());
    }

    /** r: the inner dimension of B·A (A's first axis in both PEFT layouts). */
    default int rank() {
        return loraA().shape()[0];
    }

    float scaling();

    /** Initializes A and B as PEFT does for {@code init}, from a seeded generator. */
    void initialize(InitLoraWeights init, SplittableRandom rng);

    /** Training mode (dropout on, where the adapter has any); {@code step} and {@code seed} pick this step's masks. */
    void setTraining(boolean training, long seed, long step);

    /** A disabled adapter adds nothing (PEFT's disable_adapter). */
    void setEnabled(boolean enabled);

    boolean enabled();

    /** Frees what forward kept. */
    void clearSaved();
}
