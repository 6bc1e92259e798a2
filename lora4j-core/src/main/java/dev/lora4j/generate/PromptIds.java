package dev.lora4j.generate;

import dev.lora4j.tokenizer.Tokenizer;

/** A plain-text prompt as generation starts from it (generate's prompts, the server's completions). */
public final class PromptIds {
    private PromptIds() {}

    /**
     * The prompt's ids with the tokenizer's special tokens (BOS where the model family uses one);
     * an empty prompt starts from BOS alone.
     */
    public static int[] encode(Tokenizer tokenizer, String prompt) {
        int[] ids = tokenizer.encode(prompt, true);
        if (ids.length == 0) {
            if (tokenizer.bosId().isEmpty()) {
                throw new IllegalArgumentException("the prompt is empty and the tokenizer has no BOS token to start from");
            }
            return new int[] {tokenizer.bosId().getAsInt()};
        }
        return ids;
    }
}
