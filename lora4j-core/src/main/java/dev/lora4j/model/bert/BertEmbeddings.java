package dev.lora4j.model.bert;

import dev.lora4j.model.Checks;
import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;

/**
 * {@code LayerNorm(word[id] + position[pos] + tokenType[type])}: BERT's embeddings, all frozen.
 *
 * <p>Positions: BERT uses the batch's positions (0..T-1 per row by default, as transformers does
 * without explicit position_ids). RoBERTa derives them from the ids, as transformers'
 * {@code create_position_ids_from_input_ids} does: a token that is not {@code padding_idx} gets
 * {@code padding_idx + (number of non-pad tokens up to and including it)}, a pad token gets
 * {@code padding_idx}; the batch's positions are not used.
 *
 * <p>Backward stops at the LayerNorm output: nothing below it is trainable.
 */
final class BertEmbeddings {
    private final BertConfig config;
    private final Embedding words;
    private final Embedding positions;
    private final Embedding tokenTypes;
    private final LayerNormLayer norm;

    BertEmbeddings(BertConfig c, BertWeights w) {
        this.config = c;
        int d = c.hiddenSize();
        words = new Embedding(w.module("embeddings.word_embeddings"), w.require("embeddings.word_embeddings.weight", c.vocabSize(), d));
        positions = new Embedding(w.module("embeddings.position_embeddings"),
                w.require("embeddings.position_embeddings.weight", c.maxPositions(), d));
        tokenTypes = new Embedding(w.module("embeddings.token_type_embeddings"),
                w.require("embeddings.token_type_embeddings.weight", c.typeVocabSize(), d));
        norm = w.layerNorm("embeddings.LayerNorm", d, c.layerNormEps());
    }

    Tensor forward(TokenBatch batch, int[] tokenTypeIdsOrNull) {
        int rows = batch.rows();
        int[] types = tokenTypeIdsOrNull != null ? tokenTypeIdsOrNull : new int[rows];
        if (types.length != rows) {
            throw new IllegalArgumentException("token_type_ids has " + types.length + " entries for a batch of "
                    + rows + " tokens");
        }
        for (int r = 0; r < rows; r++) {
            if (types[r] < 0 || types[r] >= config.typeVocabSize()) {
                throw new IllegalArgumentException("token type " + types[r] + " (row " + r / batch.seqLen()
                        + ", position " + r % batch.seqLen() + ") is outside [0, " + config.typeVocabSize()
                        + ") (type_vocab_size)");
            }
        }
        int[] pos = config.isRoberta() ? robertaPositions(batch, config.padTokenId()) : batch.positions();
        for (int r = 0; r < rows; r++) {
            if (pos[r] < 0 || pos[r] >= config.maxPositions()) {
                throw new IllegalArgumentException("position " + pos[r] + " (row " + r / batch.seqLen()
                        + ") is beyond the model's " + config.maxPositions() + " positions (max_position_embeddings"
                        + (config.isRoberta() ? ", of which RoBERTa reserves padding_idx + 1 = " + (config.padTokenId() + 1) : "")
                        + ")");
            }
        }
        Tensor sum = words.forward(Checks.idsForLookup(batch));
        positions.forward(pos, sum, true);
        tokenTypes.forward(types, sum, true);
        return norm.forward(sum);
    }

    /** transformers' create_position_ids_from_input_ids: cumsum(id != pad) · (id != pad) + pad, per row. */
    static int[] robertaPositions(TokenBatch batch, int padId) {
        int[] ids = batch.tokenIds();
        int[] p = new int[ids.length];
        for (int b = 0; b < batch.batchSize(); b++) {
            int seen = 0;
            for (int t = 0; t < batch.seqLen(); t++) {
                int r = b * batch.seqLen() + t;
                if (ids[r] != padId) {
                    seen++;
                    p[r] = padId + seen;
                } else {
                    p[r] = padId;
                }
            }
        }
        return p;
    }

    /** Gradient with respect to the summed embeddings (nothing below is trainable; used by tests). */
    Tensor backward(Tensor dOut) {
        return norm.backward(dOut);
    }
}
