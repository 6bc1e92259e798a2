package dev.lora4j.serve.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.chat.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A {@code POST /v1/chat/completions} body: the conversation and the sampling fields. */
public record ChatRequest(SamplingFields sampling, List<ChatMessage> messages) {
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    public static ChatRequest parse(ObjectNode body) {
        JsonFields f = JsonFields.of(body);
        SamplingFields sampling = SamplingFields.read(f, "max_completion_tokens");
        SamplingFields.refuseLogprobs(f, true);
        f.onlyDefault("top_logprobs", IntNode.valueOf(0));
        JsonNode list = f.raw("messages");
        if (list == null) {
            throw ApiError.invalid("messages", "you must provide `messages` (an array of {role, content})");
        }
        if (!list.isArray() || list.isEmpty()) {
            throw ApiError.invalid("messages", "messages must be a non-empty array of {role, content}, got "
                    + (list.isArray() ? "an empty array" : JsonFields.typeName(list)));
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            messages.add(message(list.get(i), "messages[" + i + "]"));
        }
        f.rejectUnknown();
        return new ChatRequest(sampling, List.copyOf(messages));
    }

    private static ChatMessage message(JsonNode node, String param) {
        JsonFields m = JsonFields.object(node, param);
        String role = m.requiredString("role");
        if (!ROLES.contains(role)) {
            throw ApiError.invalid(m.param("role"), m.param("role") + " must be one of system, developer, user, assistant; got \""
                    + JsonFields.abbreviate(role) + "\"");
        }
        String content = content(m.raw("content"), m.param("content"));
        m.string("name");   // a participant's name: accepted, not rendered (templates do not know it)
        m.rejectUnknown();
        // OpenAI's newer "developer" role is its "system" role under another name; templates know only the latter.
        return new ChatMessage(role.equals("developer") ? "system" : role, content);
    }

    /** A string, or OpenAI's list of content parts of which only {"type": "text", "text": ...} is supported. */
    private static String content(JsonNode c, String param) {
        if (c == null) {
            throw ApiError.invalid(param, "you must provide `" + param + "` (a string)");
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (!c.isArray()) {
            throw ApiError.invalid(param, param + " must be a string or an array of text parts, got " + JsonFields.typeName(c));
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < c.size(); i++) {
            JsonFields part = JsonFields.object(c.get(i), param + "[" + i + "]");
            String type = part.requiredString("type");
            if (!type.equals("text")) {
                throw ApiError.invalid(part.param("type"), part.param("type") + ": only \"text\" parts are supported, got \""
                        + JsonFields.abbreviate(type) + "\"");
            }
            text.append(part.requiredString("text"));
            part.rejectUnknown();
        }
        return text.toString();
    }
}
