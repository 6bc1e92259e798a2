package dev.lora4j.cli;

import dev.lora4j.generate.GenerationConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** The generation options shared by {@code generate} and {@code chat}. */
final class SamplingOptions {
    @Option(names = "--max-new-tokens", paramLabel = "N", description = "tokens to generate at most (default: ${DEFAULT-VALUE})",
            defaultValue = "256")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T",
            description = "sampling temperature; 0 = greedy (generate's default), chat samples at 0.7 unless told")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens (0 = off, the default)", defaultValue = "0")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling: keep the smallest set of tokens with probability ≥ P (1 = off)")
    Double topP;

    @Option(names = "--min-p", paramLabel = "M", description = "drop tokens below M × the top token's probability (0 = off, the default)",
            defaultValue = "0")
    double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "> 1 discourages repeating tokens (1 = off, the default)",
            defaultValue = "1")
    double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "random seed for sampling (default: ${DEFAULT-VALUE})", defaultValue = "0")
    long seed;

    @Option(names = "--stop", paramLabel = "STR", description = "stop when the text contains STR (repeatable); the text ends before it")
    List<String> stop = new ArrayList<>();

    /** The generation config, with this command's default temperature and top-p when none were given. */
    GenerationConfig config(double defaultTemperature, double defaultTopP, Set<Integer> stopTokens, List<String> extraStops) {
        double t = temperature != null ? temperature : defaultTemperature;
        if (t < 0) {
            throw new IllegalArgumentException("--temperature must be ≥ 0, got " + t);
        }
        boolean sample = t > 0;
        List<String> stops = new ArrayList<>(stop);
        stops.addAll(extraStops);
        return new GenerationConfig(maxNewTokens, sample, sample ? t : 1.0, topK, topP != null ? topP : defaultTopP,
                minP, repetitionPenalty, seed, stopTokens, stops);
    }
}
