package dev.lora4j.model;

import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.WeightSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a Hugging Face model directory: {@code config.json} plus (sharded) safetensors weights. */
public final class Models {
    private Models() {}

    /**
     * Loads the model in {@code dir}. The weights are memory-mapped, not read: opening a large
     * checkpoint costs address space, not resident memory, until the weights are used.
     */
    public static CausalLM load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": not a model directory (expected config.json and model.safetensors)");
        }
        ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
        Architecture architecture = Architectures.forModelType(config.modelType(), config.source());
        WeightSource source;
        try {
            source = Checkpoints.open(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try {
            return architecture.build(config, new ModelWeights(source));
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }
}
