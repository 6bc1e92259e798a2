package dev.lora4j.nn;

import dev.lora4j.kernels.RopeTable;

/**
 * The cos/sin table of rotary position embeddings, shared by all attention layers of a model. The
 * table is built for the positions actually used and grown on demand, so a model whose config allows
 * 128k positions does not allocate a 128k-row table to read 200 tokens.
 */
public final class RotaryEmbedding {
    private final float[] inverseFrequencies;
    private final float attentionScaling;
    private RopeTable table;
    private int tablePositions;

    public RotaryEmbedding(float[] inverseFrequencies, float attentionScaling) {
        this.inverseFrequencies = inverseFrequencies.clone();
        this.attentionScaling = attentionScaling;
    }

    public float[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    /** A table that covers positions 0..maxPosition. */
    public synchronized RopeTable table(int maxPosition) {
        if (table == null || maxPosition >= tablePositions) {
            int size = Math.max(maxPosition + 1, Math.max(64, 2 * tablePositions));
            table = new RopeTable(inverseFrequencies, attentionScaling, size);
            tablePositions = size;
        }
        return table;
    }
}
