package dev.lora4j.train;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.model.CausalLM;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/** Token-weighted mean cross-entropy of a model over examples (no gradients). */
public final class Evaluation {
    private Evaluation() {}

    /** Mean loss, perplexity and the number of predicted tokens. */
    public record Result(double loss, double perplexity, long tokens) {}

    public static Result loss(CausalLM model, List<Example> examples, int batchSize, int seqLen) {
        double sum = 0;
        long tokens = 0;
        for (int i = 0; i < examples.size(); i += batchSize) {
            List<Example> chunk = examples.subList(i, Math.min(examples.size(), i + batchSize)).stream()
                    .map(e -> e.truncate(seqLen)).toList();
            Batch batch = Batch.of(chunk, 0);
            if (batch.targetCount() == 0) {
                continue;
            }
            Tensor logits = model.forward(batch.tokens());
            sum += CrossEntropy.forwardBackward(logits, batch.targets(), null, 0f);
            tokens += batch.targetCount();
        }
        double mean = tokens == 0 ? Double.NaN : sum / tokens;
        return new Result(mean, Math.exp(mean), tokens);
    }
}
