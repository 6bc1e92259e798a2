package dev.lora4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What generate and chat read from a model directory besides the weights: tokenizer, stop tokens, adapter. */
final class ModelFiles {
    private ModelFiles() {}

    /**
     * The directory's tokenizer: {@code tokenizer.json} (with tokenizer_config.json beside it), or
     * the one llama2.c tokenizer {@code *.bin} that {@code import-llama2c} copies in.
     */
    static Tokenizer tokenizer(Path modelDir) throws IOException {
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
    static Set<Integer> stopTokens(CausalLM model, Tokenizer tokenizer, Path modelDir) throws IOException {
        Set<Integer> ids = new TreeSet<>(model.config().eosTokenIds());
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

    static void attachAdapter(CausalLM model, Path adapterDir) throws IOException {
        if (adapterDir != null) {
            PeftAdapterFiles.load(model, adapterDir, w -> System.err.println("lora4j: adapter: " + w));
        }
    }
}
