package dev.lora4j.generate;

import java.util.List;
import java.util.Set;

/**
 * How to pick tokens and when to stop.
 *
 * <p>Greedy decoding ({@code sample = false}) takes the most likely token after the repetition
 * penalty; sampling draws from the distribution after temperature, top-k, top-p and min-p, applied
 * in that order as transformers' {@code generate} does. Unlike transformers' GenerationConfig,
 * whose top_k defaults to 50, every filter here is off unless set: top-k 0, top-p 1, min-p 0,
 * repetition penalty 1.
 *
 * @param maxNewTokens      tokens to generate at most per sequence (≥ 1)
 * @param sample            false: greedy; true: draw from the processed distribution
 * @param temperature       logits are divided by it before sampling (> 0; 1 leaves them)
 * @param topK              keep the k most likely tokens (0: off)
 * @param topP              keep the most likely tokens whose probabilities sum to at least p (1: off)
 * @param minP              drop tokens less likely than minP × the top token's probability (0: off)
 * @param repetitionPenalty > 1 discourages tokens already in the sequence (1: off)
 * @param seed              seeds the sampler, so equal seeds give equal samples
 * @param stopTokenIds      generating one of these ends a sequence (it is kept in the ids, not in the text)
 * @param stopStrings       a sequence ends where its text first contains one; the text is cut before it
 */
public record GenerationConfig(int maxNewTokens, boolean sample, double temperature, int topK, double topP, double minP,
                               double repetitionPenalty, long seed, Set<Integer> stopTokenIds, List<String> stopStrings) {

    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature
                    + " (use greedy decoding instead of temperature 0)");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be ≥ 0 (0 turns it off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a positive number, got " + repetitionPenalty);
        }
        stopTokenIds = Set.copyOf(stopTokenIds);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens, no stop tokens or strings yet. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, false, 1.0, 0, 1.0, 0.0, 1.0, 0L, Set.of(), List.of());
    }

    /** Sampling at {@code temperature} with the given seed, other filters off. */
    public static GenerationConfig sampling(int maxNewTokens, double temperature, long seed) {
        return new GenerationConfig(maxNewTokens, true, temperature, 0, 1.0, 0.0, 1.0, seed, Set.of(), List.of());
    }

    public GenerationConfig withTopK(int k) {
        return new GenerationConfig(maxNewTokens, sample, temperature, k, topP, minP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationConfig withTopP(double p) {
        return new GenerationConfig(maxNewTokens, sample, temperature, topK, p, minP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationConfig withMinP(double p) {
        return new GenerationConfig(maxNewTokens, sample, temperature, topK, topP, p, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationConfig withRepetitionPenalty(double penalty) {
        return new GenerationConfig(maxNewTokens, sample, temperature, topK, topP, minP, penalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationConfig withStopTokens(Set<Integer> ids) {
        return new GenerationConfig(maxNewTokens, sample, temperature, topK, topP, minP, repetitionPenalty, seed, ids, stopStrings);
    }

    public GenerationConfig withStopStrings(List<String> strings) {
        return new GenerationConfig(maxNewTokens, sample, temperature, topK, topP, minP, repetitionPenalty, seed, stopTokenIds, strings);
    }
}
