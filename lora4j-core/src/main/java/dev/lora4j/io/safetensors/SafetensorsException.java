package dev.lora4j.io.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file, a sharded checkpoint's index, or a requested tensor is not what it should be.
 *
 * <p>The message always starts with the file it is about, then (when there is one) the tensor, then
 * what was expected and what was found, so that it can be shown to a user as it is.
 */
public class SafetensorsException extends IOException {
    private final Path file;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** A problem with one named tensor of {@code file}. */
    static SafetensorsException forTensor(Path file, String tensor, String problem) {
        return new SafetensorsException(file, "tensor '" + tensor + "': " + problem);
    }

    /** The file the problem was found in. */
    public Path file() {
        return file;
    }
}
