package dev.lora4j.lora;

import dev.lora4j.kernels.Matmul;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.LinearAdapter;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The LoRA branch beside a frozen linear layer: {@code y += s·(dropout(x)·Aᵀ)·Bᵀ}, with
 * {@code A: [r, in]} and {@code B: [out, r]} the only trainable tensors.
 *
 * <p>Forward keeps {@code h = dropout(x)} (only when dropout is on; otherwise h is x, which the
 * frozen layer keeps anyway) and {@code u = s·h·Aᵀ} [rows, r], which is small. Backward:
 * <pre>
 *   dB += dyᵀ·u                  [out, r]
 *   du  = s·dy·B                 [rows, r]
 *   dA += duᵀ·h                  [r, in]
 *   dx += mask/(1−p) ⊙ (du·A)    [rows, in]
 * </pre>
 */
public final class LoraLinear extends LoraFactors implements LoraAdapter, LinearAdapter {
    private final float dropout;
    private boolean training;
    private long dropoutSeed;
    private long dropoutStep;

    private Tensor savedH;
    private Tensor savedU;
    private float[] savedMask;

    public LoraLinear(String modulePath, int inFeatures, int outFeatures, int rank, double scaling, double dropout) {
        super(modulePath, new Parameter(modulePath + ".lora_A.weight", rank, inFeatures),
                new Parameter(modulePath + ".lora_B.weight", outFeatures, rank), scaling);
        this.dropout = (float) dropout;
    }

    @Override
    public void initialize(InitLoraWeights init, SplittableRandom rng) {
        int rank = rank();
        int in = inFeatures();
        switch (init) {
            case KAIMING -> {  // kaiming_uniform_(a=√5): U(−1/√fan_in, 1/√fan_in); B = 0
                uniform(a.value(), 1.0 / Math.sqrt(in), rng);
                java.util.Arrays.fill(b.value(), 0f);
            }
            case GAUSSIAN -> {  // N(0, 1/r); B = 0
                float[] v = a.value();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextGaussian() / rank);
                }
                java.util.Arrays.fill(b.value(), 0f);
            }
            case RANDOM -> {  // nn.Linear's own init for both: the adapter is not a no-op
                uniform(a.value(), 1.0 / Math.sqrt(in), rng);
                uniform(b.value(), 1.0 / Math.sqrt(rank), rng);
            }
        }
    }

    private static void uniform(float[] v, double bound, SplittableRandom rng) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
    }

    public int inFeatures() {
        return a.shape()[1];
    }

    public int outFeatures() {
        return b.shape()[0];
    }

    /** Training mode turns dropout on; {@code step} and {@code seed} pick this step's masks. */
    @Override
    public void setTraining(boolean training, long seed, long step) {
        this.training = training;
        this.dropoutSeed = seed;
        this.dropoutStep = step;
    }

    /** A disabled adapter adds nothing (PEFT's disable_adapter). */
    @Override
    public void forward(Tensor x, Tensor y) {
        if (!enabled) {
            return;
        }
        int rows = x.dim(0);
        Tensor h = x;
        savedMask = null;
        if (training && dropout > 0) {
            h = applyDropout(x);
        }
        Tensor u = Buffers.reuse(savedU, rows, rank());
        Matmul.forward(h, a.valueTensor(), u, false);
        scale(u, scaling);
        Matmul.forward(u, b.valueTensor(), y, true);
        savedH = h;
        savedU = u;
    }

    @Override
    public void backward(Tensor dy, Tensor x, Tensor dx) {
        if (!enabled) {
            return;
        }
        int rows = dy.dim(0);
        Matmul.backwardWeight(dy, savedU, b.gradTensor(), true);
        Tensor du = Buffers.f32(rows, rank());
        Matmul.backwardInput(dy, b.valueTensor(), du, false);
        scale(du, scaling);
        Tensor h = savedMask == null ? x : savedH;
        Matmul.backwardWeight(du, h, a.gradTensor(), true);
        if (savedMask == null) {
            Matmul.backwardInput(du, a.valueTensor(), dx, true);
        } else {
            Tensor dh = Buffers.f32(rows, inFeatures());
            Matmul.backwardInput(du, a.valueTensor(), dh, false);
            addMasked(dx, dh, savedMask, 1f / (1f - dropout));
        }
    }

    /** Frees what forward kept. */
    @Override
    public void clearSaved() {
        savedH = null;
        savedU = null;
        savedMask = null;
    }

    private Tensor applyDropout(Tensor x) {
        int rows = x.dim(0);
        int cols = x.dim(1);
        Tensor h = Buffers.f32(rows, cols);
        float[] mask = new float[rows * cols];
        float keepScale = 1f / (1f - dropout);
        long stream = (dropoutStep << 20) ^ modulePath.hashCode();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            readRow(x, r, row);
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                boolean keep = CounterRandom.uniform(dropoutSeed, stream, i) >= dropout;
                mask[i] = keep ? 1f : 0f;
                row[c] = keep ? row[c] * keepScale : 0f;
            }
            writeRow(row, h, r);
        }
        savedMask = mask;
        return h;
    }

    /** t *= s, a row at a time through a float[] (a plain loop the JIT vectorizes). */
    private static void scale(Tensor t, float s) {
        int cols = t.dim(1);
        float[] row = new float[cols];
        for (int r = 0; r < t.dim(0); r++) {
            readRow(t, r, row);
            for (int c = 0; c < cols; c++) {
                row[c] *= s;
            }
            writeRow(row, t, r);
        }
    }

    /** Row r of an F32 matrix with unit column stride (what activations are), else element by element. */
    private static void readRow(Tensor t, int r, float[] row) {
        if (t.dtype() == DType.F32 && (t.stride(1) == 1 || row.length <= 1)) {
            MemorySegment.copy(t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, (t.offset() + r * t.stride(0)) * Float.BYTES,
                    row, 0, row.length);
        } else {
            for (int c = 0; c < row.length; c++) {
                row[c] = t.get(r, c);
            }
        }
    }

    private static void writeRow(float[] row, Tensor t, int r) {
        if (t.dtype() == DType.F32 && (t.stride(1) == 1 || row.length <= 1)) {
            MemorySegment.copy(row, 0, t.data(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                    (t.offset() + r * t.stride(0)) * Float.BYTES, row.length);
        } else {
            for (int c = 0; c < row.length; c++) {
                t.set(row[c], r, c);
            }
        }
    }

    private static void addMasked(Tensor dx, Tensor dh, float[] mask, float keepScale) {
        int rows = dx.dim(0);
        int cols = dx.dim(1);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float m = mask[r * cols + c];
                if (m != 0f) {
                    dx.set(dx.get(r, c) + dh.get(r, c) * keepScale, r, c);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "LoraLinear[" + modulePath + ", r=" + rank() + ", s=" + scaling + "]";
    }
}
