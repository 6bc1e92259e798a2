package dev.lora4j.model.bert;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.Buffers;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A fully trainable {@code y = x·Wᵀ + b}: weight [out, in] and bias [out] are {@link Parameter}s with
 * gradients. This is what PEFT's {@code modules_to_save} makes of a classification head: a trainable
 * copy of the module, saved whole with the adapter. Parameter names are the module path plus
 * {@code .weight} / {@code .bias} (e.g. {@code classifier.weight}).
 */
public final class TrainableLinear {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor savedInput;

    public TrainableLinear(String name, int in, int out) {
        this.name = name;
        this.weight = new Parameter(name + ".weight", out, in);
        this.bias = new Parameter(name + ".bias", out);
    }

    public String name() {
        return name;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    public int inFeatures() {
        return weight.shape()[1];
    }

    public int outFeatures() {
        return weight.shape()[0];
    }

    /** transformers' _init_weights for a new Linear: W ~ N(0, std²) (initializer_range 0.02), b = 0. */
    public void initializeNormal(RandomGenerator rng, double std) {
        float[] w = weight.value();
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (std * rng.nextGaussian());
        }
        java.util.Arrays.fill(bias.value(), 0f);
    }

    /** Copies W [out, in] and b [out] (any dtype) into the parameters. */
    public void load(Tensor w, Tensor b) {
        if (w.rank() != 2 || w.dim(0) != outFeatures() || w.dim(1) != inFeatures()
                || b.rank() != 1 || b.dim(0) != outFeatures()) {
            throw new IllegalArgumentException(name + ": expected weight [" + outFeatures() + ", " + inFeatures()
                    + "] and bias [" + outFeatures() + "], got " + w + " and " + b);
        }
        System.arraycopy(w.toFloatArray(), 0, weight.value(), 0, weight.size());
        System.arraycopy(b.toFloatArray(), 0, bias.value(), 0, bias.size());
    }

    /** y [rows, out]; keeps x for backward. */
    public Tensor forward(Tensor x) {
        Tensor y = Buffers.f32(x.dim(0), outFeatures());
        Matmul.forward(x, weight.valueTensor(), y, false);
        float[] b = bias.value();
        for (int r = 0; r < y.dim(0); r++) {
            for (int c = 0; c < b.length; c++) {
                y.set(y.get(r, c) + b[c], r, c);
            }
        }
        savedInput = x;
        return y;
    }

    /** Accumulates dW += dyᵀ·x and db += Σ_rows dy; returns dx = dy·W. */
    public Tensor backward(Tensor dy) {
        Matmul.backwardWeight(dy, savedInput, weight.gradTensor(), true);
        float[] db = bias.grad();
        for (int r = 0; r < dy.dim(0); r++) {
            for (int c = 0; c < db.length; c++) {
                db[c] += dy.get(r, c);
            }
        }
        Tensor dx = Buffers.f32(dy.dim(0), inFeatures());
        Matmul.backwardInput(dy, weight.valueTensor(), dx, false);
        return dx;
    }
}
