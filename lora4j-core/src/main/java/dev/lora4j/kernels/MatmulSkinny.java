package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C[m,n] (+)= A[m,k] · B[k,n] for a handful of rows m (decoding: one token per sequence). Such a
 * product is bound by reading B (the weight) from memory, so B is read exactly once, straight from
 * its storage, and each value read is used for all m rows; packing would only add a second pass.
 *
 * <p>Two layouts of B are streamed with unit stride:
 * <ul>
 *   <li>columns contiguous (B = Wᵀ of a row-major weight W[N,K]): each output is a dot product of
 *       an A row with a column of B ({@link #dots});</li>
 *   <li>rows contiguous (a weight stored [in, out]): each A value scales a row of B that is added
 *       into the output rows ({@link #axpys}).</li>
 * </ul>
 * Columns are split evenly over the pool's threads. Sums run in a fixed order (vector lanes are
 * combined by a scalar loop, not {@code reduceLanes}, whose order is unspecified), so results are
 * deterministic, and each element's order is the same for any number of rows m: inference steps
 * run every decoded row through this kernel, a batch of them as well as a single one
 * ({@link Matmul#rowsBy}).
 */
final class MatmulSkinny {
    static final int MAX_ROWS = 4;
    /** Work below which a product is not split further: about ten microseconds of one core's arithmetic. */
    static final long MIN_FLOPS_PER_THREAD = 1L << 19;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private MatmulSkinny() {}

    static boolean handles(GemmOperand a, GemmOperand b) {
        return a.rows() <= MAX_ROWS && streams(b);
    }

    /** Whether B can be streamed with unit stride (rows or columns contiguous), whatever the rows of A. */
    static boolean streams(GemmOperand b) {
        return b.rowStride() == 1 || b.colStride() == 1;
    }

    static void run(GemmOperand a, GemmOperand b, GemmOperand c, boolean accumulate, int poolThreads) {
        int m = a.rows();
        int k = a.cols();
        int n = b.cols();
        if (m == 0 || n == 0) {
            return;
        }
        float[] aRows = ThreadScratch.floats(ThreadScratch.Slot.SKINNY_A, m * k);   // a decode step calls this hundreds of times
        short[] scratch = new short[k];
        for (int i = 0; i < m; i++) {
            GemmRuns.readRow(a, i, 0, k, aRows, i * k, scratch);
        }
        // A thread per column range, but only as many as the work pays for: handing a share to a
        // helper costs microseconds, more than a small model's whole product.
        long flops = 2L * m * n * k;
        int threads = (int) Math.min(Math.min(poolThreads, Math.max(1, n / L)), Math.max(1, flops / MIN_FLOPS_PER_THREAD));
        boolean columnsContiguous = b.rowStride() == 1 && (b.colStride() != 1 || n == 1);
        Parallel.forEach(threads, t -> {
            // Column ranges are multiples of L so that the axpy form keeps aligned full vectors.
            int from = Math.min(n, Gemm.roundUp(n * t / threads, L));
            int to = t == threads - 1 ? n : Math.min(n, Gemm.roundUp(n * (t + 1) / threads, L));
            if (from < to) {
                if (columnsContiguous) {
                    dots(aRows, m, k, b, c, from, to, accumulate);
                } else {
                    axpys(aRows, m, k, b, c, from, to, accumulate);
                }
            }
        });
    }

    /**
     * c[i][j] (+)= dot(A row i, B column j) for j in [from, to), all rows i.
     *
     * <p>Register tile: two columns of B by up to four rows of A, one vector accumulator each, so
     * each pair of loaded column vectors feeds up to eight FMA chains (enough to cover the FMA
     * latency) and a batch of decoded rows costs little more than one row: B is read once.
     *
     * <p>Every element is summed in one fixed order, whatever m, the tile it falls in or the column
     * split: one vector of lane sums over k (FMA, p in order), the lanes added in order, then the
     * tail p ≥ loopBound(k) by scalar FMA. So a row's result does not depend on the other rows of
     * the product, which the server needs: a request decoded in a batch of 32 gives the same bits as
     * alone ({@link Matmul#rowsBy}).
     */
    private static void dots(float[] aRows, int m, int k, GemmOperand b, GemmOperand c, int from, int to, boolean accumulate) {
        // A block of B's columns is read into L1 (8·k floats), and every quad of A rows (4·k floats)
        // passes over the whole block while it stays in L1: A then comes from L2 once per block of
        // eight columns rather than once per column pair, which bounded a 32-row product before.
        float[] cols = ThreadScratch.floats(ThreadScratch.Slot.SKINNY_COLUMNS, COLUMN_BLOCK * k);
        short[] scratch = new short[k];
        float[] lanes = ThreadScratch.floats(ThreadScratch.Slot.SKINNY_LANES, L);
        int kv = F.loopBound(k);
        for (int j0 = from; j0 < to; j0 += COLUMN_BLOCK) {
            int nb = Math.min(COLUMN_BLOCK, to - j0);
            for (int q = 0; q < nb; q++) {
                GemmRuns.readColumn(b, 0, j0 + q, k, cols, q * k, scratch);
            }
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                int q = 0;
                for (; q + 2 <= nb; q += 2) {
                    tile4x2(aRows, i * k, k, kv, cols, q * k, lanes, c, i, j0 + q, accumulate);
                }
                for (; q < nb; q++) {
                    for (int r = i; r < i + 4; r++) {
                        tile1x1(aRows, r * k, k, kv, cols, q * k, lanes, c, r, j0 + q, accumulate);
                    }
                }
            }
            for (; i < m; i++) {
                int q = 0;
                for (; q + 2 <= nb; q += 2) {
                    tile1x2(aRows, i * k, k, kv, cols, q * k, lanes, c, i, j0 + q, accumulate);
                }
                for (; q < nb; q++) {
                    tile1x1(aRows, i * k, k, kv, cols, q * k, lanes, c, i, j0 + q, accumulate);
                }
            }
        }
    }

    /** Columns of B read per block in {@link #dots}. */
    private static final int COLUMN_BLOCK = 8;

    /** Rows i..i+3 (A rows at {@code a0}, k apart) times columns j, j+1 (at {@code b0}, k apart in {@code cols}). */
    private static void tile4x2(float[] aRows, int a0, int k, int kv, float[] cols, int b0, float[] lanes,
                                GemmOperand c, int i, int j, boolean accumulate) {
        int a1 = a0 + k, a2 = a1 + k, a3 = a2 + k, b1 = b0 + k;
        FloatVector s00 = FloatVector.zero(F), s01 = FloatVector.zero(F);
        FloatVector s10 = FloatVector.zero(F), s11 = FloatVector.zero(F);
        FloatVector s20 = FloatVector.zero(F), s21 = FloatVector.zero(F);
        FloatVector s30 = FloatVector.zero(F), s31 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            FloatVector w0 = FloatVector.fromArray(F, cols, b0 + p);
            FloatVector w1 = FloatVector.fromArray(F, cols, b1 + p);
            FloatVector av = FloatVector.fromArray(F, aRows, a0 + p);
            s00 = av.fma(w0, s00);
            s01 = av.fma(w1, s01);
            av = FloatVector.fromArray(F, aRows, a1 + p);
            s10 = av.fma(w0, s10);
            s11 = av.fma(w1, s11);
            av = FloatVector.fromArray(F, aRows, a2 + p);
            s20 = av.fma(w0, s20);
            s21 = av.fma(w1, s21);
            av = FloatVector.fromArray(F, aRows, a3 + p);
            s30 = av.fma(w0, s30);
            s31 = av.fma(w1, s31);
        }
        // Lane sums leave the vectors right here: a vector passed to a helper the JIT does not
        // inline is boxed (see the design notes), so the helper takes the lanes as a float[].
        s00.intoArray(lanes, 0);
        store(c, i, j, finish(lanes, aRows, a0, cols, b0, kv, k), accumulate);
        s01.intoArray(lanes, 0);
        store(c, i, j + 1, finish(lanes, aRows, a0, cols, b1, kv, k), accumulate);
        s10.intoArray(lanes, 0);
        store(c, i + 1, j, finish(lanes, aRows, a1, cols, b0, kv, k), accumulate);
        s11.intoArray(lanes, 0);
        store(c, i + 1, j + 1, finish(lanes, aRows, a1, cols, b1, kv, k), accumulate);
        s20.intoArray(lanes, 0);
        store(c, i + 2, j, finish(lanes, aRows, a2, cols, b0, kv, k), accumulate);
        s21.intoArray(lanes, 0);
        store(c, i + 2, j + 1, finish(lanes, aRows, a2, cols, b1, kv, k), accumulate);
        s30.intoArray(lanes, 0);
        store(c, i + 3, j, finish(lanes, aRows, a3, cols, b0, kv, k), accumulate);
        s31.intoArray(lanes, 0);
        store(c, i + 3, j + 1, finish(lanes, aRows, a3, cols, b1, kv, k), accumulate);
    }

    private static void tile1x2(float[] aRows, int a0, int k, int kv, float[] cols, int b0, float[] lanes,
                                GemmOperand c, int i, int j, boolean accumulate) {
        int b1 = b0 + k;
        FloatVector s00 = FloatVector.zero(F), s01 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            FloatVector av = FloatVector.fromArray(F, aRows, a0 + p);
            s00 = av.fma(FloatVector.fromArray(F, cols, b0 + p), s00);
            s01 = av.fma(FloatVector.fromArray(F, cols, b1 + p), s01);
        }
        s00.intoArray(lanes, 0);
        store(c, i, j, finish(lanes, aRows, a0, cols, b0, kv, k), accumulate);
        s01.intoArray(lanes, 0);
        store(c, i, j + 1, finish(lanes, aRows, a0, cols, b1, kv, k), accumulate);
    }

    private static void tile1x1(float[] aRows, int a0, int k, int kv, float[] cols, int b0, float[] lanes,
                                GemmOperand c, int i, int j, boolean accumulate) {
        FloatVector s00 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            s00 = FloatVector.fromArray(F, aRows, a0 + p).fma(FloatVector.fromArray(F, cols, b0 + p), s00);
        }
        s00.intoArray(lanes, 0);
        store(c, i, j, finish(lanes, aRows, a0, cols, b0, kv, k), accumulate);
    }

    /** The lanes added in order, then the tail of the reduction [kv, k) by scalar FMA. */
    private static float finish(float[] lanes, float[] aRows, int aAt, float[] cols, int bAt, int kv, int k) {
        float sum = 0f;
        for (int l = 0; l < L; l++) {
            sum += lanes[l];
        }
        for (int p = kv; p < k; p++) {
            sum = Math.fma(aRows[aAt + p], cols[bAt + p], sum);
        }
        return sum;
    }

    /** c[i][from:to] (+)= Σ_p A[i][p] · B[p][from:to]. */
    private static void axpys(float[] aRows, int m, int k, GemmOperand b, GemmOperand c, int from, int to, boolean accumulate) {
        int width = to - from;
        float[] row = ThreadScratch.floats(ThreadScratch.Slot.SKINNY_ROW, width);
        short[] scratch = new short[width];
        float[] acc = ThreadScratch.floats(ThreadScratch.Slot.SKINNY_ACC, m * width);
        java.util.Arrays.fill(acc, 0, m * width, 0f);
        int wv = F.loopBound(width);
        for (int p = 0; p < k; p++) {
            GemmRuns.readRow(b, p, from, width, row, 0, scratch);
            for (int i = 0; i < m; i++) {
                float s = aRows[i * k + p];
                FloatVector sv = FloatVector.broadcast(F, s);
                int base = i * width;
                int j = 0;
                for (; j < wv; j += L) {
                    sv.fma(FloatVector.fromArray(F, row, j), FloatVector.fromArray(F, acc, base + j)).intoArray(acc, base + j);
                }
                for (; j < width; j++) {
                    acc[base + j] = Math.fma(s, row[j], acc[base + j]);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < width; j++) {
                store(c, i, from + j, acc[i * width + j], accumulate);
            }
        }
    }

    private static void store(GemmOperand c, int i, int j, float v, boolean accumulate) {
        MemorySegment seg = c.data();
        long idx = c.index(i, j);
        seg.setAtIndex(F32, idx, accumulate ? seg.getAtIndex(F32, idx) + v : v);
    }
}
