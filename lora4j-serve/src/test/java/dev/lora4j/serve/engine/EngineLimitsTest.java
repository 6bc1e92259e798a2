package dev.lora4j.serve.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.generate.FinishReason;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.KvCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's bounds: KV budget admission, queue, cancellation, adapter cache and adapter root. */
class EngineLimitsTest {
    private static final Path GPT2 = Paths.get("../lora4j-core/src/test/resources/golden/models/gpt2_f32");

    @TempDir
    Path dir;

    private static long kvBytes(CausalLM model, int tokens) {
        return KvCache.Sequence.bytes(model.config().numLayers(), tokens, model.config().numKvHeads() * model.config().headDim());
    }

    @Test
    void requestsBeyondTheKvBudgetWaitAndAllFinishWithTheMemoryReturned() throws Exception {
        try (CausalLM model = Models.load(GPT2)) {
            // Room for two 8-token sequences (3 prompt + 6 new − 1) at a time.
            long budget = 2 * kvBytes(model, 8);
            try (ServingEngine engine = new ServingEngine(model, null, new EngineOptions(budget, 32, 64, 16, 4), null)) {
                List<CompletableFuture<int[]>> results = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    results.add(MixedBatchEqualityTest.submit(engine, new EngineRequest(new int[] {1, 2, 3 + i}, null,
                            GenerationConfig.greedy(6))));
                }
                for (CompletableFuture<int[]> r : results) {
                    assertThat(r.get(30, TimeUnit.SECONDS)).hasSize(6);
                }
                assertThat(engine.drain(Duration.ofSeconds(5))).isTrue();
                assertThat(engine.stats().kvBytesInUse()).isZero();
                assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[] {1}, null, GenerationConfig.greedy(2)),
                        (r, p, c, t) -> {})).isInstanceOf(EngineException.Draining.class);
            }
            try (ServingEngine engine = new ServingEngine(model, null, new EngineOptions(budget, 32, 64, 16, 4), null)) {
                assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[] {1, 2, 3}, null, GenerationConfig.greedy(40)),
                        (r, p, c, t) -> {}))
                        .isInstanceOf(EngineException.BadRequest.class).hasMessageContaining("KV budget");
                int positions = model.config().maxPositions();
                assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[positions], null, GenerationConfig.greedy(1)),
                        (r, p, c, t) -> {}))
                        .isInstanceOf(EngineException.BadRequest.class).hasMessageContaining("context");
            }
        }
    }

    @Test
    void aFullQueueRefusesAndACancelledRequestFreesItsSequence() throws Exception {
        try (CausalLM model = Models.load(GPT2);
             ServingEngine engine = new ServingEngine(model, null, new EngineOptions(kvBytes(model, 40), 32, 2, 16, 4), null)) {
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<FinishReason> reason = new AtomicReference<>(FinishReason.LENGTH);
            CountDownLatch finished = new CountDownLatch(1);
            Submission running = engine.submit(new EngineRequest(new int[] {1, 2}, null, GenerationConfig.greedy(38)),
                    new CompletionListener() {
                        @Override
                        public void onToken(int tokenId) {
                            started.countDown();
                            try {
                                Thread.sleep(20);   // a slow client keeps the sequence running
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }

                        @Override
                        public void onFinish(FinishReason r, int promptTokens, int completionTokens, String text) {
                            reason.set(r);
                            finished.countDown();
                        }
                    });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            // The budget holds one sequence: two more wait, the queue (2) is then full.
            engine.submit(new EngineRequest(new int[] {1, 2}, null, GenerationConfig.greedy(38)), (r, p, c, t) -> {});
            engine.submit(new EngineRequest(new int[] {1, 2}, null, GenerationConfig.greedy(38)), (r, p, c, t) -> {});
            assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[] {1, 2}, null, GenerationConfig.greedy(38)),
                    (r, p, c, t) -> {})).isInstanceOf(EngineException.QueueFull.class);
            running.cancel();
            assertThat(finished.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(reason.get()).as("a cancelled request finishes without a reason").isNull();
            assertThat(engine.drain(Duration.ofSeconds(30))).isTrue();
            assertThat(engine.stats().kvBytesInUse()).isZero();
        }
    }

    @Test
    void adaptersLoadFromTheRootOnlyAndTheCacheNeverDropsOneInUse() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        try (CausalLM model = Models.load(GPT2)) {
            for (int i = 0; i < 3; i++) {
                LoraModel lora = LoraModel.attach(model, LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("c_attn"))), i);
                PeftAdapterFiles.save(lora, root.resolve("r" + i));
                lora.detach();
            }
            LoraModel other = LoraModel.attach(model, LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("c_attn"))), 9);
            PeftAdapterFiles.save(other, outside.resolve("x"));
            other.detach();
            LoraModel embedding = LoraModel.attach(model, LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("wte"))), 9);
            PeftAdapterFiles.save(embedding, root.resolve("emb"));
            embedding.detach();
            Files.createSymbolicLink(root.resolve("escape"), outside.resolve("x"));
        }
        try (CausalLM model = Models.load(GPT2);
             ServingEngine engine = new ServingEngine(model, null, new EngineOptions(64L << 20, 32, 64, 16, 1), root)) {
            assertThat(engine.adapterNames()).contains("r0", "r1", "r2").doesNotContain("escape");
            assertThatThrownBy(() -> engine.loadAdapter("x", "../outside/x")).isInstanceOf(EngineException.BadAdapter.class)
                    .hasMessageContaining("outside the adapter root");
            assertThatThrownBy(() -> engine.loadAdapter("x", "escape")).isInstanceOf(EngineException.BadAdapter.class)
                    .hasMessageContaining("outside the adapter root");
            assertThatThrownBy(() -> engine.loadAdapter("e", "emb")).isInstanceOf(EngineException.BadAdapter.class)
                    .hasMessageContaining("embeddings");
            assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[] {1}, "escape", GenerationConfig.greedy(2)),
                    (r, p, c, t) -> {})).isInstanceOf(EngineException.UnknownAdapter.class);
            assertThatThrownBy(() -> engine.submit(new EngineRequest(new int[] {1}, "nope", GenerationConfig.greedy(2)),
                    (r, p, c, t) -> {})).isInstanceOf(EngineException.UnknownAdapter.class);

            // Capacity 1: r0 runs (held), r1 and r2 come and go beside it; r0 is never let go while it runs.
            CountDownLatch hold = new CountDownLatch(1);
            CompletableFuture<Void> r0 = new CompletableFuture<>();
            engine.submit(new EngineRequest(new int[] {1, 2}, "r0", GenerationConfig.greedy(30)), new CompletionListener() {
                @Override
                public void onToken(int tokenId) {
                    try {
                        hold.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String text) {
                    r0.complete(null);
                }
            });
            Thread.sleep(200);
            assertThat(engine.stats().adaptersLoaded()).isEqualTo(1);
            CompletableFuture<int[]> r1 = MixedBatchEqualityTest.submit(engine, new EngineRequest(new int[] {3}, "r1",
                    GenerationConfig.greedy(3)));
            assertThat(engine.unloadAdapter("r0")).as("unloading one in use is allowed; it stays until its request ends").isTrue();
            hold.countDown();
            r0.get(30, TimeUnit.SECONDS);
            assertThat(r1.get(30, TimeUnit.SECONDS)).hasSize(3);
            assertThat(engine.drain(Duration.ofSeconds(10))).isTrue();
            assertThat(engine.stats().adaptersLoaded()).as("back within the capacity once nothing runs").isLessThanOrEqualTo(1);
        }
    }
}
