package dev.lora4j.serve.engine;

/**
 * A snapshot of the engine for health checks and metrics.
 *
 * @param waiting          requests queued for admission
 * @param running          sequences admitted (prefilling or decoding)
 * @param lastBatchSize    sequences in the last decode step
 * @param kvBytesInUse     KV-cache bytes held by running sequences
 * @param kvBudgetBytes    the budget they share
 * @param adaptersLoaded   adapters held in memory
 * @param promptTokens     prompt tokens prefilled since start
 * @param generatedTokens  tokens generated since start
 * @param steps            engine steps (decode and/or prefill) since start
 * @param draining         true once {@link ServingEngine#drain} began
 */
public record EngineStats(int waiting, int running, int lastBatchSize, long kvBytesInUse, long kvBudgetBytes,
                          int adaptersLoaded, long promptTokens, long generatedTokens, long steps, boolean draining) {}
