package dev.lora4j.model.bert;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.BlockStack;
import dev.lora4j.nn.GeluMlp;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One post-LayerNorm encoder layer, {@code encoder.layer.<i>}:
 * {@code h = LN₁(x + attention(x)); out = LN₂(h + output.dense(gelu(intermediate.dense(h))))}.
 * (Post-norm: the residual sum is normalized, unlike GPT-2 and Llama which normalize the branch input.)
 */
final class BertLayer implements BlockStack.Block {
    private final BidirectionalSelfAttention attention;
    private final LayerNormLayer attentionNorm;
    private final GeluMlp mlp;
    private final LayerNormLayer outputNorm;
    /** The two residual sums, each the input a LayerNorm keeps for backward: block-internal. */
    private final ActivationMemory.Slot attnSum;
    private final ActivationMemory.Slot mlpSum;
    /** The layer's output (LN₂'s result): the next layer's input, kept per layer in both activation policies. */
    private final ActivationMemory.Slot output;

    BertLayer(BertConfig c, BertWeights w, int index) {
        String p = "encoder.layer." + index + ".";
        int d = c.hiddenSize();
        attention = new BidirectionalSelfAttention(
                w.linear(p + "attention.self.query", d, d),
                w.linear(p + "attention.self.key", d, d),
                w.linear(p + "attention.self.value", d, d),
                w.linear(p + "attention.output.dense", d, d),
                c.numHeads(), c.headDim(), w.memory());
        attentionNorm = w.layerNorm(p + "attention.output.LayerNorm", d, c.layerNormEps());
        GeluMlp.Gelu gelu = c.hiddenAct().equals("gelu") ? GeluMlp.Gelu.ERF : GeluMlp.Gelu.TANH;
        mlp = new GeluMlp(w.linear(p + "intermediate.dense", d, c.intermediateSize()),
                w.linear(p + "output.dense", c.intermediateSize(), d), gelu, w.memory());
        outputNorm = w.layerNorm(p + "output.LayerNorm", d, c.layerNormEps());
        attnSum = w.memory().slot(w.module(p + "attention"), "sum");
        mlpSum = w.memory().slot(w.module(p + "output"), "sum");
        output = w.memory().keptSlot();
    }

    @Override
    public Tensor forward(Tensor x, TokenBatch batch) {
        Tensor sum1 = attnSum.matrix(x.dim(0), x.dim(1));
        Elementwise.add(x, attention.forward(x, batch), sum1);
        Tensor h = attentionNorm.forward(sum1);
        Tensor sum2 = mlpSum.matrix(x.dim(0), x.dim(1));
        Elementwise.add(h, mlp.forward(h), sum2);
        Tensor out = output.matrix(x.dim(0), x.dim(1));
        outputNorm.forward(sum2, out);
        return out;
    }

    @Override
    public Tensor backward(Tensor dOut) {
        Tensor dMlpSum = outputNorm.backward(dOut);
        Tensor dh = mlp.backward(dMlpSum);
        Elementwise.addInPlace(dh, dMlpSum);
        Tensor dAttnSum = attentionNorm.backward(dh);
        Tensor dx = attention.backward(dAttnSum);
        Elementwise.addInPlace(dx, dAttnSum);
        return dx;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attention.linears());
        all.addAll(mlp.linears());
        return all;
    }
}
