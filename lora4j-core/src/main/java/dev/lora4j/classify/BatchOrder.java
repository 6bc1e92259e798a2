package dev.lora4j.classify;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The order of training batches: each epoch is a seeded shuffle of all examples, cut into windows
 * of {@value #WINDOW} batches; within a window the examples are sorted by length and cut into
 * batches, and the batches of the epoch are shuffled again. Every example is seen once per epoch as
 * with a plain shuffle, but a batch holds texts of similar length, so right padding (work spent on
 * pad tokens) drops from "every text padded to the longest of 32 random ones" to a few tokens
 * (transformers' {@code group_by_length} does the same with 50 batches).
 */
final class BatchOrder {
    static final int WINDOW = 50;

    private final int[][] encoded;
    private final int batchSize;
    private final long seed;
    private List<int[]> epochBatches = List.of();
    private int next;
    private int epoch = -1;

    BatchOrder(int[][] encoded, int batchSize, long seed) {
        this.encoded = encoded;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** Example indices of the next batch (the last batch of an epoch may be smaller). */
    int[] next() {
        if (next == epochBatches.size()) {
            epoch++;
            epochBatches = plan(epoch);
            next = 0;
        }
        return epochBatches.get(next++);
    }

    private List<int[]> plan(int epochIndex) {
        int[] order = ClassifierTrainer.shuffled(encoded.length, seed, epochIndex);
        List<int[]> batches = new ArrayList<>();
        int window = WINDOW * batchSize;
        for (int start = 0; start < order.length; start += window) {
            Integer[] part = Arrays.stream(order, start, Math.min(order.length, start + window)).boxed().toArray(Integer[]::new);
            Arrays.sort(part, Comparator.comparingInt(i -> encoded[i].length));   // stable: ties keep the shuffle
            for (int b = 0; b < part.length; b += batchSize) {
                int[] batch = new int[Math.min(batchSize, part.length - b)];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = part[b + i];
                }
                batches.add(batch);
            }
        }
        int[] perm = ClassifierTrainer.shuffled(batches.size(), seed + 1, epochIndex);
        List<int[]> out = new ArrayList<>(batches.size());
        for (int p : perm) {
            out.add(batches.get(p));
        }
        return out;
    }
}
