package dev.lora4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template: the Jinja {@code chat_template} of its {@code tokenizer_config.json},
 * rendered as transformers' {@code apply_chat_template(messages, tokenize=False,
 * add_generation_prompt=...)} renders it.
 *
 * <p>transformers renders with Jinja2 in a sandbox with {@code trim_blocks} and
 * {@code lstrip_blocks} on, passes {@code messages} (a list of {role, content} dicts),
 * {@code add_generation_prompt}, and the tokenizer's special tokens ({@code bos_token},
 * {@code eos_token}, ...) as variables, and provides {@code raise_exception(message)}, which
 * templates use to refuse a conversation (roles that do not alternate, say). Jinjava, a maintained
 * Java implementation of Jinja, is configured the same way.
 */
public final class ChatTemplate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String template;
    private final String source;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    public ChatTemplate(String template, Map<String, String> specialTokens, String source) {
        this.template = template;
        this.source = source;
        this.specialTokens = new LinkedHashMap<>(specialTokens);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Jinja2's behaviour where Jinjava's historical default differs: "{{-" and "-}}"
                // trim whitespace, filters bind tighter than arithmetic ("'a' + x | trim"), and
                // whitespace control is parsed as Jinja2 parses it.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withAllowAdjacentTextNodes(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    /**
     * The chat template of a model directory (its tokenizer_config.json), or empty when the file or
     * its {@code chat_template} is absent. A template given as a list of named templates picks
     * "default".
     */
    public static Optional<ChatTemplate> fromModelDirectory(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ChatTemplateException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode t = root.get("chat_template");
        if (t == null || t.isNull()) {
            return Optional.empty();
        }
        String template = templateText(t, file);
        Map<String, String> tokens = new HashMap<>();
        for (String name : List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")) {
            String token = tokenText(root.get(name));
            if (token != null) {
                tokens.put(name, token);
            }
        }
        return Optional.of(new ChatTemplate(template, tokens, file.toString()));
    }

    private static String templateText(JsonNode t, Path file) {
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return named.get("template").asText();
                }
            }
            throw new ChatTemplateException(file + ": chat_template is a list without a template named \"default\"");
        }
        throw new ChatTemplateException(file + ": chat_template must be a string or a list of {name, template}, got "
                + t.getNodeType());
    }

    /** A special token written as "text" or as {"content": "text", ...}; null when absent. */
    private static String tokenText(JsonNode token) {
        if (token == null || token.isNull()) {
            return null;
        }
        if (token.isTextual()) {
            return token.asText();
        }
        JsonNode content = token.get("content");
        return content != null && content.isTextual() ? content.asText() : null;
    }

    /** The prompt text for {@code messages}; with {@code addGenerationPrompt} it ends where the assistant's reply begins. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", list);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinjava.renderForResult(template, bindings);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException(source + ": chat template: " + refusal(e));
            }
        }
        return result.getOutput();
    }

    /** The message of a raise_exception call, or Jinjava's description of the error. */
    private static String refusal(TemplateError e) {
        Throwable t = e.getException();
        while (t != null) {
            if (t instanceof Refusal r) {
                return r.getMessage();
            }
            t = t.getCause();
        }
        return e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
    }

    /** raise_exception(message) inside a template. */
    public static Object raiseException(String message) {
        throw new Refusal(message);
    }

    private static final class Refusal extends RuntimeException {
        Refusal(String message) {
            super(message);
        }
    }
}
