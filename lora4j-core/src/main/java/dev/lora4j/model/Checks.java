package dev.lora4j.model;

import dev.lora4j.nn.TokenBatch;

/** Input checks every architecture applies before a forward pass. */
public final class Checks {
    private Checks() {}

    /** Token ids inside the vocabulary, positions inside what the model supports. */
    public static void checkBatch(ModelConfig config, TokenBatch batch, boolean positionsBounded) {
        int[] ids = batch.tokenIds();
        for (int r = 0; r < ids.length; r++) {
            if (batch.attentionMask()[r] != 0 && (ids[r] < 0 || ids[r] >= config.vocabSize())) {
                throw new IllegalArgumentException("token id " + ids[r] + " (row " + r / batch.seqLen() + ", position "
                        + r % batch.seqLen() + ") is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int maxPosition = batch.maxPosition();
        if (positionsBounded && maxPosition >= config.maxPositions()) {
            throw new IllegalArgumentException("position " + maxPosition + " is beyond the model's "
                    + config.maxPositions() + " positions (max_position_embeddings / n_positions)");
        }
        if (config.slidingWindow() != null && batch.seqLen() > config.slidingWindow()) {
            throw new IllegalArgumentException("sequences of " + batch.seqLen() + " tokens exceed the sliding attention window of "
                    + config.slidingWindow() + ", which lora4j does not implement");
        }
    }

    /** Token ids for the embedding lookup: padding rows may hold any id, so they read row 0. */
    public static int[] idsForLookup(TokenBatch batch) {
        int[] ids = batch.tokenIds().clone();
        for (int r = 0; r < ids.length; r++) {
            if (batch.attentionMask()[r] == 0) {
                ids[r] = 0;
            }
        }
        return ids;
    }
}
