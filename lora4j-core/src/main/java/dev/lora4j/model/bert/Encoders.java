package dev.lora4j.model.bert;

import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.model.ConfigException;
import dev.lora4j.model.ConfigReader;
import dev.lora4j.model.ModelWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens Hugging Face encoder directories ({@code config.json} + safetensors) — the encoder
 * counterpart of {@link dev.lora4j.model.Models}, which loads decoder-only language models.
 */
public final class Encoders {
    private Encoders() {}

    /** True when {@code dir/config.json} names an encoder model_type lora4j runs (bert, roberta). */
    public static boolean isEncoder(Path dir) {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        ConfigReader c = ConfigReader.read(config);
        return c.has("model_type") && BertConfig.MODEL_TYPES.contains(c.requireString("model_type"));
    }

    /** The encoder in {@code dir}, over memory-mapped weights. */
    public static BertEncoder load(Path dir) {
        BertConfig config = loadConfig(dir);
        ModelWeights weights = openWeights(dir);
        try {
            return BertEncoder.build(config, weights);
        } catch (RuntimeException e) {
            weights.source().close();
            throw e;
        }
    }

    static BertConfig loadConfig(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": not a model directory (expected config.json and model.safetensors)");
        }
        return BertConfig.load(dir.resolve("config.json"));
    }

    static ModelWeights openWeights(Path dir) {
        WeightSource source;
        try {
            source = Checkpoints.open(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return new ModelWeights(source);
    }
}
