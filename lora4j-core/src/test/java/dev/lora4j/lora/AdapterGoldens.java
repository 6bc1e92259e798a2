package dev.lora4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.train.Batch;
import dev.lora4j.train.Example;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared pieces of the adapter tests: golden paths and the loss the golden script computes. */
final class AdapterGoldens {
    private AdapterGoldens() {}

    /** The 4 sequences of tools/golden/make_peft_adapter_goldens.py. */
    static final int[][] SEQUENCES = {
        {1, 17, 42, 99, 3, 64, 120, 7, 55, 31},
        {1, 5, 88, 23, 101, 9},
        {1, 77, 12, 45, 126, 60, 2, 33},
        {1, 100, 4},
    };

    static Path golden() {
        try {
            return Path.of(AdapterGoldens.class.getResource("/golden").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The base checkpoint of a golden case: a case "&lt;model&gt;_embedding" adapts that model's token embeddings. */
    static String baseModel(String name) {
        return name.endsWith("_embedding") ? name.substring(0, name.length() - "_embedding".length()) : name;
    }

    static Path model(String name) {
        return golden().resolve("models").resolve(baseModel(name));
    }

    static Path adapters(String name) {
        return golden().resolve("peft_adapters").resolve(name);
    }

    static JsonNode expected(String name) throws IOException {
        return new ObjectMapper().readTree(adapters(name).resolve("expected.json").toFile());
    }

    static Batch batch() {
        List<Example> examples = new ArrayList<>();
        for (int[] s : SEQUENCES) {
            examples.add(Example.allTokens(s));
        }
        return Batch.of(examples, 0);
    }

    /** Token-weighted mean next-token cross-entropy over the golden batch (the script's loss). */
    static double loss(CausalLM lm) {
        Batch b = batch();
        Tensor logits = lm.forward(b.tokens());
        return CrossEntropy.forwardBackward(logits, b.targets(), null, 1f) / b.targetCount();
    }

    /** Logits of the first sequence, [len, vocab] row-major. */
    static float[] logitsOfFirst(CausalLM lm) {
        Batch b = batch();
        TokenBatch tokens = b.tokens();
        Tensor logits = lm.forward(tokens);
        int len = SEQUENCES[0].length;
        int vocab = logits.dim(1);
        float[] out = new float[len * vocab];
        for (int t = 0; t < len; t++) {
            for (int v = 0; v < vocab; v++) {
                out[t * vocab + v] = logits.get(t, v);
            }
        }
        return out;
    }
}
