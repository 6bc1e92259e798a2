package dev.lora4j.kernels;

/**
 * Scratch arrays owned by the thread running a kernel's chunk, kept from call to call.
 *
 * <p>A training step calls the kernels several hundred times; allocating their temporaries per
 * call (attention's per-head copies, softmax rows) produced gigabytes of garbage per step, and with
 * a heap sized to the activations the collector then ran a full collection every few calls. Each
 * use site takes its own {@link Slot}, so a kernel may hold several at once; the contents are
 * whatever the last user left (callers clear what they accumulate into).
 */
final class ThreadScratch {
    enum Slot {
        ATTENTION_KT, ATTENTION_VT, ATTENTION_K, ATTENTION_V, ATTENTION_Q, ATTENTION_G, ATTENTION_O,
        ATTENTION_P, ATTENTION_DS, ATTENTION_DK, ATTENTION_DV, ATTENTION_ROW, ATTENTION_D,
        SOFTMAX_ROW, LANES, LANE_SUMS,
        // exp/erfc arguments and results (VecMath, Erf, Activations, Vec.expShift)
        EXP_ROW, ACT_A, ACT_B, ERF_T, ERF_EXP1, ERF_EXP2,
        // the streaming product: A's rows (caller), a block of B's columns and lane sums (each chunk)
        SKINNY_A, SKINNY_COLUMNS, SKINNY_LANES, SKINNY_ROW, SKINNY_ACC
    }

    private static final ThreadLocal<float[][]> ARRAYS =
            ThreadLocal.withInitial(() -> new float[Slot.values().length][0]);

    private ThreadScratch() {}

    /** This thread's array for {@code slot}, at least {@code n} long (contents unspecified). */
    static float[] floats(Slot slot, int n) {
        float[][] arrays = ARRAYS.get();
        float[] a = arrays[slot.ordinal()];
        if (a.length < n) {
            a = new float[n];
            arrays[slot.ordinal()] = a;
        }
        return a;
    }
}
