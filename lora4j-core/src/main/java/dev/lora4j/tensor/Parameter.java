package dev.lora4j.tensor;

/**
 * A trainable tensor: its value and its gradient, both F32 on the Java heap. Only adapter weights
 * (and {@code modules_to_save} copies) are parameters; frozen base weights are plain tensors that
 * stay in their stored dtype and never get a gradient buffer.
 *
 * <p>The gradient array is made on first use: an adapter that only serves (inference, merging,
 * the server's hundreds of loaded adapters) costs its values alone, not twice that.
 */
public final class Parameter {
    private final String name;
    private final int[] shape;
    private final float[] value;
    private volatile float[] grad;

    public Parameter(String name, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        long n = Shape.numel(shape);
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("parameter " + name + " too large: " + Shape.toString(shape));
        }
        this.value = new float[(int) n];
    }

    /** PEFT-style name, e.g. {@code model.layers.0.self_attn.q_proj.lora_A.weight}. */
    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int size() {
        return value.length;
    }

    /** The live value array (updated in place by the optimizer). */
    public float[] value() {
        return value;
    }

    /** The live gradient array (accumulated into by backward passes). */
    public float[] grad() {
        float[] g = grad;
        if (g == null) {
            synchronized (this) {   // backward may first touch it from several kernel threads
                g = grad;
                if (g == null) {
                    grad = g = new float[value.length];
                }
            }
        }
        return g;
    }

    /** Whether a gradient array exists yet (training made one; serving never does). */
    public boolean hasGrad() {
        return grad != null;
    }

    public Tensor valueTensor() {
        return Tensor.of(value, shape);
    }

    public Tensor gradTensor() {
        return Tensor.of(grad(), shape);
    }

    public void zeroGrad() {
        float[] g = grad;
        if (g != null) {
            java.util.Arrays.fill(g, 0f);
        }
    }

    @Override
    public String toString() {
        return "Parameter[" + name + " " + Shape.toString(shape) + "]";
    }
}
