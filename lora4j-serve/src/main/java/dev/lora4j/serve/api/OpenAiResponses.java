package dev.lora4j.serve.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.generate.FinishReason;
import java.util.List;

/**
 * The JSON bodies of OpenAI's completion, chat completion and model list responses, and of their
 * streamed chunks, with the fields its clients read (including the nullable ones they expect to
 * find, such as {@code logprobs} and {@code refusal}).
 */
public final class OpenAiResponses {
    private OpenAiResponses() {}

    /** Where a response or chunk comes from: one request's id, creation time (epoch seconds) and model name. */
    public record Origin(String id, long created, String model, boolean chat) {}

    /** OpenAI's finish_reason: "stop" for a stop token or string, "length" when max_tokens or the context ran out. */
    public static String finishReason(FinishReason reason) {
        return reason == FinishReason.LENGTH ? "length" : "stop";
    }

    public static ObjectNode completion(Origin o, String text, FinishReason reason, int promptTokens, int completionTokens) {
        ObjectNode root = head(o, o.chat() ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (o.chat()) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
            message.putNull("refusal");
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reason));
        usage(root, promptTokens, completionTokens);
        return root;
    }

    /** A streamed piece of text; chat's first chunk also carries the role. */
    public static ObjectNode textChunk(Origin o, String text, boolean first) {
        ObjectNode root = chunkHead(o);
        ObjectNode choice = ((ArrayNode) root.get("choices")).addObject();
        choice.put("index", 0);
        if (o.chat()) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            delta.put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    /** The chunk that closes the choice with its finish_reason. */
    public static ObjectNode finishChunk(Origin o, FinishReason reason) {
        ObjectNode root = chunkHead(o);
        ObjectNode choice = ((ArrayNode) root.get("choices")).addObject();
        choice.put("index", 0);
        if (o.chat()) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reason));
        return root;
    }

    /** stream_options.include_usage: a last chunk with no choices and the token counts. */
    public static ObjectNode usageChunk(Origin o, int promptTokens, int completionTokens) {
        ObjectNode root = chunkHead(o);
        usage(root, promptTokens, completionTokens);
        return root;
    }

    /** {@code GET /v1/models}: the base, then the adapters (with the base as their parent, as vLLM lists them). */
    public static ObjectNode models(String base, List<String> adapters, long created) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        model(data, base, null, created);
        for (String a : adapters) {
            model(data, a, base, created);
        }
        return root;
    }

    private static void model(ArrayNode data, String id, String parentOrNull, long created) {
        ObjectNode m = data.addObject();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "lora4j");
        m.put("root", parentOrNull == null ? id : parentOrNull);
        m.put("parent", parentOrNull);
    }

    private static ObjectNode chunkHead(Origin o) {
        ObjectNode root = head(o, o.chat() ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        return root;
    }

    private static ObjectNode head(Origin o, String object) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("id", o.id());
        root.put("object", object);
        root.put("created", o.created());
        root.put("model", o.model());
        return root;
    }

    private static void usage(ObjectNode root, int promptTokens, int completionTokens) {
        ObjectNode usage = root.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
    }
}
