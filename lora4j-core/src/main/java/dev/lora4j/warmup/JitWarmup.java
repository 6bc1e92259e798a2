package dev.lora4j.warmup;

import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.train.AdamW;
import dev.lora4j.train.LanguageModelLoss;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Gets the kernels JIT-compiled while a process is still starting, so that the first token of a
 * generation (or the first training step) does not run in the interpreter.
 *
 * <p>Why: the Vector API is fast only once C2 has compiled the kernel that uses it; interpreted or
 * C1-compiled, every vector operation allocates and loops over lanes, 100× slower or worse. A fresh
 * {@code lora4j generate} on the 8-layer hidden-512 benchmark model spent 3-5 s in its 128-token
 * prefill, because (1) C2 compiles the GEMM tile only after the prefill has started, and (2) it then
 * compiled it three times: the first compiled code was thrown away when a heap segment class
 * ({@code HeapMemorySegmentImpl$OfByte}) was first loaded mid-prefill (C2 had assumed its sibling
 * was the only implementation), the second when the tile's accumulate branch first ran (the first
 * products have K ≤ 512 and never accumulate). Each recompilation fell back to the slow code for a
 * second or more.
 *
 * <p>What: {@link #start} runs, on a background daemon thread, the same code paths on a tiny
 * model (hidden 64, one layer, intermediate 576 so that the down projection's reduction exceeds
 * the GEMM's 512-step slice and accumulates, a 29-token prompt so the GEMM takes its row split and
 * edge tiles, decode steps for the skinny products; with {@link Workload#TRAIN} also a LoRA
 * training step's backward and optimizer), memory-mapped from a safetensors file in the dtype of
 * the real model, as the real weights are. It first touches every memory-segment implementation
 * the kernels will see. Its runs are a few milliseconds each once compiled, so C2 reaches the
 * kernels while the caller is still loading classes, parsing the tokenizer and mapping the model,
 * with complete profiles: the compiled code is the final one. The results are thrown away; the
 * kernels' results never depend on how they were compiled (design notes: reproducible numerics).
 *
 * <p>{@link #stop} ends it between two tiny runs: call it when the real work starts, so that it
 * does not keep taking a core from it.
 */
public final class JitWarmup {
    /** What the process is about to do: which kernels to warm. */
    public enum Workload { GENERATE, TRAIN }

    private static final int HIDDEN = 64;
    private static final int HEADS = 2;
    private static final int INTERMEDIATE = 576;
    private static final int VOCAB = 320;
    private static final int PROMPT = 29;

    private static volatile boolean stopped;
    private static Thread thread;

    private JitWarmup() {}

    /**
     * Starts warming up in the background (once per process; later calls do nothing) for at most
     * {@code maxMillis}. Failures are swallowed: warming up is an optimization, never a reason to fail.
     */
    public static synchronized void start(Workload workload, DType weights, long maxMillis) {
        if (thread != null) {
            return;
        }
        touchSegmentClasses();
        thread = Thread.ofPlatform().daemon().name("lora4j-jit-warmup").start(() -> {
            try {
                run(workload, weights, System.nanoTime() + maxMillis * 1_000_000L);
            } catch (RuntimeException | IOException | Error e) {
                if (Boolean.getBoolean("lora4j.warmup.verbose")) {
                    e.printStackTrace();
                }
            }
        });
    }

    /** Ends the warm-up after its current tiny run (returns at once). */
    public static void stop() {
        stopped = true;
    }

    /** Runs the warm-up on the calling thread for {@code rounds} rounds (the launcher's AOT training run uses this). */
    public static void runNow(Workload workload, DType weights, int rounds) throws IOException {
        touchSegmentClasses();
        Path dir = writeTinyModel(weights);
        try (CausalLM model = Models.load(dir)) {
            Rounds r = new Rounds(model, workload);
            for (int i = 0; i < rounds; i++) {
                r.run();
            }
        } finally {
            deleteRecursively(dir);
        }
    }

    private static void run(Workload workload, DType weights, long deadline) throws IOException {
        Path dir = writeTinyModel(weights);
        int rounds = 0;
        long t0 = System.nanoTime();
        try (CausalLM model = Models.load(dir)) {
            Rounds r = new Rounds(model, workload);
            while (!stopped && System.nanoTime() < deadline) {
                r.run();
                rounds++;
            }
        } finally {
            deleteRecursively(dir);
        }
        if (Boolean.getBoolean("lora4j.warmup.verbose")) {
            System.err.printf("lora4j warm-up: %d rounds in %.0f ms%n", rounds, (System.nanoTime() - t0) / 1e6);
        }
    }

    /** One round: a generation (prefill + decode) and, for training, a LoRA training step. */
    private static final class Rounds {
        final CausalLM model;
        final Generator generator;
        final int[] prompt = new int[PROMPT];
        final int[] shortPrompt = new int[5];
        final GenerationConfig config = GenerationConfig.greedy(3);
        final Workload workload;
        LoraModel lora;
        AdamW optimizer;
        TokenBatch batch;
        int[] targets;

        Rounds(CausalLM model, Workload workload) {
            this.model = model;
            this.workload = workload;
            this.generator = new Generator(model, null);
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = 3 + (i * 37) % (VOCAB - 3);
            }
            System.arraycopy(prompt, 0, shortPrompt, 0, shortPrompt.length);
        }

        void run() {
            generator.generate(List.of(prompt), config, GenerationListener.NONE);
            generator.generate(List.of(shortPrompt), config, GenerationListener.NONE);
            if (workload == Workload.TRAIN) {
                trainStep();
            }
        }

        private void trainStep() {
            if (lora == null) {
                int rows = 2;
                int[] ids = new int[rows * PROMPT];
                targets = new int[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = 3 + (i * 53) % (VOCAB - 3);
                }
                for (int i = 0; i < ids.length; i++) {
                    targets[i] = i % PROMPT == PROMPT - 1 ? -100 : ids[i + 1];
                }
                batch = TokenBatch.of(rows, PROMPT, ids, null, null);
                lora = LoraModel.attach(model, LoraConfig.of(8, 16, new ModuleSelector.Names(List.of("q_proj", "v_proj"))), 0);
                optimizer = new AdamW(lora.parameters(), 0.01);
            }
            lora.setTraining(true, 0, 0);
            LanguageModelLoss.forwardBackward(model, batch, targets, 1f / targets.length);
            optimizer.step(1e-4);
            lora.zeroGrad();
            lora.setTraining(false, 0, 0);
        }
    }

    /**
     * Loads every memory-segment class the kernels read and write (heap segments of each array
     * type, native and mapped ones) before anything is compiled: C2 specializes a call on a
     * segment to "the only loaded implementation", and loading another one later throws the
     * compiled kernel away.
     */
    private static void touchSegmentClasses() {
        MemorySegment.ofArray(new byte[1]);
        MemorySegment.ofArray(new short[1]);
        MemorySegment.ofArray(new char[1]);
        MemorySegment.ofArray(new int[1]);
        MemorySegment.ofArray(new long[1]);
        MemorySegment.ofArray(new float[1]);
        MemorySegment.ofArray(new double[1]);
        MemorySegment.ofBuffer(ByteBuffer.allocateDirect(1));
        Arena.ofAuto().allocate(1);
    }

    /** A one-layer Llama with small random weights, written as model.safetensors + config.json. */
    static Path writeTinyModel(DType dtype) throws IOException {
        Path dir = Files.createTempDirectory("lora4j-warmup-");
        Map<String, Tensor> t = new LinkedHashMap<>();
        long[] seed = {12345};
        t.put("model.embed_tokens.weight", random(dtype, seed, VOCAB, HIDDEN));
        String p = "model.layers.0.";
        t.put(p + "input_layernorm.weight", ones(dtype, HIDDEN));
        t.put(p + "self_attn.q_proj.weight", random(dtype, seed, HIDDEN, HIDDEN));
        t.put(p + "self_attn.k_proj.weight", random(dtype, seed, HIDDEN, HIDDEN));
        t.put(p + "self_attn.v_proj.weight", random(dtype, seed, HIDDEN, HIDDEN));
        t.put(p + "self_attn.o_proj.weight", random(dtype, seed, HIDDEN, HIDDEN));
        t.put(p + "post_attention_layernorm.weight", ones(dtype, HIDDEN));
        t.put(p + "mlp.gate_proj.weight", random(dtype, seed, INTERMEDIATE, HIDDEN));
        t.put(p + "mlp.up_proj.weight", random(dtype, seed, INTERMEDIATE, HIDDEN));
        t.put(p + "mlp.down_proj.weight", random(dtype, seed, HIDDEN, INTERMEDIATE));
        t.put("model.norm.weight", ones(dtype, HIDDEN));
        t.put("lm_head.weight", random(dtype, seed, VOCAB, HIDDEN));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), t, Map.of("format", "pt"));
        String config = """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": %d,
                 "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": 1,
                 "num_attention_heads": %d, "num_key_value_heads": %d, "max_position_embeddings": 256,
                 "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                 "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "%s"}
                """.formatted(VOCAB, HIDDEN, INTERMEDIATE, HEADS, HEADS,
                switch (dtype) { case F32 -> "float32"; case BF16 -> "bfloat16"; case F16 -> "float16"; });
        Files.writeString(dir.resolve("config.json"), config);
        // the process may exit while a warm-up round still runs (the command finished first): the
        // JVM then removes the files at exit (registered directory first, so it is deleted last)
        dir.toFile().deleteOnExit();
        dir.resolve("model.safetensors").toFile().deleteOnExit();
        dir.resolve("config.json").toFile().deleteOnExit();
        return dir;
    }

    // Plain array loops, not Tensor.setFlat per element: this runs before anything is compiled, and
    // the interpreter took 1.5 s to fill the tiny model element by element through the tensor API.
    private static Tensor random(DType dtype, long[] seed, int rows, int cols) {
        float[] v = new float[rows * cols];
        float scale = (float) (1 / Math.sqrt(cols));
        long s = seed[0];
        for (int i = 0; i < v.length; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;   // an LCG: enough for weights nobody reads
            v[i] = scale * ((s >>> 40) * (1f / (1 << 24)) - 0.5f);
        }
        seed[0] = s;
        return stored(dtype, v, rows, cols);
    }

    private static Tensor ones(DType dtype, int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return stored(dtype, v, n);
    }

    private static Tensor stored(DType dtype, float[] v, int... shape) {
        if (dtype == DType.F32) {
            return Tensor.of(v, shape);
        }
        short[] half = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            half[i] = dtype == DType.BF16 ? (short) (Float.floatToRawIntBits(v[i]) >>> 16) : Float.floatToFloat16(v[i]);
        }
        return Tensor.wrap(MemorySegment.ofArray(half), dtype, shape);
    }

    /**
     * The dtype most of a model directory's weights are stored in (from the safetensors headers:
     * "BF16" or "F16" when any tensor has it, else F32), read without parsing the JSON so that it
     * costs nothing at start-up. F32 when the directory has no readable safetensors file.
     */
    public static DType weightDtype(Path modelDir) {
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                String header = header(f);
                if (header.contains("\"BF16\"")) {
                    return DType.BF16;
                }
                if (header.contains("\"F16\"")) {
                    return DType.F16;
                }
                return DType.F32;
            }
        } catch (IOException | RuntimeException e) {
            // no readable checkpoint: the command will report that itself
        }
        return DType.F32;
    }

    private static String header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.getLong(0);
            if (n <= 0 || n > (1 << 24)) {
                return "";
            }
            ByteBuffer h = ByteBuffer.allocate((int) n);
            ch.read(h, 8);
            return new String(h.array(), 0, h.position(), StandardCharsets.UTF_8);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // a temp directory left behind is harmless
        }
    }
}
