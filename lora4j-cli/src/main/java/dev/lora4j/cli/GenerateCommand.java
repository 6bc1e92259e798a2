package dev.lora4j.cli;

import dev.lora4j.generate.GeneratedSequence;
import dev.lora4j.generate.GenerationConfig;
import dev.lora4j.generate.GenerationListener;
import dev.lora4j.generate.Generator;
import dev.lora4j.generate.PromptIds;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Continues a prompt. One prompt streams its continuation to stdout as it is generated; several
 * prompts run as one batch and print their continuations in order when done.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt with a KV cache, streaming to stdout.",
                "Greedy unless --temperature > 0. Generation stops at the model's end-of-sequence token, at a --stop",
                "string, or after --max-new-tokens."})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (config.json, safetensors, tokenizer)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory to apply")
    Path adapter;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "prompt text; repeat for a batch of prompts")
    List<String> prompts;

    @Option(names = "--echo", description = "print the prompt before its continuation")
    boolean echo;

    @Option(names = "--stats", description = "print prefill and decode speed to stderr")
    boolean stats;

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (CausalLM lm = Models.load(model)) {
            Tokenizer tokenizer = ModelFiles.tokenizer(model);
            ModelFiles.attachAdapter(lm, adapter);
            GenerationConfig config = sampling.config(0.0, 1.0, ModelFiles.stopTokens(lm, tokenizer, model), List.of());
            List<int[]> ids = new ArrayList<>();
            for (String p : prompts) {
                ids.add(PromptIds.encode(tokenizer, p));
            }
            Generator generator = new Generator(lm, tokenizer);
            dev.lora4j.warmup.JitWarmup.stop();   // the real work starts: give the warm-up's core back
            // wall-clock time of the first generated token (cold start: issue 12 measures it from the
            // process's start, which includes the JVM's own start-up and class loading)
            long[] firstTokenMillis = {0};
            if (ids.size() == 1) {
                if (echo) {
                    out.print(prompts.get(0));
                }
                generator.generate(ids, config, new GenerationListener() {
                    @Override
                    public void onToken(int sequence, int token) {
                        if (firstTokenMillis[0] == 0) {
                            firstTokenMillis[0] = System.currentTimeMillis();
                        }
                    }

                    @Override
                    public void onText(int sequence, String text) {
                        out.print(text);
                        out.flush();
                    }
                });
                out.println();
            } else {
                List<GeneratedSequence> results = generator.generate(ids, config, GenerationListener.NONE);
                for (int i = 0; i < results.size(); i++) {
                    out.println("--- " + (i + 1) + " ---");
                    out.println((echo ? prompts.get(i) : "") + results.get(i).text());
                }
            }
            if (stats) {
                Generator.Timing t = generator.lastTiming();
                System.err.printf("prefill: %d tokens in %.1f ms (%.1f tokens/s); decode: %d steps x %d in %.1f ms (%.1f tokens/s)%n",
                        t.prefillTokens(), t.prefillNanos() / 1e6, t.prefillTokens() / (t.prefillNanos() / 1e9),
                        t.decodeSteps(), ids.size(), t.decodeNanos() / 1e6,
                        t.decodeSteps() * ids.size() / Math.max(t.decodeNanos() / 1e9, 1e-9));
                if (firstTokenMillis[0] != 0) {
                    // the process's start time comes from the OS with a clock-tick resolution (10 ms)
                    ProcessHandle.current().info().startInstant().ifPresent(start -> System.err.printf(
                            "first token: %d ms after the process started%n", firstTokenMillis[0] - start.toEpochMilli()));
                }
            }
        }
        return 0;
    }
}
