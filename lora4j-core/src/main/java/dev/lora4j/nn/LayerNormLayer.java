package dev.lora4j.nn;

import dev.lora4j.kernels.LayerNorm;
import dev.lora4j.tensor.Tensor;

/**
 * LayerNorm: {@code y = (x - mean) / sqrt(var + eps) * weight + bias}, row by row (GPT-2's ln_1,
 * ln_2, ln_f). Forward keeps x, the means and the inverse standard deviations for backward.
 */
public final class LayerNormLayer implements Sublayer {
    private final String name;
    private final Tensor weight;
    private final Tensor bias;
    private final float eps;
    private final ActivationMemory.Slot output;
    private final ActivationMemory.Slot mean;
    private final ActivationMemory.Slot invStd;
    private Tensor savedInput;
    private float[] savedMean;
    private float[] savedInvStd;
    private Tensor inputGradient;

    public LayerNormLayer(String name, Tensor weight, Tensor biasOrNull, float eps) {
        this(name, weight, biasOrNull, eps, new ActivationMemory());
    }

    /** As above, with the output and statistics buffers placed by a model's activation policy. */
    public LayerNormLayer(String name, Tensor weight, Tensor biasOrNull, float eps, ActivationMemory memory) {
        this.name = name;
        this.weight = weight;
        this.bias = biasOrNull;
        this.eps = eps;
        this.output = memory.slot(name, "output");
        this.mean = memory.slot(name, "mean");
        this.invStd = memory.slot(name, "invStd");
    }

    public String name() {
        return name;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = output.matrix(x.dim(0), x.dim(1));
        forward(x, y);
        return y;
    }

    /** As {@link #forward(Tensor)} into a given output (e.g. a block's output that must outlive the block). */
    public void forward(Tensor x, Tensor y) {
        int rows = x.dim(0);
        savedMean = mean.vector(rows);
        savedInvStd = invStd.vector(rows);
        LayerNorm.forward(x, weight, bias, eps, y, savedMean, savedInvStd);
        savedInput = x;
    }

    @Override
    public Tensor backward(Tensor dy) {
        inputGradient = Buffers.gradient(Buffers.roleOf(name) + ".dx", dy.dim(0), dy.dim(1));
        LayerNorm.backward(dy, savedInput, weight, savedMean, savedInvStd, inputGradient, null, null);
        return inputGradient;
    }
}
