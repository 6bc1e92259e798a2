package dev.lora4j.serve.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.serve.ServedModel;
import dev.lora4j.serve.api.ApiError;
import dev.lora4j.serve.api.Json;
import dev.lora4j.serve.api.JsonFields;
import dev.lora4j.serve.auth.Caller;
import dev.lora4j.serve.engine.EngineException;
import io.javalin.http.Context;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * vLLM's adapter management: {@code POST /v1/load_lora_adapter} {lora_name, lora_path} and
 * {@code POST /v1/unload_lora_adapter} {lora_name}, for admin keys only. Paths must lie inside
 * the adapter root (the engine resolves them, symbolic links followed).
 */
final class AdapterAdminHandler {
    /** Names that are safe in URLs, logs, key files and metric labels. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private final ServedModel model;

    AdapterAdminHandler(ServedModel model) {
        this.model = model;
    }

    int load(Context ctx, Caller caller, ObjectNode body) {
        requireAdmin(caller);
        JsonFields f = JsonFields.of(body);
        String name = checkedName(f);
        String path = f.requiredString("lora_path");
        f.rejectUnknown();
        if (model.adapterRootOrNull() == null) {
            throw ApiError.invalid("lora_path", "this server was started without an adapter root (lora4j serve --adapter-root DIR); "
                    + "adapters can only be loaded from inside one");
        }
        if (name.equals(model.name())) {
            throw ApiError.invalid("lora_name", "lora_name \"" + name + "\" is the base model's name; choose another");
        }
        if (model.engine().hasAdapter(name)) {
            throw ApiError.invalid("lora_name", "an adapter named \"" + name + "\" exists already; unload it first or choose another name");
        }
        try {
            model.engine().loadAdapter(name, path);
        } catch (EngineException e) {
            throw ApiError.invalid("lora_path", "adapter_not_loaded", e.getMessage());
        }
        return answer(ctx, name, "loaded", "Success: LoRA adapter '" + name + "' added successfully.");
    }

    int unload(Context ctx, Caller caller, ObjectNode body) {
        requireAdmin(caller);
        JsonFields f = JsonFields.of(body);
        String name = checkedName(f);
        f.rejectUnknown();
        boolean removed;
        try {
            removed = model.engine().unloadAdapter(name);
        } catch (EngineException e) {
            throw ApiError.invalid("lora_name", e.getMessage());
        }
        if (!removed) {
            throw new ApiError(404, "invalid_request_error", "no adapter named \"" + name + "\" is loaded", "lora_name",
                    "adapter_not_found", Map.of());
        }
        return answer(ctx, name, "unloaded", "Success: LoRA adapter '" + name + "' removed successfully.");
    }

    private static String checkedName(JsonFields f) {
        String name = f.requiredString("lora_name");
        if (!NAME.matcher(name).matches()) {
            throw ApiError.invalid("lora_name", "lora_name must be 1 to 128 letters, digits, '.', '_' or '-', got \""
                    + JsonFields.abbreviate(name) + "\"");
        }
        return name;
    }

    private static void requireAdmin(Caller caller) {
        if (!caller.admin()) {
            throw ApiError.forbidden("this API key may not load or unload adapters (it is not marked admin in the keys file)");
        }
    }

    private static int answer(Context ctx, String name, String status, String message) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("object", "lora_adapter");
        body.put("id", name);
        body.put("status", status);
        body.put("message", message);
        ctx.status(200).contentType("application/json").result(Json.bytes(body));
        return 200;
    }
}
