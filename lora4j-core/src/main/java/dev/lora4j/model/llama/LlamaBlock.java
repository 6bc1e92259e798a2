package dev.lora4j.model.llama;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.GatedMlp;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.RmsNormLayer;
import dev.lora4j.nn.RotaryEmbedding;
import dev.lora4j.nn.SelfAttention;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One decoder layer, {@code model.layers.<i>}:
 * {@code h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h))}.
 */
final class LlamaBlock implements BlockStack.Block {
    private final RmsNormLayer inputNorm;
    private final SelfAttention attention;
    private final RmsNormLayer postAttentionNorm;
    private final GatedMlp mlp;

    LlamaBlock(ModelConfig c, ModelWeights w, int index, RotaryEmbedding rope, ActivationMemory memory) {
        String p = "model.layers." + index + ".";
        int hidden = c.hiddenSize();
        int qWidth = c.numHeads() * c.headDim();
        int kvWidth = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        float eps = (float) c.normEps();
        inputNorm = new RmsNormLayer(p + "input_layernorm", w.require(p + "input_layernorm.weight", hidden), eps, memory);
        postAttentionNorm = new RmsNormLayer(p + "post_attention_layernorm",
                w.require(p + "post_attention_layernorm.weight", hidden), eps, memory);
        String a = p + "self_attn.";
        attention = SelfAttention.separate(
                linear(w, a + "q_proj", qWidth, hidden, c.qkvBias(), memory),
                linear(w, a + "k_proj", kvWidth, hidden, c.qkvBias(), memory),
                linear(w, a + "v_proj", kvWidth, hidden, c.qkvBias(), memory),
                linear(w, a + "o_proj", hidden, qWidth, c.outputBias(), memory),
                c.numHeads(), c.numKvHeads(), c.headDim(), rope, memory);
        String m = p + "mlp.";
        mlp = new GatedMlp(
                linear(w, m + "gate_proj", inter, hidden, c.mlpBias(), memory),
                linear(w, m + "up_proj", inter, hidden, c.mlpBias(), memory),
                linear(w, m + "down_proj", hidden, inter, c.mlpBias(), memory),
                memory);
        residual = memory.slot(p + "residual", "sum");
        output = memory.keptSlot();
    }

    /** A Linear over {@code <name>.weight} [out, in] (and {@code <name>.bias} [out] when the config says so). */
    static Linear linear(ModelWeights w, String name, int out, int in, boolean bias, ActivationMemory memory) {
        return new Linear(name, w.require(name + ".weight", out, in), w.requireIf(bias, name + ".bias", out), false,
                memory);
    }

    /** The residual stream between attention and MLP: block-internal. */
    private final ActivationMemory.Slot residual;
    /** The block's output: the next block's input, kept per layer in both activation policies. */
    private final ActivationMemory.Slot output;

    @Override
    public Tensor forward(Tensor x, TokenBatch batch) {
        Tensor attnOut = attention.forward(inputNorm.forward(x), batch);
        Tensor h = residual.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(postAttentionNorm.forward(h));
        Tensor out = output.matrix(x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    /** The same block at inference, attention reading and extending the KV cache's slots of layer {@code index}. */
    Tensor forwardCached(Tensor x, TokenBatch step, KvCache cache, int index) {
        Tensor attnOut = attention.forwardCached(inputNorm.forward(x), step, cache, index);
        Tensor h = residual.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        Tensor mlpOut = mlp.forward(postAttentionNorm.forward(h));
        Tensor out = output.matrix(x.dim(0), x.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    /** dOut → dx: each residual passes the gradient through and adds its branch's gradient. */
    @Override
    public Tensor backward(Tensor dOut) {
        Tensor dh = postAttentionNorm.backward(mlp.backward(dOut));
        Elementwise.addInPlace(dh, dOut);
        Tensor dx = inputNorm.backward(attention.backward(dh));
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
