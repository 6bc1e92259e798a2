package dev.lora4j.lora;

import dev.lora4j.tensor.Parameter;

/**
 * What every LoRA adapter holds, whatever layer it sits beside: its module path, the trainable
 * factors A and B, the scale s of {@code s·B·A}, and the switch that disables it (PEFT's
 * disable_adapter). {@link LoraLinear} and {@link LoraEmbedding} add their forward and backward.
 */
abstract class LoraFactors {
    final String modulePath;
    final Parameter a;
    final Parameter b;
    final float scaling;
    boolean enabled = true;

    LoraFactors(String modulePath, Parameter a, Parameter b, double scaling) {
        this.modulePath = modulePath;
        this.a = a;
        this.b = b;
        this.scaling = (float) scaling;
    }

    public String modulePath() {
        return modulePath;
    }

    public Parameter loraA() {
        return a;
    }

    public Parameter loraB() {
        return b;
    }

    public float scaling() {
        return scaling;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean enabled() {
        return enabled;
    }
}
