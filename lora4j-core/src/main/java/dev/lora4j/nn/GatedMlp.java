package dev.lora4j.nn;

import dev.lora4j.kernels.Activations;
import dev.lora4j.kernels.Elementwise;
import dev.lora4j.tensor.Tensor;

/**
 * Llama's SwiGLU MLP: {@code down(silu(gate(x)) ⊙ up(x))}. Forward keeps gate(x) and up(x) for
 * backward; silu(gate(x)) is recomputed there (one cheap element-wise pass) rather than kept, which
 * saves a [rows, intermediate] buffer per layer, the largest activation of the block.
 */
public final class GatedMlp implements Sublayer {
    private final Linear gate;
    private final Linear up;
    private final Linear down;
    private final ActivationMemory.Slot hidden;
    private Tensor savedGate;
    private Tensor savedUp;

    public GatedMlp(Linear gate, Linear up, Linear down) {
        this(gate, up, down, new ActivationMemory());
    }

    /** As above, with the buffers backward reads placed by a model's activation policy. */
    public GatedMlp(Linear gate, Linear up, Linear down, ActivationMemory memory) {
        this.gate = gate;
        this.up = up;
        this.down = down;
        this.hidden = memory.slot(Buffers.parentPath(down.name()), "hidden");
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor g = gate.forward(x);
        Tensor u = up.forward(x);
        // h is read again in backward only by an adapter on the down projection; otherwise one
        // buffer serves every layer, as does the down projection's output (only added to the residual).
        Tensor h = down.adapter() != null ? hidden.matrix(g.dim(0), g.dim(1))
                : Buffers.shared("GatedMlp.hidden", g.dim(0), g.dim(1));
        Activations.silu(g, h);
        Elementwise.mul(h, u, h);                 // h = silu(g) ⊙ u, in place
        savedGate = g;
        savedUp = u;
        Tensor out = Buffers.shared("GatedMlp.out", h.dim(0), down.outFeatures());
        down.forward(h, out);
        return out;
    }

    @Override
    public Tensor backward(Tensor dy) {
        int rows = dy.dim(0);
        int width = savedGate.dim(1);
        Tensor dh = Buffers.gradient("GatedMlp.dh", rows, width);
        down.backward(dy, dh, false);
        Tensor du = Buffers.gradient("GatedMlp.du", rows, width);
        Activations.silu(savedGate, du);          // a = silu(g), recomputed
        Elementwise.mul(du, dh, du);              // du = dh ⊙ a   (d/du of a⊙u is a)
        Elementwise.mul(dh, savedUp, dh);         // da = dh ⊙ u, in place of dh
        Activations.siluBackward(savedGate, dh, dh); // dg = silu'(g) ⊙ da, in place
        Tensor dx = Buffers.gradient("GatedMlp.dx", rows, gate.inFeatures());
        gate.backward(dh, dx, false);
        up.backward(du, dx, true);
        return dx;
    }

    @Override
    public java.util.List<Linear> linears() {
        return java.util.List.of(gate, up, down);
    }
}
