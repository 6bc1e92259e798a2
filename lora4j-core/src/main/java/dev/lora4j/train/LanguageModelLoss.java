package dev.lora4j.train;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.model.CausalLM;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The next-token cross-entropy of a causal LM, with the output head run a slice of rows at a time.
 *
 * <p>The logits are the largest tensor of a training step: [rows, vocab] floats, 32 MB for 1024
 * tokens of an 8k vocabulary and 525 MB for a 128k one (Llama 3), while nothing needs more than a
 * row of them at once. So the head multiplies {@link #chunkRows} rows of the final hidden states,
 * the fused cross-entropy turns those logits into their gradient in place, and the head's backward
 * writes the matching rows of the hidden-state gradient before the next slice reuses the buffer.
 * Per row this is the unsliced computation; results differ from computing all logits at once only by
 * float rounding (a short last slice may take the skinny matmul, which sums in another order, and an
 * adapter on the head sums its gradient slice by slice). For a given batch shape it is deterministic.
 */
public final class LanguageModelLoss {
    /** Logit elements computed at once: 2M floats = 8 MB (256 rows of an 8k vocabulary). */
    static final int CHUNK_ELEMENTS = Integer.getInteger("lora4j.logitsChunkElements", 1 << 21);

    private LanguageModelLoss() {}

    /** Rows per slice for a vocabulary: at least 16, so that the head's matmul stays efficient. */
    static int chunkRows(int vocab) {
        return Math.max(16, CHUNK_ELEMENTS / Math.max(1, vocab));
    }

    /**
     * Forward, loss and backward: returns the cross-entropy summed over the targets that are not
     * {@link CrossEntropy#IGNORE_INDEX}; the model's adapters accumulate the gradient of
     * {@code gradScale} × that sum.
     */
    public static double forwardBackward(CausalLM model, TokenBatch batch, int[] targets, float gradScale) {
        return forwardBackward(model, batch, targets, gradScale, chunkRows(model.head().outFeatures()));
    }

    static double forwardBackward(CausalLM model, TokenBatch batch, int[] targets, float gradScale, int chunkRows) {
        Tensor hidden = model.forwardHidden(batch);
        Tensor dHidden = Buffers.gradient("CausalLM.dHidden", hidden.dim(0), hidden.dim(1));
        double loss = run(model.head(), hidden, targets, gradScale, dHidden, chunkRows);
        model.backwardHidden(dHidden);
        return loss;
    }

    /** The summed loss alone (evaluation); the layers still keep what a backward would need. */
    public static double forward(CausalLM model, TokenBatch batch, int[] targets) {
        return forward(model, batch, targets, chunkRows(model.head().outFeatures()));
    }

    static double forward(CausalLM model, TokenBatch batch, int[] targets, int chunkRows) {
        return run(model.head(), model.forwardHidden(batch), targets, 0f, null, chunkRows);
    }

    private static double run(Linear head, Tensor hidden, int[] targets, float gradScale, Tensor dHiddenOrNull,
                              int chunkRows) {
        int rows = hidden.dim(0);
        if (targets.length < rows) {
            throw new IllegalArgumentException("cross-entropy: need one target per row (" + rows + "), got " + targets.length);
        }
        int vocab = head.outFeatures();
        int step = Math.max(1, Math.min(rows, chunkRows));
        // one buffer of a full slice; the last, shorter slice uses its first rows
        Tensor buffer = Buffers.shared("LanguageModelLoss.logits", step, vocab);
        double loss = 0;
        for (int r0 = 0; r0 < rows; r0 += step) {
            int r1 = Math.min(rows, r0 + step);
            Tensor h = hidden.slice(0, r0, r1);
            Tensor logits = r1 - r0 == step ? buffer : buffer.slice(0, 0, r1 - r0);
            head.forward(h, logits);
            int[] chunkTargets = Arrays.copyOfRange(targets, r0, r1);
            if (dHiddenOrNull == null) {
                loss += CrossEntropy.forwardBackward(logits, chunkTargets, null, 0f);
            } else {
                // the logits are not needed once their gradient is known: it overwrites them in place
                loss += CrossEntropy.forwardBackward(logits, chunkTargets, logits, gradScale);
                head.backward(logits, dHiddenOrNull.slice(0, r0, r1), false);
            }
        }
        return loss;
    }
}
