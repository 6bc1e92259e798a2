package dev.lora4j.nn;

import dev.lora4j.kernels.Activations;
import dev.lora4j.kernels.Elementwise;
import dev.lora4j.tensor.Tensor;

/**
 * Llama's SwiGLU MLP: {@code down(silu(gate(x)) ⊙ up(x))}. Forward keeps gate(x), up(x) and
 * silu(gate(x)) for backward.
 */
public final class GatedMlp {
    private final Linear gate;
    private final Linear up;
    private final Linear down;
    private Tensor savedGate;
    private Tensor savedUp;
    private Tensor savedActivated;
    private Tensor hidden;
    private Tensor dh;
    private Tensor da;
    private Tensor du;
    private Tensor dg;
    private Tensor dx;

    public GatedMlp(Linear gate, Linear up, Linear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    public Tensor forward(Tensor x) {
        Tensor g = gate.forward(x);
        Tensor u = up.forward(x);
        Tensor a = savedActivated = Buffers.reuse(savedActivated, g.dim(0), g.dim(1));
        Activations.silu(g, a);
        hidden = Buffers.reuse(hidden, g.dim(0), g.dim(1));
        Elementwise.mul(a, u, hidden);
        savedGate = g;
        savedUp = u;
        return down.forward(hidden);
    }

    public Tensor backward(Tensor dy) {
        int rows = dy.dim(0);
        int width = savedGate.dim(1);
        dh = Buffers.reuse(dh, rows, width);
        down.backward(dy, dh, false);
        da = Buffers.reuse(da, rows, width);
        Elementwise.mul(dh, savedUp, da);       // d/da of a⊙u is u
        du = Buffers.reuse(du, rows, width);
        Elementwise.mul(dh, savedActivated, du); // d/du of a⊙u is a
        dg = Buffers.reuse(dg, rows, width);
        Activations.siluBackward(savedGate, da, dg);
        dx = Buffers.reuse(dx, rows, gate.inFeatures());
        gate.backward(dg, dx, false);
        up.backward(du, dx, true);
        return dx;
    }

    public java.util.List<Linear> linears() {
        return java.util.List.of(gate, up, down);
    }
}
