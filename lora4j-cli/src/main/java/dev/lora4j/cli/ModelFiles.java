package dev.lora4j.cli;

import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelDirectory;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/** What generate and chat read from a model directory besides the weights: tokenizer, stop tokens, adapter. */
final class ModelFiles {
    private ModelFiles() {}

    /** The directory's tokenizer (see {@link ModelDirectory#tokenizer}). */
    static Tokenizer tokenizer(Path modelDir) throws IOException {
        return ModelDirectory.tokenizer(modelDir);
    }

    /** Ids that end a reply (see {@link ModelDirectory#stopTokens}). */
    static Set<Integer> stopTokens(CausalLM model, Tokenizer tokenizer, Path modelDir) throws IOException {
        return ModelDirectory.stopTokens(model.config(), tokenizer, modelDir);
    }

    static void attachAdapter(CausalLM model, Path adapterDir) throws IOException {
        if (adapterDir != null) {
            PeftAdapterFiles.load(model, adapterDir, w -> System.err.println("lora4j: adapter: " + w));
        }
    }
}
