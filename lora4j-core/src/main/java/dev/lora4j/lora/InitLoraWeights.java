package dev.lora4j.lora;

/** PEFT's {@code init_lora_weights}: how A and B start before training. */
public enum InitLoraWeights {
    /** {@code true}: A ~ Kaiming-uniform (a = √5, i.e. U(-1/√in, 1/√in)), B = 0, so the adapter starts as a no-op. */
    KAIMING,
    /** {@code "gaussian"}: A ~ N(0, 1/r), B = 0. */
    GAUSSIAN,
    /** {@code false}: random A and B (PEFT uses this for tests: the adapter is not a no-op). */
    RANDOM;
}
