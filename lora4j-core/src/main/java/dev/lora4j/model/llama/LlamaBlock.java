package dev.lora4j.model.llama;

import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.GatedMlp;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.PreNormBlock;
import dev.lora4j.nn.RmsNormLayer;
import dev.lora4j.nn.RotaryEmbedding;
import dev.lora4j.nn.SelfAttention;

/**
 * One decoder layer, {@code model.layers.<i>}:
 * {@code h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h))}, with RMSNorm,
 * rotary grouped-query attention and a SwiGLU MLP.
 */
final class LlamaBlock extends PreNormBlock {
    LlamaBlock(ModelConfig c, ModelWeights w, int index, RotaryEmbedding rope, ActivationMemory memory) {
        String p = "model.layers." + index + ".";
        int hidden = c.hiddenSize();
        int qWidth = c.numHeads() * c.headDim();
        int kvWidth = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        float eps = (float) c.normEps();
        String a = p + "self_attn.";
        String m = p + "mlp.";
        super(p,
                new RmsNormLayer(p + "input_layernorm", w.require(p + "input_layernorm.weight", hidden), eps, memory),
                SelfAttention.separate(
                        linear(w, a + "q_proj", qWidth, hidden, c.qkvBias(), memory),
                        linear(w, a + "k_proj", kvWidth, hidden, c.qkvBias(), memory),
                        linear(w, a + "v_proj", kvWidth, hidden, c.qkvBias(), memory),
                        linear(w, a + "o_proj", hidden, qWidth, c.outputBias(), memory),
                        c.numHeads(), c.numKvHeads(), c.headDim(), rope, memory),
                new RmsNormLayer(p + "post_attention_layernorm",
                        w.require(p + "post_attention_layernorm.weight", hidden), eps, memory),
                new GatedMlp(
                        linear(w, m + "gate_proj", inter, hidden, c.mlpBias(), memory),
                        linear(w, m + "up_proj", inter, hidden, c.mlpBias(), memory),
                        linear(w, m + "down_proj", hidden, inter, c.mlpBias(), memory),
                        memory),
                memory);
    }

    /** A Linear over {@code <name>.weight} [out, in] (and {@code <name>.bias} [out] when the config says so). */
    static Linear linear(ModelWeights w, String name, int out, int in, boolean bias, ActivationMemory memory) {
        return new Linear(name, w.require(name + ".weight", out, in), w.requireIf(bias, name + ".bias", out), false,
                memory);
    }
}
