package dev.lora4j.generate;

/** Why a sequence stopped growing. */
public enum FinishReason {
    /** It generated one of the stop tokens (e.g. end of sequence). */
    STOP_TOKEN,
    /** Its text came to contain a stop string. */
    STOP_STRING,
    /** It reached the maximum number of new tokens, or the model's last position. */
    LENGTH
}
