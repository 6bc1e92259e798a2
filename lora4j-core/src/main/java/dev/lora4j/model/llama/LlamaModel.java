package dev.lora4j.model.llama;

import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Checks;
import dev.lora4j.model.InferenceSteps;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.RmsNormLayer;
import dev.lora4j.nn.RotaryEmbedding;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A Llama-family causal LM with Hugging Face weight names:
 * {@code model.embed_tokens} → {@code model.layers.<i>} → {@code model.norm} → {@code lm_head}
 * (or, with tied embeddings, the embedding matrix again as the output head).
 */
public final class LlamaModel implements CausalLM {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Embedding embedTokens;
    private final ActivationMemory memory = new ActivationMemory();
    private final BlockStack<LlamaBlock> layers;
    private final RmsNormLayer norm;
    private final Linear lmHead;
    private Tensor lastRows;
    /** Whether the last forward was a training forward, whose saved activations backward needs. */
    private boolean backwardReady;

    LlamaModel(ModelConfig c, ModelWeights w) {
        this.config = c;
        this.weights = w;
        Tensor embedding = w.require("model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
        embedTokens = new Embedding("model.embed_tokens", embedding, c.padTokenId());
        RotaryEmbedding rope = new RotaryEmbedding(c.rope().inverseFrequencies(c.headDim()), c.rope().attentionScaling());
        List<LlamaBlock> blocks = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            blocks.add(new LlamaBlock(c, w, i, rope, memory));
        }
        layers = new BlockStack<>(memory, blocks);
        norm = new RmsNormLayer("model.norm", w.require("model.norm.weight", c.hiddenSize()), (float) c.normEps(), memory);
        Tensor head = c.tieWordEmbeddings() ? embedding : w.require("lm_head.weight", c.vocabSize(), c.hiddenSize());
        lmHead = new Linear("lm_head", head, null, false, memory);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Tensor forwardHidden(TokenBatch batch) {
        // RoPE has no position table to overflow; transformers does not bound positions either.
        Checks.checkBatch(config, batch, false);
        Tensor h = layers.forward(embedTokens.forward(Checks.idsForLookup(batch)), batch);
        backwardReady = true;
        return norm.forward(h);
    }

    @Override
    public Linear head() {
        return lmHead;
    }

    @Override
    public KvCache newKvCache(int batchSize, int capacity) {
        return new KvCache(layers.size(), batchSize, capacity, config.numKvHeads() * config.headDim());
    }

    @Override
    public Tensor forwardCached(TokenBatch step, KvCache cache) {
        InferenceSteps.check(config, step, cache, false);
        backwardReady = false;
        Tensor h = embedTokens.forward(Checks.idsForLookup(step));
        cache.beginStep(step);
        Tensor x = h;
        h = InferenceSteps.blocks(step, () -> {
            Tensor y = x;
            for (int i = 0; i < layers.size(); i++) {
                y = layers.get(i).forwardCached(y, step, cache, i);
            }
            return y;
        });
        cache.endStep();
        // Only each sequence's last token needs logits: the head is the widest matmul of a step.
        Tensor last = step.seqLen() == 1 ? h
                : (lastRows = InferenceSteps.lastTokenRows(h, step.batchSize(), step.seqLen(), lastRows));
        return InferenceSteps.logits(lmHead, norm.forward(last));
    }

    @Override
    public void backwardHidden(Tensor dHidden) {
        if (!backwardReady) {
            throw new IllegalStateException("backward needs a forward(TokenBatch) first (forwardCached keeps nothing for backward)");
        }
        Tensor dh = layers.backward(norm.backward(dHidden));
        // The token table is frozen: only a LoRA adapter on it (if any) takes this gradient.
        embedTokens.backward(dh);
    }

    @Override
    public List<Embedding> embeddings() {
        return List.of(embedTokens);
    }

    @Override
    public ActivationMemory activationMemory() {
        return memory;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (LlamaBlock layer : layers.blocks()) {
            all.addAll(layer.linears());
        }
        all.add(lmHead);
        return all;
    }

    @Override
    public void close() {
        weights.source().close();
    }
}
