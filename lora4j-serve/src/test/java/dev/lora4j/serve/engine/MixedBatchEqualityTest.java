package dev.lora4j.serve.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lora4j.generate.FinishReason;
import dev.lora4j.generate.GeneratedSequence;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.model.llama2c.Llama2cImport;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's central promise: a request's output does not depend on what else is in the batch.
 * 18 requests over 8 adapters of different ranks and target sets plus the base model, with prompts
 * long enough to be prefilled in several chunks, run concurrently; every greedy output must equal,
 * token for token, what {@link Generator} ({@code lora4j generate}) produces for that request alone
 * on a separately loaded copy of the model with the adapter attached. Run on stories260K (a real
 * pretrained Llama model, from ../shared; skipped without it) and on the tiny GPT-2 test model,
 * whose Conv1D weights take the other streaming layout.
 */
class MixedBatchEqualityTest {
    private static final Path STORIES = Paths.get("../../shared/models/stories260K");
    private static final Path GPT2 = Paths.get("../lora4j-core/src/test/resources/golden/models/gpt2_f32");

    @TempDir
    static Path dir;
    static Path stories;

    @BeforeAll
    static void importStories() throws IOException {
        if (Files.isRegularFile(STORIES.resolve("stories260K.bin"))) {
            stories = dir.resolve("stories260K");
            Llama2cImport.convert(STORIES.resolve("stories260K.bin"), STORIES.resolve("tok512.bin"), stories);
        }
    }

    /** Eight adapters, ranks 1 to 16, on different sets of modules, with random A and B (not a no-op). */
    static List<Path> makeAdapters(Path modelDir, List<List<String>> targetSets, Path out) throws IOException {
        int[] ranks = {8, 2, 16, 4, 1, 8, 3, 12};
        List<Path> dirs = new ArrayList<>();
        try (CausalLM base = Models.load(modelDir)) {
            for (int i = 0; i < 8; i++) {
                LoraConfig config = LoraConfig.of(ranks[i], 2.0 * ranks[i], new ModuleSelector.Names(targetSets.get(i % targetSets.size())))
                        .withInit(InitLoraWeights.RANDOM);
                LoraModel lora = LoraModel.attach(base, config, 1000 + i);
                Path d = out.resolve("adapter" + i);
                PeftAdapterFiles.save(lora, d);
                lora.detach();
                dirs.add(d);
            }
        }
        return dirs;
    }

    @Test
    void storiesGreedyOutputsInAMixedBatchEqualGenerateAlone() throws Exception {
        assumeTrue(stories != null, "needs ../shared/models/stories260K");
        Tokenizer tokenizer = Tokenizer.fromFile(stories.resolve("tok512.bin"));
        List<List<String>> targets = List.of(List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj", "o_proj"),
                List.of("gate_proj", "up_proj", "down_proj"), List.of("o_proj", "down_proj", "lm_head"));
        List<Path> adapters = makeAdapters(stories, targets, dir.resolve("stories-adapters"));
        String[] texts = {"Once upon a time", "The little dog", "Lily and Ben went to the park to play with a big red ball. They",
                "One day", "Tom", "The sun was shining and the birds were singing in the tall green trees near the river bank"};
        List<int[]> prompts = new ArrayList<>();
        for (String t : texts) {
            prompts.add(tokenizer.encode(t, true));
        }
        checkMixedBatch(stories, tokenizer, adapters, prompts, 24);
    }

    @Test
    void gpt2GreedyOutputsInAMixedBatchEqualGenerateAlone() throws Exception {
        List<List<String>> targets = List.of(List.of("c_attn"), List.of("c_proj", "c_fc"), List.of("c_attn", "lm_head"));
        List<Path> adapters = makeAdapters(GPT2, targets, dir.resolve("gpt2-adapters"));
        List<int[]> prompts = List.of(new int[] {1, 17, 42, 99, 3, 64, 120, 7, 8, 9, 10, 11, 12, 13}, new int[] {5},
                new int[] {1, 5, 88, 23, 101}, new int[] {2, 3});
        checkMixedBatch(GPT2, null, adapters, prompts, 10);
    }

    private static void checkMixedBatch(Path modelDir, Tokenizer tokenizer, List<Path> adapterDirs, List<int[]> prompts,
                                        int maxNew) throws Exception {
        GenerationConfig greedy = GenerationConfig.greedy(maxNew);
        // 18 requests: each adapter twice with different prompts, and the base twice.
        record Job(String adapter, Path adapterDir, int[] prompt) {}
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 18; i++) {
            int a = i % 9;
            jobs.add(new Job(a == 8 ? null : "adapter" + a, a == 8 ? null : adapterDirs.get(a), prompts.get(i % prompts.size())));
        }

        List<int[]> expected = new ArrayList<>();
        for (Job job : jobs) {
            try (CausalLM alone = Models.load(modelDir)) {
                if (job.adapterDir() != null) {
                    PeftAdapterFiles.load(alone, job.adapterDir(), w -> {});
                }
                GeneratedSequence out = new Generator(alone, tokenizer).generate(job.prompt(), greedy, GenerationListener.NONE);
                expected.add(out.tokens());
            }
        }

        // Small prefill chunks, so the longer prompts are read in several steps beside others' decoding.
        EngineOptions options = new EngineOptions(64L << 20, 32, 64, 6, 16);
        try (CausalLM model = Models.load(modelDir);
             ServingEngine engine = new ServingEngine(model, tokenizer, options, null)) {
            for (int a = 0; a < 8; a++) {
                engine.addAdapter("adapter" + a, adapterDirs.get(a));
            }
            List<CompletableFuture<int[]>> results = new ArrayList<>();
            for (Job job : jobs) {
                results.add(submit(engine, new EngineRequest(job.prompt(), job.adapter(), greedy)));
            }
            for (int i = 0; i < jobs.size(); i++) {
                assertThat(results.get(i).get(60, TimeUnit.SECONDS))
                        .as("request %d (adapter %s, %d prompt tokens)", i, jobs.get(i).adapter(), jobs.get(i).prompt().length)
                        .containsExactly(expected.get(i));
            }
            assertThat(engine.drain(Duration.ofSeconds(5))).isTrue();
            assertThat(engine.stats().kvBytesInUse()).isZero();
            assertThat(engine.stats().running()).isZero();
        }
        // The adapters really change the output, so a router that dropped or swapped them would fail above.
        assertThat(expected.stream().map(java.util.Arrays::toString).distinct().count()).isGreaterThan(9);
    }

    static CompletableFuture<int[]> submit(ServingEngine engine, EngineRequest request) {
        CompletableFuture<int[]> result = new CompletableFuture<>();
        List<Integer> ids = new ArrayList<>();
        engine.submit(request, new CompletionListener() {
            @Override
            public void onToken(int tokenId) {
                ids.add(tokenId);
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String text) {
                result.complete(ids.stream().mapToInt(Integer::intValue).toArray());
            }

            @Override
            public void onError(Throwable error) {
                result.completeExceptionally(error);
            }
        });
        return result;
    }

    @Test
    void aSeededSampleIsReproducibleInAnyBatch() throws Exception {
        GenerationConfig sampled = new GenerationConfig(12, true, 0.9, 0, 0.95, 0.0, 1.0, 42L, Set.of(), List.of());
        List<Path> adapters = makeAdapters(GPT2, List.of(List.of("c_attn", "c_fc")), dir.resolve("gpt2-sampled"));
        int[] prompt = {1, 5, 88, 23, 101};
        EngineOptions options = new EngineOptions(64L << 20, 32, 64, 8, 16);
        try (CausalLM model = Models.load(GPT2); ServingEngine engine = new ServingEngine(model, null, options, null)) {
            engine.addAdapter("a", adapters.get(0));
            int[] alone = submit(engine, new EngineRequest(prompt, "a", sampled)).get(60, TimeUnit.SECONDS);
            List<CompletableFuture<int[]>> crowd = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                long seed = i == 3 ? 42L : i;
                crowd.add(submit(engine, new EngineRequest(i % 2 == 1 ? prompt : new int[] {3, 4},
                        i % 3 == 0 ? "a" : null, new GenerationConfig(12, true, 0.9, 0, 0.95, 0.0, 1.0, seed, Set.of(), List.of()))));
            }
            int[] again = crowd.get(3).get(60, TimeUnit.SECONDS);
            assertThat(again).as("seed 42 in a batch of six").containsExactly(alone);
        }
    }
}
