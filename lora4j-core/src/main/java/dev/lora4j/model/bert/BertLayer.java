package dev.lora4j.model.bert;

import dev.lora4j.kernels.Elementwise;
import dev.lora4j.nn.Buffers;
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
final class BertLayer {
    private final BidirectionalSelfAttention attention;
    private final LayerNormLayer attentionNorm;
    private final GeluMlp mlp;
    private final LayerNormLayer outputNorm;

    BertLayer(BertConfig c, BertWeights w, int index) {
        String p = "encoder.layer." + index + ".";
        int d = c.hiddenSize();
        attention = new BidirectionalSelfAttention(
                w.linear(p + "attention.self.query", d, d),
                w.linear(p + "attention.self.key", d, d),
                w.linear(p + "attention.self.value", d, d),
                w.linear(p + "attention.output.dense", d, d),
                c.numHeads(), c.headDim());
        attentionNorm = w.layerNorm(p + "attention.output.LayerNorm", d, c.layerNormEps());
        GeluMlp.Gelu gelu = c.hiddenAct().equals("gelu") ? GeluMlp.Gelu.ERF : GeluMlp.Gelu.TANH;
        mlp = new GeluMlp(w.linear(p + "intermediate.dense", d, c.intermediateSize()),
                w.linear(p + "output.dense", c.intermediateSize(), d), gelu);
        outputNorm = w.layerNorm(p + "output.LayerNorm", d, c.layerNormEps());
    }

    Tensor forward(Tensor x, TokenBatch batch) {
        Tensor attnSum = Buffers.f32(x.dim(0), x.dim(1));
        Elementwise.add(x, attention.forward(x, batch), attnSum);
        Tensor h = attentionNorm.forward(attnSum);
        Tensor mlpSum = Buffers.f32(x.dim(0), x.dim(1));
        Elementwise.add(h, mlp.forward(h), mlpSum);
        return outputNorm.forward(mlpSum);
    }

    Tensor backward(Tensor dOut) {
        Tensor dMlpSum = outputNorm.backward(dOut);
        Tensor dh = mlp.backward(dMlpSum);
        Elementwise.addInPlace(dh, dMlpSum);
        Tensor dAttnSum = attentionNorm.backward(dh);
        Tensor dx = attention.backward(dAttnSum);
        Elementwise.addInPlace(dx, dAttnSum);
        return dx;
    }

    List<Linear> linears() {
        List<Linear> all = new ArrayList<>(attention.linears());
        all.addAll(mlp.linears());
        return all;
    }
}
