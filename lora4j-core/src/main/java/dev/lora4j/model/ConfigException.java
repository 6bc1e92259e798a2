package dev.lora4j.model;

/**
 * A checkpoint's {@code config.json} (or another model file) is missing, malformed, or describes
 * something lora4j cannot run. The message always names the file and, where there is one, the field.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
