package dev.lora4j.serve.api;

import java.util.Map;

/**
 * An error answered to the client in OpenAI's shape, {@code {"error": {"message", "type", "param",
 * "code"}}}, with its HTTP status. The message is written for the client: it names the field and
 * what was expected, and never carries a stack trace or a secret.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers;

    public ApiError(int status, String type, String message, String param, String code, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    /** 400: the request is malformed or asks for something this server cannot do; {@code param} names the field. */
    public static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", message, param, null, Map.of());
    }

    public static ApiError invalid(String param, String code, String message) {
        return new ApiError(400, "invalid_request_error", message, param, code, Map.of());
    }

    /** 404 for a model the caller may not see: the same answer whether it does not exist or belongs to another tenant. */
    public static ApiError unknownModel(String model) {
        return new ApiError(404, "invalid_request_error", "The model `" + model + "` does not exist or you do not have access to it.",
                "model", "model_not_found", Map.of());
    }

    public static ApiError unauthorized(String message) {
        return new ApiError(401, "authentication_error", message, null, "invalid_api_key", Map.of("WWW-Authenticate", "Bearer"));
    }

    public static ApiError forbidden(String message) {
        return new ApiError(403, "permission_error", message, null, "forbidden", Map.of());
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found_error", message, null, "not_found", Map.of());
    }

    public static ApiError tooLarge(String message) {
        return new ApiError(413, "invalid_request_error", message, null, "request_too_large", Map.of());
    }

    /** 429 with Retry-After: the server is at capacity; the same request may succeed a moment later. */
    public static ApiError busy(String message) {
        return new ApiError(429, "rate_limit_error", message, null, "server_busy", Map.of("Retry-After", "1"));
    }

    public static ApiError draining(String message) {
        return new ApiError(503, "service_unavailable_error", message, null, "draining", Map.of("Retry-After", "5"));
    }

    public static ApiError timeout(String message) {
        return new ApiError(504, "timeout_error", message, null, "timeout", Map.of());
    }

    /** 500 with a message that says nothing about the cause (which the server logs instead). */
    public static ApiError internal() {
        return new ApiError(500, "server_error", "The server had an error while processing your request; it has been logged.",
                null, null, Map.of());
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
