package dev.lora4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed, checked access to the fields of one JSON object from a config file. Every failure is a
 * {@link ConfigException} that names the file and the field and says what was expected, so a bad
 * config never surfaces as a NullPointerException or a Jackson stack trace.
 */
public final class ConfigReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final String prefix;
    private final ObjectNode node;

    private ConfigReader(String source, String prefix, ObjectNode node) {
        this.source = source;
        this.prefix = prefix;
        this.node = node;
    }

    /** Reads and parses a JSON file whose top level must be an object. */
    public static ConfigReader read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": file not found");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses JSON text; {@code source} names it in error messages. */
    public static ConfigReader parse(String text, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new ConfigException(source + ": malformed JSON: " + firstLine(e.getMessage()), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + ": expected a JSON object at the top level");
        }
        return new ConfigReader(source, "", (ObjectNode) root);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The file (or other source) this config came from, for error messages. */
    public String source() {
        return source;
    }

    public boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    /** True when the field is written in the file, even as JSON null. */
    public boolean hasKey(String field) {
        return node.has(field);
    }

    /** A nested object, or null when the field is absent or JSON null. */
    public ConfigReader objectOrNull(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(field, "an object", v);
        }
        return new ConfigReader(source, prefix + field + ".", (ObjectNode) v);
    }

    public String requireString(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw missing(field);
        }
        if (!v.isTextual()) {
            throw wrongType(field, "a string", v);
        }
        return v.textValue();
    }

    public String optString(String field, String fallback) {
        return has(field) ? requireString(field) : fallback;
    }

    public int requireInt(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw missing(field);
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrongType(field, "an integer", v);
        }
        return v.intValue();
    }

    /** An integer field that must be at least 1. */
    public int requirePositiveInt(String field) {
        int value = requireInt(field);
        if (value < 1) {
            throw invalid(field, "a positive integer", Integer.toString(value));
        }
        return value;
    }

    public int optPositiveInt(String field, int fallback) {
        return has(field) ? requirePositiveInt(field) : fallback;
    }

    public Integer optIntOrNull(String field) {
        return has(field) ? requireInt(field) : null;
    }

    /** The first of several alternative names that is present (e.g. GPT-2's n_embd vs hidden_size). */
    public int requirePositiveInt(String... alternatives) {
        for (String f : alternatives) {
            if (has(f)) {
                return requirePositiveInt(f);
            }
        }
        throw missing(String.join("' or '", alternatives));
    }

    public double requireDouble(String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw missing(field);
        }
        if (!v.isNumber()) {
            throw wrongType(field, "a number", v);
        }
        double d = v.doubleValue();
        if (!Double.isFinite(d)) {
            throw invalid(field, "a finite number", v.toString());
        }
        return d;
    }

    /** A number that must be strictly positive (epsilons, rope theta, scaling factors). */
    public double requirePositiveDouble(String field) {
        double d = requireDouble(field);
        if (!(d > 0)) {
            throw invalid(field, "a positive number", Double.toString(d));
        }
        return d;
    }

    public double optPositiveDouble(String field, double fallback) {
        return has(field) ? requirePositiveDouble(field) : fallback;
    }

    public boolean optBoolean(String field, boolean fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw wrongType(field, "true or false", v);
        }
        return v.booleanValue();
    }

    /** An integer or a list of integers (e.g. eos_token_id); empty when absent. */
    public List<Integer> optIntList(String field) {
        JsonNode v = node.get(field);
        List<Integer> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            out.add(v.intValue());
            return out;
        }
        if (!v.isArray()) {
            throw wrongType(field, "an integer or a list of integers", v);
        }
        for (JsonNode e : v) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw wrongType(field, "a list of integers", v);
            }
            out.add(e.intValue());
        }
        return out;
    }

    public ConfigException missing(String field) {
        return new ConfigException(source + ": missing required field '" + prefix + field + "'");
    }

    public ConfigException invalid(String field, String expected, String got) {
        return new ConfigException(source + ": field '" + prefix + field + "' must be " + expected + ", got " + got);
    }

    private ConfigException wrongType(String field, String expected, JsonNode got) {
        String shown = got.toString();
        if (shown.length() > 60) {
            shown = shown.substring(0, 60) + "...";
        }
        return invalid(field, expected, shown);
    }

    /** An error about this config that is not about one field's type. */
    public ConfigException error(String message) {
        return new ConfigException(source + ": " + message);
    }
}
