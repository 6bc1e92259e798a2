package dev.lora4j.nn;

import dev.lora4j.kernels.RmsNorm;
import dev.lora4j.tensor.Tensor;

/**
 * Llama's RMSNorm: {@code y = x / sqrt(mean(x²) + eps) * weight}, row by row. Forward keeps x and
 * the per-row 1/rms, which is exactly what backward needs. The weight is frozen.
 */
public final class RmsNormLayer {
    private final String name;
    private final Tensor weight;
    private final float eps;
    private Tensor savedInput;
    private float[] savedInvRms;
    private Tensor output;
    private Tensor inputGradient;

    public RmsNormLayer(String name, Tensor weight, float eps) {
        this.name = name;
        this.weight = weight;
        this.eps = eps;
    }

    public String name() {
        return name;
    }

    public Tensor forward(Tensor x) {
        output = Buffers.reuse(output, x.dim(0), x.dim(1));
        savedInvRms = Buffers.reuse(savedInvRms, x.dim(0));
        RmsNorm.forward(x, weight, eps, output, savedInvRms);
        savedInput = x;
        return output;
    }

    /** dx = d norm / dx · dy (overwritten). */
    public Tensor backward(Tensor dy) {
        inputGradient = Buffers.gradient(Buffers.roleOf(name) + ".dx", dy.dim(0), dy.dim(1));
        RmsNorm.backward(dy, savedInput, weight, savedInvRms, inputGradient, null);
        return inputGradient;
    }
}
