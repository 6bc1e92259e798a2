package dev.lora4j.nn;

import dev.lora4j.kernels.RmsNorm;
import dev.lora4j.tensor.Tensor;

/**
 * Llama's RMSNorm: {@code y = x / sqrt(mean(x²) + eps) * weight}, row by row. Forward keeps x and
 * the per-row 1/rms, which is exactly what backward needs. The weight is frozen.
 */
public final class RmsNormLayer implements Sublayer {
    private final String name;
    private final Tensor weight;
    private final float eps;
    private final ActivationMemory.Slot output;
    private final ActivationMemory.Slot invRms;
    private Tensor savedInput;
    private float[] savedInvRms;
    private Tensor inputGradient;

    public RmsNormLayer(String name, Tensor weight, float eps) {
        this(name, weight, eps, new ActivationMemory());
    }

    /** As above, with the output and 1/rms buffers placed by a model's activation policy. */
    public RmsNormLayer(String name, Tensor weight, float eps, ActivationMemory memory) {
        this.name = name;
        this.weight = weight;
        this.eps = eps;
        this.output = memory.slot(name, "output");
        this.invRms = memory.slot(name, "invRms");
    }

    public String name() {
        return name;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = output.matrix(x.dim(0), x.dim(1));
        savedInvRms = invRms.vector(x.dim(0));
        RmsNorm.forward(x, weight, eps, y, savedInvRms);
        savedInput = x;
        return y;
    }

    /** dx = d norm / dx · dy (overwritten). */
    @Override
    public Tensor backward(Tensor dy) {
        inputGradient = Buffers.gradient(Buffers.roleOf(name) + ".dx", dy.dim(0), dy.dim(1));
        RmsNorm.backward(dy, savedInput, weight, savedInvRms, inputGradient, null);
        return inputGradient;
    }
}
