package dev.lora4j.train;

import dev.lora4j.tensor.Parameter;
import java.util.List;

/**
 * AdamW with decoupled weight decay, step for step as PyTorch's {@code torch.optim.AdamW}
 * (single-tensor path, float32 state) with its defaults: betas (0.9, 0.999), eps 1e-8, weight decay
 * 0.01.
 *
 * <pre>
 *   p ← p·(1 − lr·λ)                       decay applied to the weight, not mixed into the gradient
 *   m ← m + (1 − β1)·(g − m)               first moment (PyTorch's lerp)
 *   v ← β2·v + (1 − β2)·g²                 second moment
 *   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 * Scalars are computed in double and rounded to float once, as PyTorch does with Python scalars.
 */
public final class AdamW {
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPS = 1e-8;
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    private final List<Parameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final float[][] m;
    private final float[][] v;
    private long step;

    public AdamW(List<Parameter> params, double weightDecay) {
        this(params, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, weightDecay);
    }

    public AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new float[params.size()][];
        this.v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).size()];
            v[i] = new float[params.get(i).size()];
        }
    }

    /** One update of every parameter from its current gradient, with learning rate {@code lr}. */
    public void step(double lr) {
        step++;
        float decay = (float) (1 - lr * weightDecay);
        float oneMinusBeta1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float oneMinusBeta2 = (float) (1 - beta2);
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        float negStepSize = (float) (-lr / biasCorrection1);
        float bc2Sqrt = (float) Math.sqrt(biasCorrection2);
        float epsF = (float) eps;
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i).value();
            float[] g = params.get(i).grad();
            float[] mi = m[i];
            float[] vi = v[i];
            for (int j = 0; j < p.length; j++) {
                float gj = g[j];
                p[j] = p[j] * decay;
                mi[j] = mi[j] + oneMinusBeta1 * (gj - mi[j]);
                vi[j] = vi[j] * b2 + oneMinusBeta2 * gj * gj;
                float denom = (float) Math.sqrt(vi[j]) / bc2Sqrt + epsF;
                p[j] = p[j] + negStepSize * mi[j] / denom;
            }
        }
    }

    public long stepCount() {
        return step;
    }

    /** First- and second-moment state for checkpoints (live arrays, index-aligned with the parameters). */
    public float[][] firstMoments() {
        return m;
    }

    public float[][] secondMoments() {
        return v;
    }

    /** Restores the step count after loading moments from a checkpoint. */
    public void restoreStep(long stepCount) {
        this.step = stepCount;
    }
}
