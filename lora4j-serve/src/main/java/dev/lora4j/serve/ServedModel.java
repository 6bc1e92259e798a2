package dev.lora4j.serve;

import dev.lora4j.chat.ChatTemplate;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelDirectory;
import dev.lora4j.model.Models;
import dev.lora4j.serve.engine.EngineOptions;
import dev.lora4j.serve.engine.ServingEngine;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The model a server answers for: its name (the model directory's), the engine that runs it, and
 * what turns requests into prompts: the tokenizer, the chat template (null: a plain
 * "User:/Assistant:" transcript) and the ids that end a reply.
 *
 * @param adapterRootOrNull where load_lora_adapter may load from (null: nowhere)
 */
public record ServedModel(String name, ServingEngine engine, Tokenizer tokenizer, ChatTemplate chatTemplateOrNull,
                          Set<Integer> stopTokens, Path adapterRootOrNull) implements AutoCloseable {

    public ServedModel {
        stopTokens = Set.copyOf(stopTokens);
    }

    /** Loads the model in {@code modelDir} (memory-mapped) and starts an engine over it. */
    public static ServedModel load(Path modelDir, EngineOptions options, Path adapterRootOrNull) throws IOException {
        Path dir = modelDir.toAbsolutePath().normalize();
        Tokenizer tokenizer = ModelDirectory.tokenizer(dir);
        ChatTemplate template = ChatTemplate.fromModelDirectory(dir).orElse(null);
        CausalLM lm = Models.load(dir);
        Set<Integer> stops;
        ServingEngine engine;
        try {
            stops = ModelDirectory.stopTokens(lm.config(), tokenizer, dir);
            engine = new ServingEngine(lm, tokenizer, options, adapterRootOrNull);
        } catch (IOException | RuntimeException e) {
            lm.close();   // the engine did not take it
            throw e;
        }
        return new ServedModel(dir.getFileName().toString(), engine, tokenizer, template, stops, adapterRootOrNull);
    }

    /** Stops the engine, which owns the model. */
    @Override
    public void close() {
        engine.close();
    }
}
