package dev.lora4j.model.gpt2;

import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Checks;
import dev.lora4j.model.InferenceSteps;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 language model: {@code wte[token] + wpe[position]} → {@code h.<i>} blocks → {@code ln_f} →
 * head. Weights are found with or without the {@code transformer.} prefix (transformers'
 * GPT2LMHeadModel writes it; the original OpenAI checkpoints on the Hub do not); module names for
 * LoRA targeting always carry it, as in PEFT.
 */
public final class Gpt2Model implements CausalLM {
    private static final String MODULE_PREFIX = "transformer.";

    private final ModelConfig config;
    private final ModelWeights weights;
    private final Embedding wte;
    private final Embedding wpe;
    private final ActivationMemory memory = new ActivationMemory();
    private final BlockStack<Gpt2Block> blocks;
    private final LayerNormLayer lnF;
    private final Linear lmHead;
    private Tensor lastRows;
    /** Whether the last forward was a training forward, whose saved activations backward needs. */
    private boolean backwardReady;

    Gpt2Model(ModelConfig c, ModelWeights w) {
        this.config = c;
        this.weights = w;
        String p = w.contains("transformer.wte.weight") ? MODULE_PREFIX : "";
        int d = c.hiddenSize();
        Tensor tokenTable = w.require(p + "wte.weight", c.vocabSize(), d);
        wte = new Embedding(MODULE_PREFIX + "wte", tokenTable);
        wpe = new Embedding(MODULE_PREFIX + "wpe", w.require(p + "wpe.weight", c.maxPositions(), d));
        List<Gpt2Block> stack = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            stack.add(new Gpt2Block(c, w, p, MODULE_PREFIX, i, memory));
        }
        blocks = new BlockStack<>(memory, stack);
        lnF = new LayerNormLayer(MODULE_PREFIX + "ln_f", w.require(p + "ln_f.weight", d), w.require(p + "ln_f.bias", d),
                (float) c.normEps(), memory);
        Tensor head = c.tieWordEmbeddings() ? tokenTable : w.require("lm_head.weight", c.vocabSize(), d);
        lmHead = new Linear("lm_head", head, null, false, memory);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Tensor forwardHidden(TokenBatch batch) {
        Checks.checkBatch(config, batch, true);  // the learned position table has n_positions rows
        Tensor h = wte.forward(Checks.idsForLookup(batch));
        wpe.forward(batch.positions(), h, true);
        h = blocks.forward(h, batch);
        backwardReady = true;
        return lnF.forward(h);
    }

    @Override
    public Linear head() {
        return lmHead;
    }

    @Override
    public KvCache newKvCache(int batchSize, int capacity) {
        return new KvCache(blocks.size(), batchSize, capacity, config.numKvHeads() * config.headDim());
    }

    @Override
    public Tensor forwardCached(TokenBatch step, KvCache cache) {
        InferenceSteps.check(config, step, cache, true);
        backwardReady = false;
        Tensor h = wte.forward(Checks.idsForLookup(step));
        wpe.forward(step.positions(), h, true);
        cache.beginStep(step);
        Tensor x = h;
        h = InferenceSteps.blocks(step, () -> {
            Tensor y = x;
            for (int i = 0; i < blocks.size(); i++) {
                y = blocks.get(i).forwardCached(y, step, cache, i);
            }
            return y;
        });
        cache.endStep();
        // Only each sequence's last token needs logits: the head is the widest matmul of a step.
        Tensor last = step.seqLen() == 1 ? h
                : (lastRows = InferenceSteps.lastTokenRows(h, step.batchSize(), step.seqLen(), lastRows));
        return InferenceSteps.logits(lmHead, lnF.forward(last));
    }

    @Override
    public void backwardHidden(Tensor dHidden) {
        if (!backwardReady) {
            throw new IllegalStateException("backward needs a forward(TokenBatch) first (forwardCached keeps nothing for backward)");
        }
        Tensor dh = blocks.backward(lnF.backward(dHidden));
        // Both tables are frozen: only LoRA adapters on them (if any) take this gradient.
        wte.backward(dh);
        wpe.backward(dh);
    }

    @Override
    public List<Embedding> embeddings() {
        return List.of(wte, wpe);
    }

    @Override
    public ActivationMemory activationMemory() {
        return memory;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>();
        for (Gpt2Block block : blocks.blocks()) {
            all.addAll(block.linears());
        }
        all.add(lmHead);
        return all;
    }

    @Override
    public void close() {
        weights.source().close();
    }
}
