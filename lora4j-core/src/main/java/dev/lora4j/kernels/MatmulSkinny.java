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
 * deterministic.
 */
final class MatmulSkinny {
    static final int MAX_ROWS = 4;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private MatmulSkinny() {}

    static boolean handles(GemmOperand a, GemmOperand b) {
        return a.rows() <= MAX_ROWS && (b.rowStride() == 1 || b.colStride() == 1);
    }

    static void run(GemmOperand a, GemmOperand b, GemmOperand c, boolean accumulate, int poolThreads) {
        int m = a.rows();
        int k = a.cols();
        int n = b.cols();
        if (m == 0 || n == 0) {
            return;
        }
        float[] aRows = new float[m * k];
        short[] scratch = new short[k];
        for (int i = 0; i < m; i++) {
            GemmRuns.readRow(a, i, 0, k, aRows, i * k, scratch);
        }
        int threads = Math.min(poolThreads, Math.max(1, n / L));
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

    /** c[i][j] (+)= dot(A row i, B column j) for j in [from, to). */
    private static void dots(float[] aRows, int m, int k, GemmOperand b, GemmOperand c, int from, int to, boolean accumulate) {
        float[] column = new float[k];
        short[] scratch = new short[k];
        float[] lanes = new float[L];
        int kv = F.loopBound(k);
        for (int j = from; j < to; j++) {
            GemmRuns.readColumn(b, 0, j, k, column, 0, scratch);
            for (int i = 0; i < m; i++) {
                int ai = i * k;
                // Two accumulators halve the FMA latency chain; they are combined in a fixed order.
                FloatVector s0 = FloatVector.zero(F);
                FloatVector s1 = FloatVector.zero(F);
                int p = 0;
                for (; p + 2 * L <= kv; p += 2 * L) {
                    s0 = FloatVector.fromArray(F, aRows, ai + p).fma(FloatVector.fromArray(F, column, p), s0);
                    s1 = FloatVector.fromArray(F, aRows, ai + p + L).fma(FloatVector.fromArray(F, column, p + L), s1);
                }
                for (; p < kv; p += L) {
                    s0 = FloatVector.fromArray(F, aRows, ai + p).fma(FloatVector.fromArray(F, column, p), s0);
                }
                s0.add(s1).intoArray(lanes, 0);
                float sum = 0f;
                for (int l = 0; l < L; l++) {
                    sum += lanes[l];
                }
                for (; p < k; p++) {
                    sum = Math.fma(aRows[ai + p], column[p], sum);
                }
                store(c, i, j, sum, accumulate);
            }
        }
    }

    /** c[i][from:to] (+)= Σ_p A[i][p] · B[p][from:to]. */
    private static void axpys(float[] aRows, int m, int k, GemmOperand b, GemmOperand c, int from, int to, boolean accumulate) {
        int width = to - from;
        float[] row = new float[width];
        short[] scratch = new short[width];
        float[] acc = new float[m * width];
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
