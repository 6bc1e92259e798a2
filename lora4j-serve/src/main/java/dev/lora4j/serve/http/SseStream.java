package dev.lora4j.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.api.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events as OpenAI streams them: {@code data: {json}} per event, {@code data: [DONE]}
 * at the end. Each event is flushed at once, so a client that went away shows up as an
 * IOException on the next write.
 */
final class SseStream {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;

    SseStream(OutputStream out) {
        this.out = out;
    }

    void send(JsonNode event) throws IOException {
        out.write(DATA);
        out.write(Json.bytes(event));
        out.write(END);
        out.flush();
    }

    /** An error after the 200 status went out: OpenAI's clients raise it when they read it. */
    void error(ApiError e) throws IOException {
        out.write(DATA);
        out.write(Json.errorBody(e));
        out.write(END);
        out.flush();
    }

    /** A comment line, which clients skip: sent while waiting, it finds clients that went away. */
    void keepAlive() throws IOException {
        out.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    void done() throws IOException {
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
