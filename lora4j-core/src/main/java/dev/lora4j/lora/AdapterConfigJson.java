package dev.lora4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Reads and writes PEFT's {@code adapter_config.json}.
 *
 * <p>Reading: fields that do not change the math (bookkeeping such as {@code revision} or
 * {@code inference_mode}) are ignored; unknown fields are ignored with a warning; fields that change
 * the math and that lora4j does not implement (DoRA, LoRA bias, PiSSA-style initializations that
 * alter the base weights, ...) are refused with a message saying so, because loading such an
 * adapter as plain LoRA would silently give wrong outputs.
 */
public final class AdapterConfigJson {
    public static final String FILE_NAME = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Fields lora4j reads. */
    private static final Set<String> USED = Set.of("peft_type", "r", "lora_alpha", "lora_dropout", "target_modules",
            "exclude_modules", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "use_rslora",
            "init_lora_weights", "bias", "modules_to_save", "fan_in_fan_out", "task_type", "base_model_name_or_path");
    /** Fields PEFT writes that change nothing in the math of a loaded adapter. */
    private static final Set<String> HARMLESS = Set.of("revision", "inference_mode", "auto_mapping", "peft_version",
            "megatron_config", "megatron_core", "loftq_config", "eva_config", "corda_config", "lora_ga_config",
            "qalora_group_size", "ensure_weight_tying", "arrow_config", "kasa_config", "monteclora_config",
            "velora_config", "layer_replication", "target_parameters", "trainable_token_indices",
            "alora_invocation_tokens", "use_bdlora", "use_dora", "lora_bias", "use_qalora");

    private AdapterConfigJson() {}

    public static LoraConfig read(Path file, Consumer<String> warnings) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": adapter config not found (an adapter directory holds "
                    + FILE_NAME + " and adapter_model.safetensors)");
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + ": malformed JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return parse((ObjectNode) root, warnings);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    static LoraConfig parse(ObjectNode o, Consumer<String> warnings) {
        String peftType = text(o, "peft_type", "LORA");
        if (!peftType.equals("LORA")) {
            throw new IllegalArgumentException("peft_type " + peftType + " is not supported (only LORA)");
        }
        refuseIfSet(o, "use_dora", "DoRA (use_dora: true) is not supported yet");
        refuseIfSet(o, "lora_bias", "LoRA bias (lora_bias: true) is not supported yet");
        refuseIfSet(o, "use_qalora", "QA-LoRA (use_qalora: true) is not supported yet");
        refuseIfNonNull(o, "layer_replication", "layer_replication is not supported yet");
        refuseIfNonNull(o, "target_parameters", "target_parameters (LoRA on raw parameters) is not supported yet");
        refuseIfNonNull(o, "trainable_token_indices", "trainable_token_indices is not supported yet");
        refuseIfNonNull(o, "alora_invocation_tokens", "activated LoRA (alora_invocation_tokens) is not supported yet");
        refuseIfNonNull(o, "use_bdlora", "use_bdlora is not supported yet");
        String bias = text(o, "bias", "none");
        if (!bias.equals("none")) {
            throw new IllegalArgumentException("bias: \"" + bias + "\" is not supported yet (only \"none\")");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!USED.contains(f) && !HARMLESS.contains(f)) {
                warnings.accept("ignoring unknown adapter_config.json field '" + f + "'");
            }
        }
        if (!o.hasNonNull("r")) {
            throw new IllegalArgumentException("missing field 'r' (the LoRA rank)");
        }
        ModuleSelector targets = selector(o.get("target_modules"), "target_modules");
        if (targets == null) {
            throw new IllegalArgumentException("missing field 'target_modules'");
        }
        return new LoraConfig(
                intValue(o, "r"),
                o.hasNonNull("lora_alpha") ? number(o, "lora_alpha") : 8.0,
                o.hasNonNull("lora_dropout") ? number(o, "lora_dropout") : 0.0,
                targets,
                selector(o.get("exclude_modules"), "exclude_modules"),
                intList(o.get("layers_to_transform")),
                stringList(o.get("layers_pattern"), "layers_pattern"),
                intMap(o.get("rank_pattern")),
                doubleMap(o.get("alpha_pattern")),
                o.path("use_rslora").asBoolean(false),
                init(o.get("init_lora_weights")),
                stringList(o.get("modules_to_save"), "modules_to_save"),
                o.path("fan_in_fan_out").asBoolean(false),
                o.hasNonNull("task_type") ? o.get("task_type").asText() : null,
                o.hasNonNull("base_model_name_or_path") ? o.get("base_model_name_or_path").asText() : null);
    }

    /** Writes the config as PEFT does (the fields PEFT writes, with lora4j's values), atomically. */
    public static void write(LoraConfig c, Path file) throws IOException {
        ObjectNode o = toJson(c);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(o) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static ObjectNode toJson(LoraConfig c) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        // Alphabetical like PEFT's own files, so the two are easy to diff.
        Map<String, Object> fields = new java.util.TreeMap<>();
        fields.put("alpha_pattern", c.alphaPattern());
        fields.put("base_model_name_or_path", c.baseModelNameOrPath());
        fields.put("bias", "none");
        fields.put("exclude_modules", selectorValue(c.excludeModules()));
        fields.put("fan_in_fan_out", c.fanInFanOut());
        fields.put("inference_mode", true);
        fields.put("init_lora_weights", switch (c.initLoraWeights()) {
            case KAIMING -> Boolean.TRUE;
            case GAUSSIAN -> "gaussian";
            case RANDOM -> Boolean.FALSE;
        });
        fields.put("layers_pattern", c.layersPattern().isEmpty() ? null : c.layersPattern());
        fields.put("layers_to_transform", c.layersToTransform().isEmpty() ? null : c.layersToTransform());
        fields.put("lora_alpha", c.loraAlpha());
        fields.put("lora_bias", false);
        fields.put("lora_dropout", c.loraDropout());
        fields.put("modules_to_save", c.modulesToSave().isEmpty() ? null : c.modulesToSave());
        fields.put("peft_type", "LORA");
        fields.put("r", c.r());
        fields.put("rank_pattern", c.rankPattern());
        fields.put("revision", null);
        fields.put("target_modules", selectorValue(c.targetModules()));
        fields.put("task_type", c.taskType());
        fields.put("use_dora", false);
        fields.put("use_rslora", c.useRslora());
        fields.forEach((k, v) -> o.set(k, JSON.valueToTree(v)));
        return o;
    }

    private static Object selectorValue(ModuleSelector s) {
        return switch (s) {
            case null -> null;
            case ModuleSelector.AllLinear a -> ModuleSelector.ALL_LINEAR;
            case ModuleSelector.Regex r -> r.pattern();
            case ModuleSelector.Names n -> new ArrayList<>(new TreeSet<>(n.names()));
        };
    }

    // ---- field helpers ----------------------------------------------------------------------

    private static void refuseIfSet(ObjectNode o, String field, String message) {
        if (o.path(field).asBoolean(false)) {
            throw new IllegalArgumentException(message);
        }
    }

    private static void refuseIfNonNull(ObjectNode o, String field, String message) {
        JsonNode n = o.get(field);
        if (n != null && !n.isNull() && !(n.isContainerNode() && n.isEmpty())) {
            throw new IllegalArgumentException(message);
        }
    }

    private static String text(ObjectNode o, String field, String dflt) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? dflt : n.asText();
    }

    private static double number(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be a number, got " + n);
        }
        return n.asDouble();
    }

    private static int intValue(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static InitLoraWeights init(JsonNode n) {
        if (n == null || n.isNull() || (n.isBoolean() && n.asBoolean())) {
            return InitLoraWeights.KAIMING;
        }
        if (n.isBoolean()) {
            return InitLoraWeights.RANDOM;
        }
        if (n.isTextual() && n.asText().equalsIgnoreCase("gaussian")) {
            return InitLoraWeights.GAUSSIAN;
        }
        // pissa, olora, loftq, eva, corda...: these rewrite the base weights, so a plain base + this adapter is wrong.
        throw new IllegalArgumentException("init_lora_weights: " + n + " is not supported yet "
                + "(it changes the base weights; supported: true, false, \"gaussian\")");
    }

    private static ModuleSelector selector(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText().equals(ModuleSelector.ALL_LINEAR) ? new ModuleSelector.AllLinear()
                    : ModuleSelector.Regex.of(n.asText());
        }
        List<String> names = stringList(n, field);
        return new ModuleSelector.Names(names);
    }

    private static List<String> stringList(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (n.isTextual()) {
            return List.of(n.asText());
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException("field '" + field + "' must be a list of strings, got " + n);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : (ArrayNode) n) {
            if (!e.isTextual()) {
                throw new IllegalArgumentException("field '" + field + "' must be a list of strings, got " + n);
            }
            out.add(e.asText());
        }
        return out;
    }

    private static List<Integer> intList(JsonNode n) {
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (n.isInt()) {
            return List.of(n.asInt());
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException("field 'layers_to_transform' must be an integer or a list, got " + n);
        }
        List<Integer> out = new ArrayList<>();
        n.forEach(e -> {
            if (!e.isInt()) {
                throw new IllegalArgumentException("field 'layers_to_transform' must hold integers, got " + n);
            }
            out.add(e.asInt());
        });
        return out;
    }

    private static Map<String, Integer> intMap(JsonNode n) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (n != null && n.isObject()) {
            n.properties().forEach(e -> {
                if (!e.getValue().isIntegralNumber()) {
                    throw new IllegalArgumentException("rank_pattern['" + e.getKey() + "'] must be an integer");
                }
                out.put(e.getKey(), e.getValue().asInt());
            });
        }
        return out;
    }

    private static Map<String, Double> doubleMap(JsonNode n) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (n != null && n.isObject()) {
            n.properties().forEach(e -> {
                if (!e.getValue().isNumber()) {
                    throw new IllegalArgumentException("alpha_pattern['" + e.getKey() + "'] must be a number");
                }
                out.put(e.getKey(), e.getValue().asDouble());
            });
        }
        return out;
    }
}
