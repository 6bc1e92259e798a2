package dev.lora4j.lora;

import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Folds a LoRA adapter into its frozen weight: {@code W' = W + s·B·A}, and back: {@code W = W' − s·B·A};
 * for an embedding table {@code E' = E + s·(B·A)ᵀ}.
 *
 * <p>The result has the base weight's stored dtype and stored layout: [out, in] for a Linear, [in, out]
 * for a weight stored transposed (GPT-2's Conv1D, PEFT's fan_in_fan_out, where PEFT adds ΔWᵀ). Each
 * element is computed exactly enough in double ({@code W} widened, ΔW in double) and rounded once into
 * the stored dtype, so a BF16 merge is the nearest BF16 to the true sum (PEFT rounds ΔW to the
 * weight's dtype first and then rounds the sum again).
 */
public final class LoraMerge {
    private LoraMerge() {}

    /** A new tensor (allocated in {@code arena}) holding {@code W + s·B·A} in W's stored dtype and layout. */
    public static Tensor merged(Linear layer, LoraLinear adapter, Arena arena) {
        return apply(layer.weight(), layer.storedTransposed(), adapter, +1, arena);
    }

    /**
     * A new tensor holding {@code W' − s·B·A}: undoes {@link #merged} up to the one rounding each step
     * makes (exact for F32 weights within float rounding; within one unit in the last place for BF16/F16).
     *
     * @param mergedWeight the merged weight as the [out, in] view a Linear uses
     */
    public static Tensor unmerged(Tensor mergedWeight, boolean storedTransposed, LoraLinear adapter, Arena arena) {
        return apply(mergedWeight, storedTransposed, adapter, -1, arena);
    }

    /**
     * A new tensor holding the embedding table {@code E + s·(B·A)ᵀ} in E's stored dtype, as PEFT's
     * {@code lora.Embedding.merge} (each element rounded once, as for linear layers).
     */
    public static Tensor merged(Embedding embedding, LoraEmbedding adapter, Arena arena) {
        Tensor e = embedding.table();
        int num = e.dim(0);
        int dim = e.dim(1);
        if (adapter.numEmbeddings() != num || adapter.embeddingDim() != dim) {
            throw new IllegalArgumentException(adapter.modulePath() + ": adapter is for a [" + adapter.numEmbeddings()
                    + ", " + adapter.embeddingDim() + "] table but the embedding is [" + num + ", " + dim + "]");
        }
        Tensor out = Tensor.allocate(arena, e.dtype(), num, dim);
        double[] delta = new double[dim];
        for (int n = 0; n < num; n++) {
            LoraDelta.embeddingRow(adapter, n, delta);
            long srcRow = e.offset() + n * e.stride(0);
            long dstRow = out.offset() + n * out.stride(0);
            for (int d = 0; d < dim; d++) {
                double base = Tensor.read(e.data(), e.dtype(), srcRow + d * e.stride(1));
                SingleRounding.store(out.data(), out.dtype(), dstRow + d, base + delta[d]);
            }
        }
        return out;
    }

    private static Tensor apply(Tensor w, boolean storedTransposed, LoraLinear adapter, int sign, Arena arena) {
        int out = w.dim(0);
        int in = w.dim(1);
        if (adapter.outFeatures() != out || adapter.inFeatures() != in) {
            throw new IllegalArgumentException(adapter.modulePath() + ": adapter is " + adapter.inFeatures() + " -> "
                    + adapter.outFeatures() + " but the weight is " + in + " -> " + out);
        }
        Tensor stored = storedTransposed ? Tensor.allocate(arena, w.dtype(), in, out)
                : Tensor.allocate(arena, w.dtype(), out, in);
        Tensor view = storedTransposed ? stored.t() : stored;  // [out, in] either way
        double[] delta = new double[in];
        MemorySegment src = w.data();
        MemorySegment dst = view.data();
        for (int o = 0; o < out; o++) {
            LoraDelta.row(adapter, o, delta);
            long srcRow = w.offset() + o * w.stride(0);
            long dstRow = view.offset() + o * view.stride(0);
            for (int i = 0; i < in; i++) {
                double base = Tensor.read(src, w.dtype(), srcRow + i * w.stride(1));
                SingleRounding.store(dst, view.dtype(), dstRow + i * view.stride(1), base + sign * delta[i]);
            }
        }
        return stored;
    }
}
