package dev.lora4j.train;

/**
 * Everything that decides a training run besides the model and the data. Defaults follow common
 * LoRA practice (and PyTorch's AdamW defaults where they apply).
 *
 * @param steps           optimizer steps; 0 means "from epochs"
 * @param epochs          passes over the data when steps is 0
 * @param batchSize       sequences per micro-batch
 * @param gradAccum       micro-batches per optimizer step
 * @param seqLen          sequences are cut to this many tokens
 * @param lr              peak learning rate
 * @param schedule        constant, linear or cosine decay after warmup
 * @param warmupSteps     linear warmup from 0
 * @param weightDecay     AdamW's decoupled weight decay
 * @param maxGradNorm     clip the global gradient norm to this (0: no clipping)
 * @param seed            adapter init, data order and dropout masks
 * @param evalEvery       evaluate on the held-out set every N steps (0: only at start and end)
 * @param checkpointEvery save a resumable checkpoint every N steps (0: never)
 * @param recompute       activation recomputation: keep only each block's input and re-run the block's
 *                        forward in backward (about one more forward per step, much less activation
 *                        memory); the gradients, and so the whole run, are bit-identical either way
 */
public record TrainOptions(
        int steps,
        double epochs,
        int batchSize,
        int gradAccum,
        int seqLen,
        double lr,
        LrSchedule schedule,
        int warmupSteps,
        double weightDecay,
        double maxGradNorm,
        long seed,
        int evalEvery,
        int checkpointEvery,
        boolean recompute) {

    public TrainOptions {
        if (steps < 0 || epochs < 0 || (steps == 0 && epochs == 0)) {
            throw new IllegalArgumentException("give a positive number of steps or epochs");
        }
        if (batchSize <= 0 || gradAccum <= 0 || seqLen < 2) {
            throw new IllegalArgumentException("batch size and gradient accumulation must be positive, seq len >= 2");
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        }
    }

    /** Without activation recomputation. */
    public TrainOptions(int steps, double epochs, int batchSize, int gradAccum, int seqLen, double lr,
                        LrSchedule schedule, int warmupSteps, double weightDecay, double maxGradNorm, long seed,
                        int evalEvery, int checkpointEvery) {
        this(steps, epochs, batchSize, gradAccum, seqLen, lr, schedule, warmupSteps, weightDecay, maxGradNorm, seed,
                evalEvery, checkpointEvery, false);
    }

    public static TrainOptions defaults() {
        return new TrainOptions(100, 0, 8, 1, 256, 2e-4, LrSchedule.LINEAR, 0, 0.0, 1.0, 42, 0, 0);
    }

    /** These options with activation recomputation on or off. */
    public TrainOptions withRecompute(boolean on) {
        return new TrainOptions(steps, epochs, batchSize, gradAccum, seqLen, lr, schedule, warmupSteps, weightDecay,
                maxGradNorm, seed, evalEvery, checkpointEvery, on);
    }

    /** The number of optimizer steps this run takes over {@code examples} examples. */
    public int totalSteps(int examples) {
        if (steps > 0) {
            return steps;
        }
        return (int) Math.max(1, Math.ceil(epochs * examples / ((double) batchSize * gradAccum)));
    }
}
