package dev.lora4j.train;

import dev.lora4j.model.CausalLM;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Token-weighted mean next-token cross-entropy of a causal LM over examples, without gradients:
 * the sum of −log p(token) over every target token (every token after the first, or only the
 * completion's for prompt/completion data) divided by their number, as if all tokens were pooled.
 * The sum does not depend on the order, so examples are batched by length to keep padding small.
 */
public final class Evaluation {
    private Evaluation() {}

    /** Mean loss (nats per token), its exponential, and the number of predicted tokens. */
    public record Result(double loss, double perplexity, long tokens) {}

    public static Result loss(CausalLM model, List<Example> examples, int batchSize, int seqLen) {
        return loss(model, examples, batchSize, seqLen, null);
    }

    /** As above; {@code progress} (may be null) is told how many examples are done after each batch. */
    public static Result loss(CausalLM model, List<Example> examples, int batchSize, int seqLen, IntConsumer progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        List<Example> byLength = new ArrayList<>();
        for (Example e : examples) {
            byLength.add(e.truncate(seqLen));
        }
        byLength.sort(Comparator.comparingInt(Example::length));
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < byLength.size(); i += batchSize) {
            Batch batch = Batch.of(byLength.subList(i, Math.min(byLength.size(), i + batchSize)), 0);
            if (batch.targetCount() > 0) {
                sum += LanguageModelLoss.forward(model, batch.tokens(), batch.targets());
                tokens += batch.targetCount();
            }
            if (progress != null) {
                progress.accept(Math.min(byLength.size(), i + batchSize));
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("no example has a token to predict");
        }
        double mean = sum / tokens;
        return new Result(mean, Math.exp(mean), tokens);
    }
}
