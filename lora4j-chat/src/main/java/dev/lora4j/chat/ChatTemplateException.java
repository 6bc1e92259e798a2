package dev.lora4j.chat;

/** A chat template that cannot be read or rendered, or that refuses a conversation (its raise_exception). */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
