package dev.lora4j.io.onnx;

/** An ONNX file that cannot be read or does not hold what was expected; the message names the file. */
public class OnnxException extends RuntimeException {
    public OnnxException(String message) {
        super(message);
    }

    public OnnxException(String message, Throwable cause) {
        super(message, cause);
    }
}
