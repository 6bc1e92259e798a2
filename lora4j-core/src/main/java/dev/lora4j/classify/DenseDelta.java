package dev.lora4j.classify;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.LinearAdapter;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.util.List;

/**
 * Full fine-tuning of one frozen linear layer, written as an adapter: a dense update ΔW [out, in]
 * and Δb [out], both starting at 0, so the layer computes {@code y = x·(W + ΔW)ᵀ + (b + Δb)} and
 * W + ΔW is exactly the fully trained weight. The frozen W stays mapped and untouched; training
 * ΔW is the same optimization as training W itself (same gradient, same AdamW update; only weight
 * decay acts on ΔW instead of W, i.e. it pulls towards the pretrained weight).
 * <pre>
 *   forward:  y  += x·ΔWᵀ + Δb
 *   backward: dΔW += dyᵀ·x,  dΔb += Σ_rows dy,  dx += dy·ΔW
 * </pre>
 */
public final class DenseDelta implements LinearAdapter {
    private final Parameter deltaWeight;
    private final Parameter deltaBias;

    public DenseDelta(String modulePath, int in, int out) {
        this.deltaWeight = new Parameter(modulePath + ".weight", out, in);
        this.deltaBias = new Parameter(modulePath + ".bias", out);
    }

    public Parameter deltaWeight() {
        return deltaWeight;
    }

    public Parameter deltaBias() {
        return deltaBias;
    }

    public List<Parameter> parameters() {
        return List.of(deltaWeight, deltaBias);
    }

    @Override
    public void forward(Tensor x, Tensor y) {
        Matmul.forward(x, deltaWeight.valueTensor(), y, true);
        float[] b = deltaBias.value();
        int rows = y.dim(0);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < b.length; c++) {
                y.set(y.get(r, c) + b[c], r, c);
            }
        }
    }

    @Override
    public void backward(Tensor dy, Tensor x, Tensor dx) {
        Matmul.backwardWeight(dy, x, deltaWeight.gradTensor(), true);
        float[] db = deltaBias.grad();
        int rows = dy.dim(0);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < db.length; c++) {
                db[c] += dy.get(r, c);
            }
        }
        Matmul.backwardInput(dy, deltaWeight.valueTensor(), dx, true);
    }
}
