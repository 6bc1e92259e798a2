package dev.lora4j.bench;

import dev.lora4j.generate.FinishReason;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.lora.CheckpointMerge;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.serve.engine.CompletionListener;
import dev.lora4j.serve.engine.EngineOptions;
import dev.lora4j.serve.engine.EngineRequest;
import dev.lora4j.serve.engine.ServingEngine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The serving engine's throughput with many adapters (issue #11's benchmark), in one process:
 * aggregate generated tokens/s of S concurrent streams (a) all on one adapter, (b) each on its own
 * adapter, (c) on the merged model (adapter 0 merged into a checkpoint, served without adapters),
 * and of one stream alone; time to first token at S streams; memory per loaded adapter.
 *
 * <p>Every stream has a P-token prompt (random ids, its own) and generates exactly N tokens (greedy,
 * no stop token), so the scenarios do the same work. Each scenario runs R times after one warm-up
 * round; the table shows medians. The adapters are rank-r LoRA on q_proj and v_proj with random A
 * and B (PEFT's layout, written and read back from disk).
 *
 * <pre>java ... dev.lora4j.bench.ServeBench MODEL_DIR [--streams 32] [--prompt 128] [--new 64] [--reps 3] [--rank 8]</pre>
 */
public final class ServeBench {
    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(args[0]);
        int streams = intArg(args, "--streams", 32);
        int promptLength = intArg(args, "--prompt", 128);
        int newTokens = intArg(args, "--new", 64);
        int reps = intArg(args, "--reps", 3);
        int rank = intArg(args, "--rank", 8);
        Path work = Files.createTempDirectory("lora4j-serve-bench");

        List<Path> adapters = makeAdapters(modelDir, streams, rank, work);
        Path merged = work.resolve("merged");
        CheckpointMerge.merge(modelDir, adapters.get(0), merged, w -> {});
        SplittableRandom rnd = new SplittableRandom(7);
        int vocab;
        try (CausalLM m = Models.load(modelDir)) {
            vocab = m.config().vocabSize();
        }
        List<int[]> prompts = new ArrayList<>();
        for (int s = 0; s < streams; s++) {
            int[] p = new int[promptLength];
            for (int i = 0; i < p.length; i++) {
                p[i] = 3 + rnd.nextInt(vocab - 3);
            }
            prompts.add(p);
        }
        EngineOptions options = new EngineOptions(2L << 30, streams, 4 * streams, 256, Math.max(64, streams));
        GenerationConfig config = GenerationConfig.greedy(newTokens);

        System.out.printf(Locale.ROOT, "model %s, %d streams, %d-token prompts, %d new tokens, rank-%d q,v adapters, %d threads%n",
                modelDir, streams, promptLength, newTokens, rank, dev.lora4j.kernels.Parallel.threads());
        try (CausalLM model = Models.load(modelDir); ServingEngine engine = new ServingEngine(model, null, options, null)) {
            for (int a = 0; a < streams; a++) {
                engine.addAdapter("a" + a, adapters.get(a));
            }
            String[] one = new String[streams];
            String[] distinct = new String[streams];
            for (int s = 0; s < streams; s++) {
                one[s] = "a0";
                distinct[s] = "a" + s;
            }
            run(engine, prompts, one, config);   // warm-up
            Result single = median(engine, prompts.subList(0, 1), new String[] {"a0"}, config, reps);
            Result oneAdapter = median(engine, prompts, one, config, reps);
            Result distinctAdapters = median(engine, prompts, distinct, config, reps);
            Result mergedResult;
            try (CausalLM mergedModel = Models.load(merged);
                 ServingEngine mergedEngine = new ServingEngine(mergedModel, null, options, null)) {
                run(mergedEngine, prompts, new String[streams], config);
                mergedResult = median(mergedEngine, prompts, new String[streams], config, reps);
            }
            System.out.println();
            System.out.println("| scenario | generated tokens/s, whole run | decode tokens/s | TTFT p50 | TTFT p99 | ratios (decode tokens/s) |");
            System.out.println("|---|---:|---:|---:|---:|---|");
            row("1 stream, adapter a0", single, "");
            row(streams + " streams, all on a0 (a)", oneAdapter, String.format(Locale.ROOT,
                    "%.1f× one stream (target ≥ 10; whole run %.1f×)", oneAdapter.decodeTokensPerSecond / single.decodeTokensPerSecond,
                    oneAdapter.tokensPerSecond / single.tokensPerSecond));
            row(streams + " streams, " + streams + " distinct adapters (b)", distinctAdapters, String.format(Locale.ROOT,
                    "%.2f× (a) (target ≥ 0.8; whole run %.2f×)", distinctAdapters.decodeTokensPerSecond / oneAdapter.decodeTokensPerSecond,
                    distinctAdapters.tokensPerSecond / oneAdapter.tokensPerSecond));
            row(streams + " streams, merged model (c)", mergedResult, String.format(Locale.ROOT,
                    "(a) is %.2f× (c) (whole run %.2f×)", oneAdapter.decodeTokensPerSecond / mergedResult.decodeTokensPerSecond,
                    oneAdapter.tokensPerSecond / mergedResult.tokensPerSecond));
        }
        adapterMemory(modelDir, adapters, options);
    }

    private static void row(String name, Result r, String ratio) {
        System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f | %.0f ms | %.0f ms | %s |%n", name, r.tokensPerSecond,
                r.decodeTokensPerSecond, r.ttftP50Ms, r.ttftP99Ms, ratio);
    }

    /**
     * @param tokensPerSecond       all generated tokens over the wall time from the first submit to the last finish
     * @param decodeTokensPerSecond tokens generated after every stream had its first token, over the time from
     *                              then to the last finish: the decoding rate once the prompts are read
     */
    record Result(double tokensPerSecond, double decodeTokensPerSecond, double ttftP50Ms, double ttftP99Ms) {}

    private static Result median(ServingEngine engine, List<int[]> prompts, String[] adapters, GenerationConfig config, int reps)
            throws InterruptedException {
        List<Result> results = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            results.add(run(engine, prompts, adapters, config));
        }
        double[] tps = results.stream().mapToDouble(Result::tokensPerSecond).sorted().toArray();
        double[] dps = results.stream().mapToDouble(Result::decodeTokensPerSecond).sorted().toArray();
        double[] p50 = results.stream().mapToDouble(Result::ttftP50Ms).sorted().toArray();
        double[] p99 = results.stream().mapToDouble(Result::ttftP99Ms).sorted().toArray();
        return new Result(tps[reps / 2], dps[reps / 2], p50[reps / 2], p99[reps / 2]);
    }

    /** All streams submitted at once; tokens/s over the wall time until the last finishes. */
    private static Result run(ServingEngine engine, List<int[]> prompts, String[] adapters, GenerationConfig config)
            throws InterruptedException {
        int n = prompts.size();
        CountDownLatch done = new CountDownLatch(n);
        long[] firstToken = new long[n];
        int[] generated = new int[n];
        long[] tokenTimes = new long[n * config.maxNewTokens()];
        java.util.concurrent.atomic.AtomicInteger tokenCount = new java.util.concurrent.atomic.AtomicInteger();
        long start = System.nanoTime();
        for (int s = 0; s < n; s++) {
            int stream = s;
            engine.submit(new EngineRequest(prompts.get(s), adapters[s], config), new CompletionListener() {
                @Override
                public void onToken(int tokenId) {
                    long now = System.nanoTime();
                    tokenTimes[tokenCount.getAndIncrement()] = now;
                    if (generated[stream]++ == 0) {
                        firstToken[stream] = now;
                    }
                }

                @Override
                public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String text) {
                    done.countDown();
                }

                @Override
                public void onError(Throwable error) {
                    error.printStackTrace();
                    done.countDown();
                }
            });
        }
        if (!done.await(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("benchmark round did not finish");
        }
        long wall = System.nanoTime() - start;
        long tokens = Arrays.stream(generated).sum();
        double[] ttft = new double[n];
        for (int s = 0; s < n; s++) {
            ttft[s] = (firstToken[s] - start) / 1e6;
        }
        Arrays.sort(ttft);
        long lastFirst = Arrays.stream(firstToken).max().orElseThrow();
        long end = start + wall;
        long after = Arrays.stream(tokenTimes, 0, tokenCount.get()).filter(t -> t > lastFirst).count();
        double decode = after / ((end - lastFirst) / 1e9);
        return new Result(tokens / (wall / 1e9), decode, ttft[n / 2], ttft[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)]);
    }

    private static List<Path> makeAdapters(Path modelDir, int count, int rank, Path out) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try (CausalLM base = Models.load(modelDir)) {
            for (int i = 0; i < count; i++) {
                LoraConfig config = LoraConfig.of(rank, 2 * rank, new ModuleSelector.Names(List.of("q_proj", "v_proj")))
                        .withInit(InitLoraWeights.RANDOM);
                LoraModel lora = LoraModel.attach(base, config, 100 + i);
                Path d = out.resolve("adapter" + i);
                PeftAdapterFiles.save(lora, d);
                lora.detach();
                dirs.add(d);
            }
        }
        return dirs;
    }

    /** Heap held per loaded adapter (after a full collection) against its tensor bytes. */
    private static void adapterMemory(Path modelDir, List<Path> adapters, EngineOptions options) throws IOException {
        try (CausalLM model = Models.load(modelDir); ServingEngine engine = new ServingEngine(model, null, options, null)) {
            long before = usedHeapAfterGc();
            for (int a = 0; a < adapters.size(); a++) {
                engine.addAdapter("m" + a, adapters.get(a));
            }
            long after = usedHeapAfterGc();
            long tensorBytes = engine.adapterBytes();
            System.out.printf(Locale.ROOT, "%nmemory: %d adapters hold %d tensor bytes; heap grew %d bytes: %.1f KiB per adapter"
                            + " for %.1f KiB of tensors (%.1f%% over)%n", adapters.size(), tensorBytes, after - before,
                    (after - before) / 1024.0 / adapters.size(), tensorBytes / 1024.0 / adapters.size(),
                    100.0 * ((double) (after - before) / tensorBytes - 1));
        }
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static int intArg(String[] args, String name, int fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return fallback;
    }
}
