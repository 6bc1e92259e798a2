package dev.lora4j.serve.engine;

/**
 * The engine's limits.
 *
 * @param kvBudgetBytes      KV-cache memory all running sequences may hold together; a request is
 *                           admitted when its whole cache (prompt + max new tokens) fits, else it waits
 * @param maxBatch           sequences decoded together in one step at most
 * @param maxQueue           requests waiting for admission at most; one more is refused ({@link QueueFullException})
 * @param prefillChunk       prompt tokens run per engine step and sequence, so a long prompt does not
 *                           stall the others' decoding
 * @param maxLoadedAdapters  adapters held in memory at most (least recently used out first, never one in use)
 */
public record EngineOptions(long kvBudgetBytes, int maxBatch, int maxQueue, int prefillChunk, int maxLoadedAdapters) {
    public EngineOptions {
        if (kvBudgetBytes <= 0 || maxBatch <= 0 || maxQueue < 0 || prefillChunk < 2 || maxLoadedAdapters <= 0) {
            throw new IllegalArgumentException("engine options out of range: " + kvBudgetBytes + " KV bytes, batch "
                    + maxBatch + ", queue " + maxQueue + ", prefill chunk " + prefillChunk + " (≥ 2), adapters "
                    + maxLoadedAdapters);
        }
    }

    /** 256 MiB of KV cache, 32 sequences per step, 256 waiting, 64 prompt tokens per turn, 64 adapters. */
    public static EngineOptions defaults() {
        return new EngineOptions(256L << 20, 32, 256, 64, 64);
    }
}
