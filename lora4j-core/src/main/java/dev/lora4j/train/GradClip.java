package dev.lora4j.train;

import dev.lora4j.tensor.Parameter;
import java.util.List;

/** Gradient-norm clipping as {@code torch.nn.utils.clip_grad_norm_} (2-norm over all parameters). */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients by {@code min(1, maxNorm / (norm + 1e-6))} and returns the norm before
     * clipping. The norm is accumulated in double (PyTorch reduces in float32 with pairwise sums;
     * the difference is far below what changes a clipped update).
     */
    public static double clip(List<Parameter> params, double maxNorm) {
        double sumSquares = 0;
        for (Parameter p : params) {
            double s = 0;
            for (float g : p.grad()) {
                s += (double) g * g;
            }
            sumSquares += s;
        }
        double norm = Math.sqrt(sumSquares);
        if (maxNorm > 0) {
            float coef = (float) Math.min(1.0, maxNorm / (norm + 1e-6));
            if (coef < 1f) {
                for (Parameter p : params) {
                    float[] g = p.grad();
                    for (int i = 0; i < g.length; i++) {
                        g[i] *= coef;
                    }
                }
            }
        }
        return norm;
    }
}
