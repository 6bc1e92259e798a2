package dev.lora4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What text generation reads from a model directory besides the weights: the tokenizer and the ids
 * that end a reply. Shared by {@code lora4j generate}, {@code lora4j chat} and {@code lora4j serve}
 * so that all three stop at the same tokens.
 */
public final class ModelDirectory {
    private ModelDirectory() {}

    /**
     * The directory's tokenizer: {@code tokenizer.json} (with tokenizer_config.json beside it), or
     * the one llama2.c tokenizer {@code *.bin} that {@code import-llama2c} copies in.
     */
    public static Tokenizer tokenizer(Path modelDir) throws IOException {
        if (Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            return Tokenizer.fromFile(modelDir);
        }
        List<Path> bins;
        try (Stream<Path> files = Files.list(modelDir)) {
            bins = files.filter(p -> p.getFileName().toString().endsWith(".bin")).toList();
        }
        if (bins.size() == 1) {
            return Tokenizer.fromFile(bins.get(0));
        }
        throw new IOException(modelDir + ": no tokenizer found (expected tokenizer.json, or one llama2.c tokenizer *.bin"
                + (bins.isEmpty() ? "" : "; found several: " + bins) + ")");
    }

    /**
     * Ids that end a reply: config.json's eos_token_id, generation_config.json's (chat models often
     * list their end-of-turn token there), and the tokenizer's EOS.
     */
    public static Set<Integer> stopTokens(ModelConfig config, Tokenizer tokenizer, Path modelDir) throws IOException {
        Set<Integer> ids = new TreeSet<>(config.eosTokenIds());
        Path generationConfig = modelDir.resolve("generation_config.json");
        if (Files.isRegularFile(generationConfig)) {
            JsonNode eos = new ObjectMapper().readTree(generationConfig.toFile()).get("eos_token_id");
            if (eos != null && eos.isInt()) {
                ids.add(eos.asInt());
            } else if (eos != null && eos.isArray()) {
                eos.forEach(e -> ids.add(e.asInt()));
            }
        }
        tokenizer.eosId().ifPresent(ids::add);
        return ids;
    }
}
