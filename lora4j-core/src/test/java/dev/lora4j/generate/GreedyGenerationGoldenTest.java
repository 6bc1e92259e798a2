package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Greedy generation with the KV cache equals transformers' generate() token for token on the tiny
 * golden checkpoints (tools/golden/make_generation_goldens.py): one prompt, and three prompts of
 * different lengths left-padded in one batch. Exact equality is meaningful because the golden
 * records every step's gap between the two best logits and all are > 1e-4, far above the ~1e-6
 * float32 difference between the two implementations' logits.
 */
class GreedyGenerationGoldenTest {
    private static final Path MODELS = Paths.get("src/test/resources/golden/models");
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/generation");

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "qwen2_f32", "llama3_v4config_bf16", "gpt2_f32", "gpt2_bf16"})
    void greedyMatchesTransformers(String name) throws Exception {
        JsonNode golden = new ObjectMapper().readTree(GOLDEN.resolve(name + ".json").toFile());
        try (CausalLM model = Models.load(MODELS.resolve(name))) {
            Generator generator = new Generator(model, null);
            for (String kind : List.of("single", "batch")) {
                JsonNode c = golden.get(kind);
                Set<Integer> eos = new HashSet<>();
                c.get("eos_token_ids").forEach(e -> eos.add(e.asInt()));
                GenerationConfig config = GenerationConfig.greedy(c.get("max_new_tokens").asInt()).withStopTokens(eos);
                List<int[]> prompts = new ArrayList<>();
                List<int[]> expected = new ArrayList<>();
                for (JsonNode s : c.get("sequences")) {
                    prompts.add(ints(s.get("prompt")));
                    expected.add(ints(s.get("generated")));
                }
                List<GeneratedSequence> out = generator.generate(prompts, config, GenerationListener.NONE);
                for (int b = 0; b < prompts.size(); b++) {
                    assertThat(out.get(b).tokens()).as("%s %s prompt %d", name, kind, b).containsExactly(expected.get(b));
                }
                // Alone, each prompt of the batch gives what it gave padded among the others.
                if (kind.equals("batch")) {
                    for (int b = 0; b < prompts.size(); b++) {
                        assertThat(generator.generate(prompts.get(b), config, GenerationListener.NONE).tokens())
                                .as("%s prompt %d alone", name, b).containsExactly(expected.get(b));
                    }
                }
            }
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
