package dev.lora4j.serve.engine;

import dev.lora4j.generate.FinishReason;

/**
 * Receives one request's output, on the engine's thread: keep each call short (hand the piece to
 * the connection's writer and return). Exactly one of {@link #onFinish} or {@link #onError} ends
 * the calls.
 */
public interface CompletionListener {
    /** A generated token id (called before its text, which may come later with the next tokens). */
    default void onToken(int tokenId) {}

    /** The next piece of text: whole characters only, never the start of a stop string that may still match. */
    default void onText(String piece) {}

    /**
     * The request is done.
     *
     * @param reason          why it stopped (null when cancelled)
     * @param promptTokens    tokens of the prompt
     * @param completionTokens tokens generated (a stop token counts, as in OpenAI's usage)
     * @param text            the whole generated text, stop string and after cut off
     */
    void onFinish(FinishReason reason, int promptTokens, int completionTokens, String text);

    /** The request failed inside the engine (a bug or an adapter that could not be used): a server error. */
    default void onError(Throwable error) {}
}
