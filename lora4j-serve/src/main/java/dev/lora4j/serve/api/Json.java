package dev.lora4j.serve.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The server's JSON: strict parsing of request bodies, and the error body. */
public final class Json {
    /**
     * Duplicate keys and trailing content are errors (an ambiguous body is refused rather than
     * guessed at); nesting is capped well below Jackson's default, as no request needs depth.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private Json() {}

    /** The body as a JSON object, or a 400 saying where the JSON went wrong. */
    public static ObjectNode parseObject(byte[] body) {
        if (body.length == 0) {
            throw ApiError.invalid(null, "the request body is empty; expected a JSON object");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            String what = e.getOriginalMessage() != null ? e.getOriginalMessage() : "malformed";
            throw ApiError.invalid(null, "invalid JSON in the request body" + where + ": " + what);
        } catch (IOException e) {
            throw ApiError.invalid(null, "the request body could not be read as JSON: " + e.getMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw ApiError.invalid(null, "the request body is empty; expected a JSON object");
        }
        if (!node.isObject()) {
            throw ApiError.invalid(null, "the request body must be a JSON object, got " + JsonFields.typeName(node));
        }
        return (ObjectNode) node;
    }

    /** {@code {"error": {"message", "type", "param", "code"}}}. */
    public static byte[] errorBody(ApiError e) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.code());
        return bytes(root);
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }
}
