package dev.lora4j.nn;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code y = x·Wᵀ + b} with a frozen weight W [out, in] in its stored dtype (a view of the
 * checkpoint, possibly strided: GPT-2's Conv1D weights are stored [in, out] and used as {@code w.t()}).
 *
 * <p>Frozen means no weight gradient is ever computed or allocated: backward only propagates
 * {@code dx = dy·W}. Trainable parts attach as {@link LinearAdapter}s (LoRA). With an adapter the
 * layer keeps its input from the last forward, which is all the adapter's backward needs; without
 * one it keeps nothing.
 */
public final class Linear {
    private final String name;
    private final Tensor weight;
    private final Tensor bias;
    private final boolean storedTransposed;
    private LinearAdapter adapter;
    private final ActivationMemory.Slot output;
    private Tensor savedInput;

    /**
     * @param name             module path, e.g. {@code model.layers.0.self_attn.q_proj}
     * @param weight           [out, in] view of the frozen weight
     * @param biasOrNull       [out] or null
     * @param storedTransposed true when the checkpoint stores the weight [in, out] (GPT-2 Conv1D,
     *                         PEFT's {@code fan_in_fan_out})
     */
    public Linear(String name, Tensor weight, Tensor biasOrNull, boolean storedTransposed) {
        this(name, weight, biasOrNull, storedTransposed, new ActivationMemory());
    }

    /** As above, with the output buffer of {@link #forward(Tensor)} placed by a model's activation policy. */
    public Linear(String name, Tensor weight, Tensor biasOrNull, boolean storedTransposed, ActivationMemory memory) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(name + ": weight must be a matrix, got " + weight);
        }
        if (biasOrNull != null && (biasOrNull.rank() != 1 || biasOrNull.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException(name + ": bias " + biasOrNull + " does not match weight " + weight);
        }
        this.name = name;
        this.weight = weight;
        this.bias = biasOrNull;
        this.storedTransposed = storedTransposed;
        this.output = memory.slot(name, "output");
    }

    public String name() {
        return name;
    }

    /** The frozen weight as [out, in]. */
    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public boolean storedTransposed() {
        return storedTransposed;
    }

    public int inFeatures() {
        return weight.dim(1);
    }

    public int outFeatures() {
        return weight.dim(0);
    }

    public LinearAdapter adapter() {
        return adapter;
    }

    /** Attaches (or with null, removes) the trainable branch added to this layer's output. */
    public void setAdapter(LinearAdapter adapterOrNull) {
        this.adapter = adapterOrNull;
    }

    /** y [rows, out] = x [rows, in] · Wᵀ + b (+ adapter), in this layer's output buffer. Keeps x for backward. */
    public Tensor forward(Tensor x) {
        Tensor y = output.matrix(x.dim(0), outFeatures());
        forward(x, y);
        return y;
    }

    /** As {@link #forward(Tensor)} into a given output, which may be a column slice of a wider buffer. */
    public void forward(Tensor x, Tensor y) {
        Matmul.forward(x, weight, y, false);
        if (bias != null) {
            addBiasToRows(y, bias);
        }
        if (adapter != null) {
            adapter.forward(x, y);
        }
        // Only an adapter's backward reads the input (the frozen weight gets no gradient), so a plain
        // layer keeps nothing and its input buffer can be freed as soon as the next layer is done with it.
        savedInput = adapter != null ? x : null;
    }

    /** dx (+)= dy · W, plus the adapter's share; no gradient for the frozen weight or bias. */
    public void backward(Tensor dy, Tensor dx, boolean accumulate) {
        Matmul.backwardInput(dy, weight, dx, accumulate);
        if (adapter != null) {
            adapter.backward(dy, savedInput, dx);
        }
    }

    /** The input of the last forward call when an adapter is attached (else null: nothing needs it). */
    public Tensor savedInput() {
        return savedInput;
    }

    /** Drops the saved input, and what the adapter saved, so their buffers can be freed. */
    public void clearSaved() {
        savedInput = null;
        if (adapter != null) {
            adapter.clearSaved();
        }
    }

    /** y[r, :] += b for every row; y is F32 with unit column stride. */
    static void addBiasToRows(Tensor y, Tensor b) {
        int rows = y.dim(0);
        int cols = y.dim(1);
        float[] bias = b.toFloatArray();
        if (y.dtype() != DType.F32 || y.stride(1) != 1) {
            throw new IllegalArgumentException("bias add needs an F32 output with unit column stride, got " + y);
        }
        MemorySegment seg = y.data();
        long rowStride = y.stride(0);
        for (int r = 0; r < rows; r++) {
            long base = y.offset() + r * rowStride;
            for (int c = 0; c < cols; c++) {
                long i = base + c;
                seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i) + bias[c]);
            }
        }
    }

    @Override
    public String toString() {
        return "Linear[" + name + ", " + inFeatures() + " -> " + outFeatures() + ", " + weight.dtype()
                + (bias != null ? ", bias" : "") + "]";
    }
}
