package dev.lora4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** Reads the fields of one tokenizer.json component, with errors that name the file and the component. */
record JsonFields(JsonNode node, String source, String component) {

    static JsonFields of(JsonNode node, String source, String component) {
        return new JsonFields(node, source, component);
    }

    String type() {
        JsonNode t = node.get("type");
        if (t == null || !t.isTextual()) {
            throw error("has no \"type\" field");
        }
        return t.asText();
    }

    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    JsonNode get(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw error("is missing the field \"" + field + "\"");
        }
        return v;
    }

    String text(String field) {
        JsonNode v = get(field);
        if (!v.isTextual()) {
            throw error("field \"" + field + "\" should be a string but is " + v);
        }
        return v.asText();
    }

    String text(String field, String absent) {
        return has(field) ? text(field) : absent;
    }

    boolean bool(String field, boolean absent) {
        if (!has(field)) {
            return absent;
        }
        JsonNode v = node.get(field);
        if (!v.isBoolean()) {
            throw error("field \"" + field + "\" should be true or false but is " + v);
        }
        return v.asBoolean();
    }

    int integer(String field, int absent) {
        if (!has(field)) {
            return absent;
        }
        JsonNode v = node.get(field);
        if (!v.canConvertToInt()) {
            throw error("field \"" + field + "\" should be an integer but is " + v);
        }
        return v.asInt();
    }

    JsonFields child(String field, String childComponent) {
        return new JsonFields(get(field), source, childComponent);
    }

    TokenizerFormatException error(String message) {
        return new TokenizerFormatException(source, component + " " + message);
    }

    TokenizerFormatException unsupported(Set<String> supported) {
        return new TokenizerFormatException(source, "unsupported " + component + " type \"" + type()
                + "\" (supported: " + String.join(", ", supported) + ")");
    }
}
