package dev.lora4j.model.gpt2;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.GeluMlp;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.SelfAttention;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One GPT-2 block, {@code h.<i>}: {@code h = x + attn(ln_1(x)); out = h + mlp(ln_2(h))}.
 * GPT-2's Conv1D stores weights [in, out]; each Linear uses the transposed view {@code w.t()} [out, in],
 * so nothing is copied.
 */
final class Gpt2Block implements BlockStack.Block {
    private final LayerNormLayer ln1;
    private final SelfAttention attention;
    private final LayerNormLayer ln2;
    private final GeluMlp mlp;

    Gpt2Block(ModelConfig c, ModelWeights w, String weightPrefix, String modulePrefix, int index,
              ActivationMemory memory) {
        String p = weightPrefix + "h." + index + ".";
        String m = modulePrefix + "h." + index + ".";
        int d = c.hiddenSize();
        float eps = (float) c.normEps();
        ln1 = new LayerNormLayer(m + "ln_1", w.require(p + "ln_1.weight", d), w.require(p + "ln_1.bias", d), eps, memory);
        ln2 = new LayerNormLayer(m + "ln_2", w.require(p + "ln_2.weight", d), w.require(p + "ln_2.bias", d), eps, memory);
        attention = SelfAttention.fused(
                conv1d(w, p + "attn.c_attn", m + "attn.c_attn", d, 3 * d, memory),
                conv1d(w, p + "attn.c_proj", m + "attn.c_proj", d, d, memory),
                c.numHeads(), c.headDim(), null, memory);
        mlp = new GeluMlp(
                conv1d(w, p + "mlp.c_fc", m + "mlp.c_fc", d, c.intermediateSize(), memory),
                conv1d(w, p + "mlp.c_proj", m + "mlp.c_proj", c.intermediateSize(), d, memory),
                Gpt2Architecture.gelu(c.hiddenAct()), memory);
        residual = memory.slot(m + "residual", "sum");
        output = memory.keptSlot();
    }

    /** A Conv1D: weight stored [in, out], used as its [out, in] transposed view; bias [out]. */
    private static Linear conv1d(ModelWeights w, String weightName, String moduleName, int in, int out,
                                 ActivationMemory memory) {
        Tensor stored = w.require(weightName + ".weight", in, out);
        return new Linear(moduleName, stored.t(), w.require(weightName + ".bias", out), true, memory);
    }

    /** The residual stream between attention and MLP: block-internal. */
    private final ActivationMemory.Slot residual;
    /** The block's output: the next block's input, kept per layer in both activation policies. */
    private final ActivationMemory.Slot output;

    @Override
    public Tensor forward(Tensor x, TokenBatch batch) {
        Tensor attnOut = attention.forward(ln1.forward(x), batch);
        Tensor h = residual.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(ln2.forward(h));
        Tensor out = output.matrix(x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    /** The same block at inference, attention reading and extending the KV cache's slots of layer {@code index}. */
    Tensor forwardCached(Tensor x, TokenBatch step, KvCache cache, int index) {
        Tensor attnOut = attention.forwardCached(ln1.forward(x), step, cache, index);
        Tensor h = residual.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(ln2.forward(h));
        Tensor out = output.matrix(x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    @Override
    public Tensor backward(Tensor dOut) {
        Tensor dh = ln2.backward(mlp.backward(dOut));
        Elementwise.addInPlace(dh, dOut);
        Tensor dx = ln1.backward(attention.backward(dh));
        Elementwise.addInPlace(dx, dh);
        return dx;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attention.linears());
        all.addAll(mlp.linears());
        return all;
    }
}
