package dev.lora4j.serve.api;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import java.util.List;

/**
 * The fields {@code /v1/completions} and {@code /v1/chat/completions} share: which model, how many
 * tokens, how to pick them, when to stop, whether to stream.
 *
 * <p>One deviation from OpenAI, on purpose: an absent {@code temperature} means greedy decoding
 * (OpenAI samples at 1), so that a request without options is reproducible. {@code top_k},
 * {@code min_p} and {@code repetition_penalty} are vLLM's extensions, accepted here too.
 *
 * @param model             the base model's name or an adapter's
 * @param maxTokens         tokens to generate at most; null: what fits, up to the server's limit
 * @param temperature       0: greedy; > 0: sampling
 * @param seed              null: a fresh seed per request
 * @param stop              strings that end the text (cut before them)
 * @param includeUsage      stream_options.include_usage: a last chunk with the token counts
 */
public record SamplingFields(String model, Integer maxTokens, double temperature, double topP, int topK, double minP,
                             double repetitionPenalty, Long seed, List<String> stop, boolean stream, boolean includeUsage) {

    /** OpenAI accepts up to 4 stop strings. */
    public static final int MAX_STOP_STRINGS = 4;

    /**
     * Reads the shared fields; {@code maxTokensAlias} is chat's newer {@code max_completion_tokens}
     * (null for completions).
     */
    public static SamplingFields read(JsonFields f, String maxTokensAlias) {
        String model = f.requiredString("model");
        Long maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        if (maxTokensAlias != null) {
            Long alias = f.integer(maxTokensAlias, 1, Integer.MAX_VALUE);
            if (alias != null && maxTokens != null && !alias.equals(maxTokens)) {
                throw ApiError.invalid(maxTokensAlias, "max_tokens (" + maxTokens + ") and " + maxTokensAlias + " (" + alias
                        + ") disagree; give one of them");
            }
            maxTokens = maxTokens != null ? maxTokens : alias;
        }
        Double temperature = f.number("temperature", 0, 2);
        Double topP = f.number("top_p", 0, 1);
        if (topP != null && topP == 0) {
            throw ApiError.invalid("top_p", "top_p must be greater than 0 and at most 1, got 0");
        }
        Long topK = f.integer("top_k", -1, Integer.MAX_VALUE);   // vLLM: -1 (or 0) turns it off
        Double minP = f.number("min_p", 0, 1);
        Double repetitionPenalty = f.number("repetition_penalty", 0, 10);
        if (repetitionPenalty != null && repetitionPenalty == 0) {
            throw ApiError.invalid("repetition_penalty", "repetition_penalty must be greater than 0 (1 turns it off), got 0");
        }
        Long seed = f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = f.stringOrStrings("stop", MAX_STOP_STRINGS);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw ApiError.invalid("stop", "stop strings must not be empty");
            }
        }
        Boolean stream = f.bool("stream");
        boolean includeUsage = false;
        if (f.raw("stream_options") != null) {
            JsonFields options = JsonFields.object(f.raw("stream_options"), "stream_options");
            Boolean include = options.bool("include_usage");
            options.rejectUnknown();
            includeUsage = include != null && include;
        }
        f.onlyDefault("n", IntNode.valueOf(1));
        f.onlyDefault("presence_penalty", IntNode.valueOf(0));
        f.onlyDefault("frequency_penalty", IntNode.valueOf(0));
        f.string("user");   // OpenAI's end-user id: accepted, not used
        return new SamplingFields(model, maxTokens == null ? null : maxTokens.intValue(), temperature == null ? 0 : temperature,
                topP == null ? 1 : topP, topK == null ? 0 : (int) Math.max(0, topK), minP == null ? 0 : minP,
                repetitionPenalty == null ? 1 : repetitionPenalty, seed, List.copyOf(stop), stream != null && stream, includeUsage);
    }

    /** chat's {@code logprobs} is a boolean; completions' an integer: both only "off" here. */
    static void refuseLogprobs(JsonFields f, boolean chat) {
        f.onlyDefault("logprobs", chat ? BooleanNode.FALSE : IntNode.valueOf(0));
    }
}
