package dev.lora4j.tokenizer;

import java.nio.file.Path;

/** A tokenizer file that cannot be read: names the file and what was wrong with it. */
public final class TokenizerFormatException extends RuntimeException {
    public TokenizerFormatException(String source, String message) {
        super(source + ": " + message);
    }

    public TokenizerFormatException(Path source, String message) {
        this(source.toString(), message);
    }

    public TokenizerFormatException(String source, String message, Throwable cause) {
        super(source + ": " + message, cause);
    }
}
