package dev.lora4j.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The order examples are seen in: an endless sequence of epochs, each a seeded shuffle of the whole
 * data set. The k-th example drawn depends only on (seed, k), so a resumed run continues exactly
 * where the interrupted one was.
 */
final class DataOrder {
    private final List<Example> examples;
    private final long seed;
    private final Map<Long, int[]> permutations = new HashMap<>();

    DataOrder(List<Example> examples, long seed) {
        this.examples = examples;
        this.seed = seed;
    }

    /** Micro-batch {@code index} of {@code batchSize} examples. */
    List<Example> microBatch(long index, int batchSize) {
        List<Example> out = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) {
            out.add(example(index * batchSize + i));
        }
        return out;
    }

    Example example(long k) {
        int n = examples.size();
        long epoch = k / n;
        int[] perm = permutations.computeIfAbsent(epoch, this::shuffle);
        if (permutations.size() > 2) {
            permutations.keySet().removeIf(e -> e < epoch);
        }
        return examples.get(perm[(int) (k % n)]);
    }

    private int[] shuffle(long epoch) {
        int n = examples.size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
