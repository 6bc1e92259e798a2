package dev.lora4j.serve.http;

import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.api.Json;
import java.nio.ByteBuffer;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The errors Jetty answers before a request reaches Javalin (a malformed request line, headers too
 * large, conflicting framing headers), in the same OpenAI JSON as every other error instead of
 * Jetty's HTML page. Jetty's reason is kept for 4xx (it describes the client's mistake); a 5xx gets
 * the generic message.
 */
final class JettyErrors extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        String reason = message != null && !message.isBlank() ? message : HttpStatus.getMessage(code);
        ApiError e = code >= 500 ? ApiError.internal()
                : new ApiError(code, "invalid_request_error", "malformed HTTP request: " + reason, null, null, Map.of());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(Json.errorBody(e)), callback);
    }
}
