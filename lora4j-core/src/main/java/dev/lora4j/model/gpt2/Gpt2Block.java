package dev.lora4j.model.gpt2;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.Buffers;
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
final class Gpt2Block {
    private final LayerNormLayer ln1;
    private final SelfAttention attention;
    private final LayerNormLayer ln2;
    private final GeluMlp mlp;

    Gpt2Block(ModelConfig c, ModelWeights w, String weightPrefix, String modulePrefix, int index) {
        String p = weightPrefix + "h." + index + ".";
        String m = modulePrefix + "h." + index + ".";
        int d = c.hiddenSize();
        float eps = (float) c.normEps();
        ln1 = new LayerNormLayer(m + "ln_1", w.require(p + "ln_1.weight", d), w.require(p + "ln_1.bias", d), eps);
        ln2 = new LayerNormLayer(m + "ln_2", w.require(p + "ln_2.weight", d), w.require(p + "ln_2.bias", d), eps);
        attention = SelfAttention.fused(
                conv1d(w, p + "attn.c_attn", m + "attn.c_attn", d, 3 * d),
                conv1d(w, p + "attn.c_proj", m + "attn.c_proj", d, d),
                c.numHeads(), c.headDim(), null);
        mlp = new GeluMlp(
                conv1d(w, p + "mlp.c_fc", m + "mlp.c_fc", d, c.intermediateSize()),
                conv1d(w, p + "mlp.c_proj", m + "mlp.c_proj", c.intermediateSize(), d),
                Gpt2Architecture.gelu(c.hiddenAct()));
    }

    /** A Conv1D: weight stored [in, out], used as its [out, in] transposed view; bias [out]. */
    private static Linear conv1d(ModelWeights w, String weightName, String moduleName, int in, int out) {
        Tensor stored = w.require(weightName + ".weight", in, out);
        return new Linear(moduleName, stored.t(), w.require(weightName + ".bias", out), true);
    }

    private Tensor residual;
    private Tensor output;

    Tensor forward(Tensor x, TokenBatch batch) {
        Tensor attnOut = attention.forward(ln1.forward(x), batch);
        Tensor h = residual = Buffers.reuse(residual, x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(ln2.forward(h));
        Tensor out = output = Buffers.reuse(output, x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    /** The same block at inference, attention reading and extending the KV cache's slots of layer {@code index}. */
    Tensor forwardCached(Tensor x, TokenBatch step, KvCache cache, int index) {
        Tensor attnOut = attention.forwardCached(ln1.forward(x), step, cache, index);
        Tensor h = residual = Buffers.reuse(residual, x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(ln2.forward(h));
        Tensor out = output = Buffers.reuse(output, x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    Tensor backward(Tensor dOut) {
        Tensor dh = ln2.backward(mlp.backward(dOut));
        Elementwise.addInPlace(dh, dOut);
        Tensor dx = ln1.backward(attention.backward(dh));
        Elementwise.addInPlace(dx, dh);
        return dx;
    }

    List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attention.linears());
        all.addAll(mlp.linears());
        return all;
    }
}
