package dev.lora4j.model.gpt2;

import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.GeluMlp;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.PreNormBlock;
import dev.lora4j.nn.SelfAttention;
import dev.lora4j.tensor.Tensor;

/**
 * One GPT-2 block, {@code h.<i>}: {@code h = x + attn(ln_1(x)); out = h + mlp(ln_2(h))}.
 * GPT-2's Conv1D stores weights [in, out]; each Linear uses the transposed view {@code w.t()} [out, in],
 * so nothing is copied.
 */
final class Gpt2Block extends PreNormBlock {
    Gpt2Block(ModelConfig c, ModelWeights w, String weightPrefix, String modulePrefix, int index,
              ActivationMemory memory) {
        String p = weightPrefix + "h." + index + ".";
        String m = modulePrefix + "h." + index + ".";
        int d = c.hiddenSize();
        float eps = (float) c.normEps();
        super(m,
                new LayerNormLayer(m + "ln_1", w.require(p + "ln_1.weight", d), w.require(p + "ln_1.bias", d), eps, memory),
                SelfAttention.fused(
                        conv1d(w, p + "attn.c_attn", m + "attn.c_attn", d, 3 * d, memory),
                        conv1d(w, p + "attn.c_proj", m + "attn.c_proj", d, d, memory),
                        c.numHeads(), c.headDim(), null, memory),
                new LayerNormLayer(m + "ln_2", w.require(p + "ln_2.weight", d), w.require(p + "ln_2.bias", d), eps, memory),
                new GeluMlp(
                        conv1d(w, p + "mlp.c_fc", m + "mlp.c_fc", d, c.intermediateSize(), memory),
                        conv1d(w, p + "mlp.c_proj", m + "mlp.c_proj", c.intermediateSize(), d, memory),
                        Gpt2Architecture.gelu(c.hiddenAct()), memory),
                memory);
    }

    /** A Conv1D: weight stored [in, out], used as its [out, in] transposed view; bias [out]. */
    private static Linear conv1d(ModelWeights w, String weightName, String moduleName, int in, int out,
                                 ActivationMemory memory) {
        Tensor stored = w.require(weightName + ".weight", in, out);
        return new Linear(moduleName, stored.t(), w.require(weightName + ".bias", out), true, memory);
    }
}
