package dev.lora4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.model.llama2c.Llama2cImport;
import dev.lora4j.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stories260K llama2.c model (from ../shared, skipped where it is absent), imported and run
 * greedily from BOS, tells llama2.c's reference story, token for token as transformers' generate()
 * on the same imported directory (golden/generation/stories260K.json, made by
 * tools/golden/make_generation_goldens.py stories DIR), and streams the same text it returns.
 */
class Stories260kGenerationTest {
    private static final Path STORIES = Paths.get("../../shared/models/stories260K");

    @Test
    void greedyFromBosTellsTheReferenceStory(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(STORIES.resolve("stories260K.bin")),
                "needs ../shared/models/stories260K (the llama2.c stories260K checkpoint and tok512.bin)");
        Path imported = dir.resolve("stories260K");
        Llama2cImport.convert(STORIES.resolve("stories260K.bin"), STORIES.resolve("tok512.bin"), imported);
        JsonNode golden = new ObjectMapper().readTree(Paths.get("src/test/resources/golden/generation/stories260K.json").toFile());
        int[] expected = GreedyGenerationGoldenTest.ints(golden.get("generated"));
        Tokenizer tokenizer = Tokenizer.fromFile(STORIES.resolve("tok512.bin"));
        try (CausalLM model = Models.load(imported)) {
            StringBuilder streamed = new StringBuilder();
            List<Integer> streamedIds = new ArrayList<>();
            GenerationListener listener = new GenerationListener() {
                @Override
                public void onToken(int sequence, int tokenId) {
                    streamedIds.add(tokenId);
                }

                @Override
                public void onText(int sequence, String text) {
                    streamed.append(text);
                }
            };
            GeneratedSequence out = new Generator(model, tokenizer)
                    .generate(new int[] {1}, GenerationConfig.greedy(expected.length), listener);
            assertThat(out.tokens()).containsExactly(expected);
            assertThat(streamedIds).containsExactly(java.util.Arrays.stream(expected).boxed().toArray(Integer[]::new));
            assertThat(out.text()).startsWith("Once upon a time, there was a little girl named Lily.");
            assertThat(streamed.toString()).isEqualTo(out.text());
            assertThat(out.finish()).isEqualTo(FinishReason.LENGTH);
        }
    }
}
