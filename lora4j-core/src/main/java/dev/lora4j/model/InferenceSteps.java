package dev.lora4j.model;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** What every architecture's KV-cache forward step shares: input checks and picking each sequence's last row. */
public final class InferenceSteps {
    private InferenceSteps() {}

    /** The checks of a training batch, plus: the step fits the cache, and past plus step stay inside a sliding window. */
    public static void check(ModelConfig config, TokenBatch step, KvCache cache, boolean positionsBounded) {
        Checks.checkBatch(config, step, positionsBounded);
        if (step.batchSize() != cache.batchSize()) {
            throw new IllegalArgumentException("step has " + step.batchSize() + " sequences but the KV cache holds "
                    + cache.batchSize());
        }
        int total = cache.length() + step.seqLen();
        if (config.slidingWindow() != null && total > config.slidingWindow()) {
            throw new IllegalArgumentException(total + " tokens exceed the sliding attention window of "
                    + config.slidingWindow() + ", which lora4j does not implement");
        }
    }

    /**
     * Runs a step's blocks with the product kernel its rows call for: one new token per sequence
     * (decoding) streams the weights, prompt rows go through the blocked GEMM. Chosen by the kind of
     * step, not by its number of rows, so a sequence's results do not depend on how many others share
     * the step (see {@link Matmul#rowsBy}).
     */
    public static Tensor blocks(TokenBatch step, java.util.function.Supplier<Tensor> body) {
        return Matmul.rowsBy(step.seqLen() == 1 ? Matmul.Kernel.STREAMED : Matmul.Kernel.BLOCKED, body);
    }

    /** Next-token logits of the last-token rows: at most one row per sequence, so the head always streams. */
    public static Tensor logits(Linear head, Tensor lastHidden) {
        return Matmul.rowsBy(Matmul.Kernel.STREAMED, () -> head.forward(lastHidden));
    }

    /** Rows b·T + T − 1 of h [B·T, D] (each sequence's last token) into {@code buffer} [B, D], reused when it fits. */
    public static Tensor lastTokenRows(Tensor h, int batch, int t, Tensor buffer) {
        int d = h.dim(1);
        Tensor out = Buffers.reuse(buffer, batch, d);
        MemorySegment from = h.data();
        MemorySegment to = out.data();
        for (int b = 0; b < batch; b++) {
            long srcAt = (h.offset() + (long) (b * t + t - 1) * h.stride(0)) * Float.BYTES;
            long dstAt = (out.offset() + (long) b * out.stride(0)) * Float.BYTES;
            MemorySegment.copy(from, srcAt, to, dstAt, (long) d * Float.BYTES);
        }
        return out;
    }
}
