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

    public GatedMlp(Linear gate, Linear up, Linear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    public Tensor forward(Tensor x) {
        Tensor g = gate.forward(x);
        Tensor u = up.forward(x);
        Tensor a = Buffers.f32(g.dim(0), g.dim(1));
        Activations.silu(g, a);
        Tensor h = Buffers.f32(g.dim(0), g.dim(1));
        Elementwise.mul(a, u, h);
        savedGate = g;
        savedUp = u;
        savedActivated = a;
        return down.forward(h);
    }

    public Tensor backward(Tensor dy) {
        int rows = dy.dim(0);
        int width = savedGate.dim(1);
        Tensor dh = Buffers.f32(rows, width);
        down.backward(dy, dh, false);
        Tensor da = Buffers.f32(rows, width);
        Elementwise.mul(dh, savedUp, da);       // d/da of a⊙u is u
        Tensor du = Buffers.f32(rows, width);
        Elementwise.mul(dh, savedActivated, du); // d/du of a⊙u is a
        Tensor dg = Buffers.f32(rows, width);
        Activations.siluBackward(savedGate, da, dg);
        Tensor dx = Buffers.f32(rows, gate.inFeatures());
        gate.backward(dg, dx, false);
        up.backward(du, dx, true);
        return dx;
    }

    public java.util.List<Linear> linears() {
        return java.util.List.of(gate, up, down);
    }
}
