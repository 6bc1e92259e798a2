package dev.lora4j.nn;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Token (or learned position) embedding: row {@code ids[r]} of a frozen table [num, dim], widened to
 * F32. The table stays in its stored dtype; nothing is copied but the looked-up rows. A trainable
 * {@link EmbeddingAdapter} (LoRA) may add to the lookup; then the layer keeps the ids for backward.
 */
public final class Embedding {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final String name;
    private final Tensor table;
    private final int paddingIdx;
    private Tensor output;
    private EmbeddingAdapter adapter;
    private int[] savedIds;

    public Embedding(String name, Tensor table) {
        this(name, table, null);
    }

    /**
     * @param paddingIdxOrNull PyTorch's {@code padding_idx}: the row that gets no gradient (negative
     *                         counts from the end, as in PyTorch); it does not change the lookup. One
     *                         outside the table is ignored.
     */
    public Embedding(String name, Tensor table, Integer paddingIdxOrNull) {
        if (table.rank() != 2) {
            throw new IllegalArgumentException(name + ": embedding table must be a matrix, got " + table);
        }
        this.name = name;
        this.table = table;
        int p = paddingIdxOrNull == null ? -1 : paddingIdxOrNull < 0 ? paddingIdxOrNull + table.dim(0) : paddingIdxOrNull;
        this.paddingIdx = p >= 0 && p < table.dim(0) ? p : -1;
    }

    public String name() {
        return name;
    }

    public Tensor table() {
        return table;
    }

    /** The row that gets no gradient (PyTorch's padding_idx), or -1 for none. */
    public int paddingIdx() {
        return paddingIdx;
    }

    public int numEmbeddings() {
        return table.dim(0);
    }

    public int dim() {
        return table.dim(1);
    }

    public EmbeddingAdapter adapter() {
        return adapter;
    }

    /** Attaches (or with null, removes) the trainable branch added to this layer's lookups. */
    public void setAdapter(EmbeddingAdapter adapterOrNull) {
        this.adapter = adapterOrNull;
        this.savedIds = null;
    }

    /** out [ids.length, dim] = table[ids], in this layer's output buffer. */
    public Tensor forward(int[] ids) {
        output = Buffers.reuse(output, ids.length, dim());
        forward(ids, output, false);
        return output;
    }

    /** out[r] (+)= table[ids[r]] (+ adapter); an id outside the table is an error naming the row and the id. */
    public void forward(int[] ids, Tensor out, boolean accumulate) {
        if (out.rank() != 2 || out.dim(0) != ids.length || out.dim(1) != dim() || out.dtype() != DType.F32
                || out.stride(1) != 1) {
            throw new IllegalArgumentException(name + ": output must be F32 [" + ids.length + ", " + dim()
                    + "] with unit column stride, got " + out);
        }
        int d = dim();
        MemorySegment dst = out.data();
        MemorySegment src = table.data();
        DType dtype = table.dtype();
        long colStride = table.stride(1);
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= numEmbeddings()) {
                throw new IllegalArgumentException(name + ": id " + id + " at row " + r + " is outside [0, "
                        + numEmbeddings() + ")");
            }
            long from = table.offset() + id * table.stride(0);
            long to = out.offset() + r * out.stride(0);
            if (!accumulate && dtype == DType.F32 && colStride == 1) {
                MemorySegment.copy(src, from * Float.BYTES, dst, to * Float.BYTES, (long) d * Float.BYTES);
                continue;
            }
            for (int c = 0; c < d; c++) {
                float v = Tensor.read(src, dtype, from + c * colStride);
                long at = to + c;
                dst.setAtIndex(F32, at, accumulate ? dst.getAtIndex(F32, at) + v : v);
            }
        }
        if (adapter != null) {
            adapter.forward(ids, out);
            savedIds = ids.clone();
        }
    }

    /**
     * Hands the gradient of the last lookup's output to the adapter, if any. The table is frozen and
     * ids have no gradient, so without an adapter this does nothing.
     */
    public void backward(Tensor dOut) {
        if (adapter == null) {
            return;
        }
        if (savedIds == null || savedIds.length != dOut.dim(0)) {
            throw new IllegalStateException(name + ": backward needs a forward with the adapter attached first");
        }
        adapter.backward(savedIds, dOut);
    }
}
