package dev.lora4j.serve.http;

import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.engine.EngineException;

/** The engine's refusals as the HTTP answers the issue and OpenAI's clients expect. */
final class EngineErrors {
    private EngineErrors() {}

    /**
     * @param model the name the client asked for (an unknown adapter answers as an unknown model)
     */
    static ApiError toApi(EngineException e, String model) {
        return switch (e) {
            case EngineException.QueueFull q -> ApiError.busy("the server is at capacity (" + q.getMessage() + "); retry shortly");
            case EngineException.Draining d -> ApiError.draining("the server is shutting down and takes no new requests");
            case EngineException.UnknownAdapter u -> ApiError.unknownModel(model);
            case EngineException.BadAdapter b -> ApiError.invalid("model", "adapter_unusable", b.getMessage());
            case EngineException.BadRequest b -> ApiError.invalid(null, b.getMessage());
            default -> ApiError.invalid(null, e.getMessage());
        };
    }
}
