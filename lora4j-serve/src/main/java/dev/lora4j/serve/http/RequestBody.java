package dev.lora4j.serve.http;

import dev.lora4j.serve.api.ApiError;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;

/** Reads a request body up to a limit: a declared length over it is refused unread, a longer stream at the limit. */
final class RequestBody {
    private RequestBody() {}

    static byte[] read(Context ctx, long maxBytes) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBytes) {
            throw tooLarge(declared + " bytes", maxBytes);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (body.length > maxBytes) {
                throw tooLarge("more than " + maxBytes + " bytes", maxBytes);
            }
            return body;
        } catch (IOException e) {
            throw ApiError.invalid(null, "the request body could not be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static ApiError tooLarge(String size, long max) {
        return ApiError.tooLarge("the request body is " + size + "; this server takes at most " + max
                + " bytes (lora4j serve --max-body)");
    }
}
