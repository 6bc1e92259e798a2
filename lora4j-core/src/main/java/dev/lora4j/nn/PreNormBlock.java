package dev.lora4j.nn;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The pre-norm transformer block that Llama-family models and GPT-2 share:
 * {@code h = x + attn(norm1(x)); out = h + mlp(norm2(h))}. The families differ only in the parts
 * (RMSNorm and a gated MLP, or LayerNorm and a GELU MLP), which their block classes build.
 */
public class PreNormBlock implements BlockStack.Block {
    private final Sublayer norm1;
    private final SelfAttention attention;
    private final Sublayer norm2;
    private final Sublayer mlp;
    /** The residual stream between attention and MLP: block-internal. */
    private final ActivationMemory.Slot residual;
    /** The block's output: the next block's input, kept per layer in both activation policies. */
    private final ActivationMemory.Slot output;

    /** @param path the block's module path ({@code model.layers.3.}), naming its residual buffer */
    protected PreNormBlock(String path, Sublayer norm1, SelfAttention attention, Sublayer norm2, Sublayer mlp,
                           ActivationMemory memory) {
        this.norm1 = norm1;
        this.attention = attention;
        this.norm2 = norm2;
        this.mlp = mlp;
        this.residual = memory.slot(path + "residual", "sum");
        this.output = memory.keptSlot();
    }

    @Override
    public Tensor forward(Tensor x, TokenBatch batch) {
        return addMlp(addAttention(x, attention.forward(norm1.forward(x), batch)));
    }

    /** The same block at inference, attention reading and extending the KV cache's slots of layer {@code index}. */
    public Tensor forwardCached(Tensor x, TokenBatch step, KvCache cache, int index) {
        return addMlp(addAttention(x, attention.forwardCached(norm1.forward(x), step, cache, index)));
    }

    private Tensor addAttention(Tensor x, Tensor attnOut) {
        Tensor h = residual.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attnOut, h);
        return h;
    }

    private Tensor addMlp(Tensor h) {
        Tensor mlpOut = mlp.forward(norm2.forward(h));
        Tensor out = output.matrix(h.dim(0), h.dim(1));
        Elementwise.add(h, mlpOut, out);
        return out;
    }

    /** dOut → dx: each residual passes the gradient through and adds its branch's gradient. */
    @Override
    public Tensor backward(Tensor dOut) {
        Tensor dh = norm2.backward(mlp.backward(dOut));
        Elementwise.addInPlace(dh, dOut);
        Tensor dx = norm1.backward(attention.backward(dh));
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
