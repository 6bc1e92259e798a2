package dev.lora4j.model.eval;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Token-weighted mean next-token cross-entropy of a causal LM over a set of sequences: every position
 * but the first of each sequence is predicted from the tokens before it, and the loss is the sum of
 * −log p(token) over all predicted tokens divided by their number (so long sequences weigh more,
 * exactly as if all tokens were pooled). Sequences are batched, right-padded (padding is masked out
 * and never predicted). The sum does not depend on the order, so sequences are batched in order of
 * length to keep padding small.
 */
public final class LanguageModelEval {
    private LanguageModelEval() {}

    /** Mean loss (nats per token), its exponential, and the number of predicted tokens. */
    public record Result(double loss, double perplexity, long tokens) {}

    /**
     * @param sequences one token id array per line; sequences shorter than 2 tokens predict nothing
     * @param batchSize sequences per forward pass
     * @param progress  called with the number of sequences done after each batch (may be null)
     */
    public static Result evaluate(CausalLM model, List<int[]> sequences, int batchSize, IntConsumer progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        int vocab = model.config().vocabSize();
        for (int s = 0; s < sequences.size(); s++) {
            int[] ids = sequences.get(s);
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] >= vocab) {
                    throw new IllegalArgumentException("line " + (s + 1) + ": token id " + ids[i] + " at index " + i
                            + " is outside the model's vocabulary of " + vocab);
                }
            }
        }
        List<int[]> byLength = new ArrayList<>(sequences);
        byLength.sort(java.util.Comparator.comparingInt(a -> a.length));
        double sum = 0;
        long count = 0;
        int done;
        for (int start = 0; start < byLength.size(); start += batchSize) {
            List<int[]> chunk = new ArrayList<>();
            for (int[] ids : byLength.subList(start, Math.min(byLength.size(), start + batchSize))) {
                if (ids.length >= 2) {
                    chunk.add(ids);
                }
            }
            if (!chunk.isEmpty()) {
                TokenBatch batch = TokenBatch.rightPadded(chunk, 0);
                int[] targets = nextTokenTargets(batch);
                Tensor logits = model.forward(batch);
                sum += CrossEntropy.forwardBackward(logits, targets, null, 1f);
                for (int t : targets) {
                    if (t != CrossEntropy.IGNORE_INDEX) {
                        count++;
                    }
                }
            }
            done = Math.min(sequences.size(), start + batchSize);
            if (progress != null) {
                progress.accept(done);
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("no sequence has two or more tokens, so there is nothing to predict");
        }
        double loss = sum / count;
        return new Result(loss, Math.exp(loss), count);
    }

    /** targets[row] = the next real token of the same sequence, or IGNORE at the last token and padding. */
    static int[] nextTokenTargets(TokenBatch batch) {
        int t = batch.seqLen();
        int[] ids = batch.tokenIds();
        int[] mask = batch.attentionMask();
        int[] targets = new int[ids.length];
        for (int r = 0; r < ids.length; r++) {
            boolean hasNext = r % t < t - 1 && mask[r] != 0 && mask[r + 1] != 0;
            targets[r] = hasNext ? ids[r + 1] : CrossEntropy.IGNORE_INDEX;
        }
        return targets;
    }
}
