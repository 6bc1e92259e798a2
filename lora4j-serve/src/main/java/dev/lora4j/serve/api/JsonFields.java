package dev.lora4j.serve.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads a request object field by field, each with its type and range checked, and refuses the
 * fields nobody read: a misspelt "max_token" is an error rather than silently ignored. A field
 * given as JSON null counts as absent, as OpenAI's clients send null for unset options.
 */
public final class JsonFields {
    private final ObjectNode node;
    private final String prefix;
    private final Set<String> read = new HashSet<>();

    private JsonFields(ObjectNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    public static JsonFields of(ObjectNode node) {
        return new JsonFields(node, "");
    }

    /** The object at {@code param} (e.g. "messages[2]"), or a 400 when it is something else. */
    public static JsonFields object(JsonNode node, String param) {
        if (node == null || !node.isObject()) {
            throw ApiError.invalid(param, param + " must be an object, got " + typeName(node));
        }
        return new JsonFields((ObjectNode) node, param + ".");
    }

    public String param(String name) {
        return prefix + name;
    }

    /** The field's value, or null when absent or null. */
    public JsonNode raw(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    public String string(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrongType(name, "a string", v);
        }
        return v.asText();
    }

    public String requiredString(String name) {
        String s = string(name);
        if (s == null) {
            throw ApiError.invalid(param(name), "you must provide `" + param(name) + "` (a string)");
        }
        return s;
    }

    public Boolean bool(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrongType(name, "true or false", v);
        }
        return v.asBoolean();
    }

    /** An integer in [min, max], or null when absent; 3.0 is not an integer here, as in OpenAI's API. */
    public Long integer(String name, long min, long max) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(name, "an integer", v);
        }
        long x = v.asLong();
        if (x < min || x > max) {
            throw ApiError.invalid(param(name), param(name) + " must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    /** A number in [min, max], or null when absent. */
    public Double number(String name, double min, double max) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw wrongType(name, "a number", v);
        }
        double x = v.asDouble();
        if (!(x >= min && x <= max)) {
            throw ApiError.invalid(param(name), param(name) + " must be between " + min + " and " + max + ", got " + v.asText());
        }
        return x;
    }

    /** A string or an array of strings (as OpenAI's {@code stop}), as a list; empty when absent. */
    public List<String> stringOrStrings(String name, int maxCount) {
        JsonNode v = raw(name);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) {
                if (!v.get(i).isTextual()) {
                    throw ApiError.invalid(param(name), param(name) + "[" + i + "] must be a string, got " + typeName(v.get(i)));
                }
                out.add(v.get(i).asText());
            }
        } else {
            throw wrongType(name, "a string or an array of strings", v);
        }
        if (out.size() > maxCount) {
            throw ApiError.invalid(param(name), param(name) + " takes at most " + maxCount + " strings, got " + out.size());
        }
        return out;
    }

    /**
     * A field this server knows but does not implement: accepted when absent or at the value that
     * means "off", refused otherwise so the client does not get a silently different answer.
     */
    public void onlyDefault(String name, JsonNode defaultValue) {
        JsonNode v = raw(name);
        if (v != null && !(v.equals(defaultValue) || v.isNumber() && defaultValue.isNumber()
                && v.asDouble() == defaultValue.asDouble())) {
            throw ApiError.invalid(param(name), "unsupported_parameter", param(name) + " is not supported by this server (only "
                    + defaultValue + " or absent)");
        }
    }

    /** Refuses the first field that no getter asked for. */
    public void rejectUnknown() {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!read.contains(n)) {
                throw ApiError.invalid(param(n), "unknown_parameter", "unknown field `" + param(n) + "`");
            }
        }
    }

    private ApiError wrongType(String name, String expected, JsonNode got) {
        return ApiError.invalid(param(name), param(name) + " must be " + expected + ", got " + typeName(got));
    }

    /** A client's string cut to a length fit for an error message. */
    public static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    /** "a string", "a number", ... for messages (the value itself may be long or private). */
    public static String typeName(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
