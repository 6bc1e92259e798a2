package dev.lora4j.bench;

import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Prefill and decode speed of greedy generation at batch 1, the lora4j half of tools/bench-generate
 * (tools/bench/generate_peer.py is the transformers half, with the same prompt and token counts).
 *
 * <p>Usage: GenerateBench MODEL_DIR PROMPT_TOKENS NEW_TOKENS REPS. Prompt ids are
 * {@code 3 + (i·7919 mod (vocab − 3))}, as the peer builds them. No stop token, so every run
 * generates exactly NEW_TOKENS. After a warm-up (10 s and at least 3 runs; system property
 * {@code lora4j.bench.warmupSeconds}), prints one line
 * {@code prefill_tok_s=<median> decode_tok_s=<median>}; prefill is the prompt's forward pass and the
 * first token's choice, decode the remaining NEW_TOKENS − 1 steps.
 */
public final class GenerateBench {
    private static final long WARMUP_SECONDS = Long.getLong("lora4j.bench.warmupSeconds", 10);

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int promptTokens = Integer.parseInt(args[1]);
        int newTokens = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        try (CausalLM model = Models.load(dir)) {
            int vocab = model.config().vocabSize();
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = 3 + (int) ((long) i * 7919 % (vocab - 3));
            }
            Generator generator = new Generator(model, null);
            GenerationConfig config = GenerationConfig.greedy(newTokens);
            // Warm-up until the JIT has compiled the hot paths: the Vector API is only fast once C2 has
            // intrinsified it (a few runs are not enough for a small model, whose runs are short).
            long warmupEnd = System.nanoTime() + WARMUP_SECONDS * 1_000_000_000L;
            for (int w = 0; w < 3 || System.nanoTime() < warmupEnd; w++) {
                generator.generate(List.of(prompt), config, GenerationListener.NONE);
            }
            double[] prefill = new double[reps];
            double[] decode = new double[reps];
            for (int r = 0; r < reps; r++) {
                generator.generate(List.of(prompt), config, GenerationListener.NONE);
                Generator.Timing t = generator.lastTiming();
                prefill[r] = t.prefillTokens() / (t.prefillNanos() / 1e9);
                decode[r] = t.decodeSteps() / (t.decodeNanos() / 1e9);
            }
            System.out.printf("prefill_tok_s=%.1f decode_tok_s=%.1f%n", median(prefill), median(decode));
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
