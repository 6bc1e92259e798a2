package dev.lora4j.serve.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A {@code POST /v1/completions} body: one prompt, as text or as token ids, and the sampling fields.
 *
 * @param promptText the prompt as text (null when given as ids)
 * @param promptIds  the prompt as token ids (null when given as text)
 */
public record CompletionRequest(SamplingFields sampling, String promptText, int[] promptIds) {

    public static CompletionRequest parse(ObjectNode body) {
        JsonFields f = JsonFields.of(body);
        SamplingFields sampling = SamplingFields.read(f, null);
        SamplingFields.refuseLogprobs(f, false);
        f.onlyDefault("echo", BooleanNode.FALSE);
        f.onlyDefault("best_of", IntNode.valueOf(1));
        f.onlyDefault("suffix", NullNode.getInstance());
        JsonNode p = f.raw("prompt");
        f.rejectUnknown();
        if (p == null) {
            throw ApiError.invalid("prompt", "you must provide `prompt` (a string or an array of token ids)");
        }
        if (p.isArray() && p.size() == 1 && p.get(0).isArray()) {
            p = p.get(0);   // OpenAI's list of token lists, with one prompt in it
        }
        if (p.isTextual()) {
            return new CompletionRequest(sampling, p.asText(), null);
        }
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            return new CompletionRequest(sampling, p.get(0).asText(), null);
        }
        if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode id = p.get(i);
                if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                    throw ApiError.invalid("prompt", "prompt[" + i + "] must be a token id (an integer), got " + JsonFields.typeName(id));
                }
                ids[i] = id.asInt();
            }
            return new CompletionRequest(sampling, null, ids);
        }
        if (p.isArray() && p.size() > 1) {
            throw ApiError.invalid("prompt", "this server completes one prompt per request; got an array of " + p.size());
        }
        throw ApiError.invalid("prompt", "prompt must be a string or an array of token ids, got "
                + (p.isArray() ? "an empty array" : JsonFields.typeName(p)));
    }
}
