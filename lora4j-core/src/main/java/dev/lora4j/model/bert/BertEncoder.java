package dev.lora4j.model.bert;

import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A BERT or RoBERTa encoder ({@code BertModel} / {@code RobertaModel} without the pooler):
 * embeddings → {@code encoder.layer.<i>} post-norm layers → last hidden states. The weights are the
 * checkpoint's (memory-mapped) tensors, used in place. The two families differ only in how positions
 * are counted (see {@link BertEmbeddings}) and in the classification head.
 */
public final class BertEncoder implements Encoder {
    private final BertConfig config;
    private final BertWeights weights;
    private final BertEmbeddings embeddings;
    private final BlockStack<BertLayer> layers;
    private Tensor lastEmbeddingGradient;

    BertEncoder(BertConfig config, BertWeights weights) {
        this.config = config;
        this.weights = weights;
        this.embeddings = new BertEmbeddings(config, weights);
        List<BertLayer> stack = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            stack.add(new BertLayer(config, weights, i));
        }
        this.layers = new BlockStack<>(weights.memory(), stack);
    }

    /** Builds the encoder over {@code weights}; the weights are used in place, never copied. */
    public static BertEncoder build(BertConfig config, ModelWeights weights) {
        return new BertEncoder(config, new BertWeights(weights, config));
    }

    @Override
    public BertConfig config() {
        return config;
    }

    BertWeights weights() {
        return weights;
    }

    @Override
    public Tensor forward(TokenBatch batch, int[] tokenTypeIdsOrNull) {
        int[] ids = batch.tokenIds();
        for (int r = 0; r < ids.length; r++) {
            if (batch.attentionMask()[r] != 0 && (ids[r] < 0 || ids[r] >= config.vocabSize())) {
                throw new IllegalArgumentException("token id " + ids[r] + " (row " + r / batch.seqLen() + ", position "
                        + r % batch.seqLen() + ") is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        return layers.forward(embeddings.forward(batch, tokenTypeIdsOrNull), batch);
    }

    @Override
    public void backward(Tensor dHidden) {
        lastEmbeddingGradient = embeddings.backward(layers.backward(dHidden));
    }

    /** d loss / d (word + position + type embedding) from the last backward, [rows, hidden]. */
    public Tensor lastEmbeddingGradient() {
        return lastEmbeddingGradient;
    }

    @Override
    public ActivationMemory activationMemory() {
        return weights.memory();
    }

    @Override
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (BertLayer layer : layers.blocks()) {
            all.addAll(layer.linears());
        }
        return all;
    }

    @Override
    public void close() {
        weights.weights().source().close();
    }
}
