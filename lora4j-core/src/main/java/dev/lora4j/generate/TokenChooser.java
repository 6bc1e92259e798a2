package dev.lora4j.generate;

import java.util.SplittableRandom;

/**
 * Picks the next token of a sequence from its logits: the logits processors in transformers' order
 * (repetition penalty; then, when sampling, temperature, top-k, top-p, min-p), then the argmax or a
 * draw from the softmax. One seeded generator serves the whole batch, drawing for the sequences in
 * order, so a run is reproducible from its seed (the draws are not PyTorch's).
 */
public final class TokenChooser {
    private final GenerationConfig config;
    private final SplittableRandom random;

    public TokenChooser(GenerationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /** The next token; {@code logits} is this sequence's row and is overwritten; {@code seen} marks the ids so far. */
    public int choose(float[] logits, boolean[] seen) {
        if (config.repetitionPenalty() != 1.0) {
            LogitsProcessors.repetitionPenalty(logits, seen, (float) config.repetitionPenalty());
        }
        if (!config.sample()) {
            return LogitsProcessors.argmax(logits);
        }
        if (config.temperature() != 1.0) {
            LogitsProcessors.temperature(logits, (float) config.temperature());
        }
        LogitsProcessors.topK(logits, config.topK());
        LogitsProcessors.topP(logits, (float) config.topP());
        LogitsProcessors.minP(logits, (float) config.minP());
        return draw(LogitsProcessors.softmax(logits));
    }

    /** Inverse-CDF sampling: the first id whose cumulative probability exceeds a uniform draw. */
    private int draw(double[] probs) {
        double u = random.nextDouble();
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] > 0) {
                cumulative += probs[i];
                last = i;
                if (u < cumulative) {
                    return i;
                }
            }
        }
        return last;   // rounding left the sum a hair below 1: the last possible token
    }
}
