package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Softmax cross-entropy over a vocabulary, fused with its gradient so the probabilities are
 * never stored separately.
 *
 * <p>Per row with target t: loss = lse(x) − x_t where lse(x) = m + log Σ exp(x − m), m = max x
 * (the shift keeps exponents ≤ 0). Gradient: dlogits = gradScale·(softmax(x) − onehot(t)).
 * Rows whose target is {@link #IGNORE_INDEX} (−100, as in PyTorch) add no loss and get a zero
 * gradient. Pass gradScale = 1/(number of counted rows) for a mean loss.
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    public static final int IGNORE_INDEX = -100;

    /**
     * Returns the loss summed (in double) over non-ignored rows. {@code dlogitsOrNull} ([R, V] F32)
     * is overwritten; it may be {@code logits} itself (each row is fully read before written).
     */
    public static double forwardBackward(Tensor logits, int[] targets, Tensor dlogitsOrNull, float gradScale) {
        Rows xr = Rows.of(logits, "cross-entropy: logits");
        Rows dr = dlogitsOrNull == null ? null : Rows.of(dlogitsOrNull, "cross-entropy: dlogits");
        if (dr != null) {
            xr.requireSameShape(dr, "logits", "dlogits");
        }
        int rows = xr.rows();
        int v = xr.cols();
        checkTargets(targets, rows, v);
        double[] loss = new double[rows];
        Rows.forEachRow(rows, v, r -> {
            int t = targets[r];
            MemorySegment xs = xr.seg();
            long xa = xr.row(r);
            if (t == IGNORE_INDEX) {
                if (dr != null) {
                    zero(dr.seg(), dr.row(r), v);
                }
                return;
            }
            float max = Vec.max(xs, xa, v);
            float target = Vec.get(xs, xa, t);
            if (dr == null) {
                float sum = sumExp(xs, xa, v, max);
                loss[r] = max + Math.log(sum) - target;
                return;
            }
            // write exp(x − m) into dlogits, then scale to gradScale·p and subtract at the target
            float sum = Vec.expShift(xs, xa, dr.seg(), dr.row(r), v, max);
            loss[r] = max + Math.log(sum) - target;
            Vec.scale(dr.seg(), dr.row(r), v, gradScale / sum);
            Vec.set(dr.seg(), dr.row(r), t, Vec.get(dr.seg(), dr.row(r), t) - gradScale);
        });
        double total = 0;
        for (double l : loss) {
            total += l;
        }
        return total;
    }

    private static float sumExp(MemorySegment xs, long xa, int v, float max) {
        // exp into a scratch row so the logits stay untouched
        float[] scratch = ThreadScratch.floats(ThreadScratch.Slot.SOFTMAX_ROW, v);
        MemorySegment.copy(xs, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, xa, scratch, 0, v);
        return Vec.expShiftInPlace(scratch, 0, v, max);
    }

    private static void zero(MemorySegment s, long at, int n) {
        s.asSlice(at, (long) n * Float.BYTES).fill((byte) 0);
    }

    static void checkTargets(int[] targets, int rows, int v) {
        if (targets == null || targets.length < rows) {
            throw new IllegalArgumentException("cross-entropy: need one target per row (" + rows + "), got "
                    + (targets == null ? "null" : targets.length));
        }
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t != IGNORE_INDEX && (t < 0 || t >= v)) {
                throw new IllegalArgumentException("cross-entropy: target " + t + " of row " + r
                        + " is outside the vocabulary [0, " + v + ") and is not the ignore index " + IGNORE_INDEX);
            }
        }
    }
}
