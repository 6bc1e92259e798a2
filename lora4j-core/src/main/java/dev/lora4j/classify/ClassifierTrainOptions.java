package dev.lora4j.classify;

import dev.lora4j.train.LrSchedule;

/**
 * Hyper-parameters of a classification run. {@code steps} > 0 fixes the number of optimizer steps,
 * else it is {@code ceil(epochs · examples / batchSize)}. {@code evalEvery} = 0 evaluates only
 * before and after training.
 */
public record ClassifierTrainOptions(int steps, double epochs, int batchSize, double lr, LrSchedule schedule,
                                     int warmup, double weightDecay, double maxGradNorm, long seed, int evalEvery,
                                     float[] classWeightsOrNull) {
    public ClassifierTrainOptions {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        }
        if (steps < 0 || (steps == 0 && !(epochs > 0))) {
            throw new IllegalArgumentException("give --steps > 0 or --epochs > 0");
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("--lr must be positive, got " + lr);
        }
    }

    public int totalSteps(int examples) {
        return steps > 0 ? steps : (int) Math.max(1, Math.ceil(epochs * examples / batchSize));
    }
}
