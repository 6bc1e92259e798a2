package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Generation through a PEFT LoRA adapter (q, v, o and down projections, r 4): greedy output on a
 * left-padded batch equals transformers + PEFT's generate() token for token
 * (tools/golden/make_generation_goldens.py adapter; the golden asserts the adapter changes the output,
 * so this is not the base model passing by accident).
 */
class AdapterGenerationGoldenTest {
    private static final Path DIR = Paths.get("src/test/resources/golden/generation/llama_gqa_lora");

    @Test
    void greedyWithAdapterMatchesPeft() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile()).get("batch");
        try (CausalLM model = Models.load(Paths.get("src/test/resources/golden/models/llama_gqa_f32"))) {
            List<String> warnings = new ArrayList<>();
            PeftAdapterFiles.load(model, DIR, warnings::add);
            List<int[]> prompts = new ArrayList<>();
            for (JsonNode s : golden.get("sequences")) {
                prompts.add(GreedyGenerationGoldenTest.ints(s.get("prompt")));
            }
            java.util.Set<Integer> eos = new java.util.HashSet<>();
            golden.get("eos_token_ids").forEach(e -> eos.add(e.asInt()));
            GenerationConfig config = GenerationConfig.greedy(golden.get("max_new_tokens").asInt()).withStopTokens(eos);
            List<GeneratedSequence> out = new Generator(model, null).generate(prompts, config, GenerationListener.NONE);
            for (int b = 0; b < prompts.size(); b++) {
                assertThat(out.get(b).tokens()).as("prompt %d", b)
                        .containsExactly(GreedyGenerationGoldenTest.ints(golden.get("sequences").get(b).get("generated")));
            }
        }
    }
}
