package dev.lora4j.nn;

import dev.lora4j.kernels.Activations;
import dev.lora4j.tensor.Tensor;

/** GPT-2's MLP: {@code proj(gelu(fc(x)))}, with the tanh-approximated or the exact (erf) GELU. */
public final class GeluMlp implements Sublayer {
    /** Which GELU: "gelu_new"/"gelu_pytorch_tanh" use the tanh approximation, "gelu" the erf form. */
    public enum Gelu { TANH, ERF }

    private final Linear fc;
    private final Linear proj;
    private final Gelu gelu;
    private final ActivationMemory.Slot activatedSlot;
    private Tensor savedPreActivation;

    public GeluMlp(Linear fc, Linear proj, Gelu gelu) {
        this(fc, proj, gelu, new ActivationMemory());
    }

    /** As above, with the buffers backward reads placed by a model's activation policy. */
    public GeluMlp(Linear fc, Linear proj, Gelu gelu, ActivationMemory memory) {
        this.fc = fc;
        this.proj = proj;
        this.gelu = gelu;
        this.activatedSlot = memory.slot(Buffers.parentPath(proj.name()), "activated");
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor h = fc.forward(x);
        Tensor activated = activatedSlot.matrix(h.dim(0), h.dim(1));
        if (gelu == Gelu.TANH) {
            Activations.geluTanh(h, activated);
        } else {
            Activations.geluErf(h, activated);
        }
        savedPreActivation = h;
        return proj.forward(activated);
    }

    @Override
    public Tensor backward(Tensor dy) {
        int rows = dy.dim(0);
        int width = savedPreActivation.dim(1);
        Tensor da = Buffers.gradient("GeluMlp.da", rows, width);
        proj.backward(dy, da, false);
        Tensor dh = Buffers.gradient("GeluMlp.dh", rows, width);
        if (gelu == Gelu.TANH) {
            Activations.geluTanhBackward(savedPreActivation, da, dh);
        } else {
            Activations.geluErfBackward(savedPreActivation, da, dh);
        }
        Tensor dx = Buffers.gradient("GeluMlp.dx", rows, fc.inFeatures());
        fc.backward(dh, dx, false);
        return dx;
    }

    @Override
    public java.util.List<Linear> linears() {
        return java.util.List.of(fc, proj);
    }
}
