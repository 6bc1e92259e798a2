package dev.lora4j.generate;

/**
 * Receives output as it is generated, sequence by sequence (index into the prompts). Text pieces
 * hold only complete characters and never the start of a possible stop string that may yet match,
 * so what a listener prints is exactly the final text.
 */
public interface GenerationListener {
    default void onToken(int sequence, int tokenId) {}

    default void onText(int sequence, String text) {}

    default void onFinish(int sequence, FinishReason reason) {}

    GenerationListener NONE = new GenerationListener() {};
}
