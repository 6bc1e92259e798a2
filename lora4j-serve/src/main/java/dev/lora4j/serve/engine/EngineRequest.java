package dev.lora4j.serve.engine;

import dev.lora4j.generate.GenerationConfig;

/**
 * One completion to run: the prompt's token ids, the adapter to run it with (null: the base model
 * alone), and how to pick tokens and when to stop. {@code config.maxNewTokens()} is the request's
 * whole allowance; the engine refuses a request whose prompt plus allowance exceeds the model's
 * positions (the caller clamps or reports that first).
 */
public record EngineRequest(int[] promptIds, String adapterOrNull, GenerationConfig config) {
    public EngineRequest {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        promptIds = promptIds.clone();
    }
}
