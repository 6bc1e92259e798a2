package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.kernels.MatmulTest.Layout;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The GEMM's summation order, bit for bit.
 *
 * <p>Every element of C must be: per slice of KC reduction steps, in order, {@code s = a·b} for the
 * first step then {@code s = fma(a, b, s)}; the slice sums added to C in slice order (the first one
 * stored unless accumulating). That order must not depend on M, on the row's position, on the
 * thread count or on how the work is split (a server batches rows of different requests into one
 * product and must give each the bits it would get alone). MatmulTest checks values within
 * rounding bounds against a double-precision twin; this checks the exact bits against a scalar
 * loop with that order, and row-by-row invariance across products.
 */
class GemmTest {
    private static final int[] THREADS = {1, 2, 3, 7, 16};

    /** The stated order as a plain loop: Math.fma is the same single-rounding operation as the vector fma. */
    static void exactOrder(Tensor a, Tensor b, Tensor c, boolean accumulate) {
        int m = a.dim(0);
        int k = a.dim(1);
        int n = b.dim(1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float total = accumulate ? c.get(i, j) : 0f;
                if (k == 0) {
                    c.set(total, i, j);
                    continue;
                }
                for (int p0 = 0; p0 < k; p0 += Gemm.KC) {
                    int p1 = Math.min(k, p0 + Gemm.KC);
                    float s = a.get(i, p0) * b.get(p0, j);
                    for (int p = p0 + 1; p < p1; p++) {
                        s = Math.fma(a.get(i, p), b.get(p, j), s);
                    }
                    total = (p0 == 0 && !accumulate) ? s : total + s;
                }
                c.set(total, i, j);
            }
        }
    }

    @Test
    void everyElementIsTheStatedChainOfFmasBitForBit() {
        Random rnd = new Random(21);
        // Shapes around the tile (MR, NR), the MC row block, several KC slices, rank-8 products.
        int[][] shapes = {
            {1, 1, 1}, {1, 70, 3}, {5, 33, 17}, {Gemm.MR + 1, Gemm.NR + 1, Gemm.KC + 1}, {37, 8, 96},
            {8, 150, 1100}, {Gemm.MC + 5, 45, 40}, {60, 2 * Gemm.NR - 1, 2 * Gemm.KC + 3}
        };
        int shape = 0;
        for (int[] s : shapes) {
            for (DType bType : new DType[] {DType.F32, DType.BF16}) {
                for (boolean acc : new boolean[] {false, true}) {
                    Layout la = Layout.values()[shape % 3];
                    Layout lb = Layout.values()[(shape / 3 + 1) % 3];
                    Layout lc = Layout.values()[(shape + 2) % 3];
                    Tensor a = MatmulTest.random(rnd, DType.F32, s[0], s[2], la);
                    Tensor b = MatmulTest.random(rnd, bType, s[2], s[1], lb);
                    long cSeed = rnd.nextLong();
                    Tensor want = MatmulTest.random(new Random(cSeed), DType.F32, s[0], s[1], lc);
                    exactOrder(a, b, want, acc);
                    for (int threads : THREADS) {
                        Tensor got = MatmulTest.random(new Random(cSeed), DType.F32, s[0], s[1], lc);
                        Gemm.run(GemmOperand.of(a), GemmOperand.of(b), GemmOperand.of(got), acc, threads);
                        assertThat(bits(got)).as("%dx%dx%d B=%s acc=%s layouts %s/%s/%s threads=%d",
                                s[0], s[1], s[2], bType, acc, la, lb, lc, threads).containsExactly(bits(want));
                    }
                    shape++;
                }
            }
        }
    }

    @Test
    void aRowHasTheSameBitsWhateverProductAndSplitItIsComputedIn() {
        Random rnd = new Random(22);
        int k = 2 * Gemm.KC + 77;  // three slices
        int n = 3 * Gemm.NR + 5;   // full and ragged column panels
        Tensor pool = MatmulTest.random(rnd, DType.F32, 300, k, Layout.CONTIGUOUS);
        Tensor w = MatmulTest.random(rnd, DType.BF16, n, k, Layout.CONTIGUOUS);  // forward: B = Wᵀ
        float[][] alone = new float[300][];
        for (int r = 0; r < 300; r++) {
            alone[r] = product(rowsOf(pool, new int[] {r}), w, 1)[0];
        }
        for (int m : new int[] {1, 5, 37, 300}) {
            // m distinct rows of the pool, in a scrambled order, so each lands at another position
            // (another place in its tile, another tile, another thread's share) than in the others.
            int[] pick = new int[m];
            for (int i = 0; i < m; i++) {
                pick[i] = (int) ((i * 7919L + m * 31L) % 300);
            }
            for (int threads : THREADS) {
                float[][] got = product(rowsOf(pool, pick), w, threads);
                for (int i = 0; i < m; i++) {
                    assertThat(bitsOf(got[i])).as("row %d of the pool at position %d of M=%d, threads=%d", pick[i], i, m, threads)
                            .containsExactly(bitsOf(alone[pick[i]]));
                }
            }
        }
    }

    @Test
    void theTaskGridKeepsEveryThreadBusyOnTrainingShapes() {
        // Shapes of the LoRA training step (4 x 256 tokens, hidden 512, MLP 1376, vocab 8192, rank 8)
        // as M x N: the busiest of 16 tasks gets at most ~10% more tiles than an even share.
        int[][] shapes = {{1024, 512}, {1024, 1376}, {1024, 8192}, {1024, 8}, {8, 512}, {512, 8}, {1376, 512}, {2048, 2048}};
        for (int[] s : shapes) {
            int pm = Gemm.ceilDiv(s[0], Gemm.MR);
            int pn = Gemm.ceilDiv(Math.min(s[1], Gemm.NC), Gemm.NR);
            int threads = 16;
            int tm = Gemm.gridRows(pm, pn, threads, Gemm.KC);
            int tn = Math.min(pn, threads / tm);
            long busiest = (long) Gemm.ceilDiv(pm, tm) * Gemm.ceilDiv(pn, tn);
            double even = (double) pm * pn / Math.min(threads, pm * pn);
            assertThat(tm * tn).as("tasks for %dx%d", s[0], s[1]).isEqualTo(Math.min(threads, pm * pn));
            assertThat(busiest).as("busiest task's tiles for %dx%d (grid %dx%d)", s[0], s[1], tm, tn)
                    .isLessThanOrEqualTo((long) Math.ceil(1.12 * even));
        }
    }

    @Test
    void theRowBlockTakesThreeEighthsOfL2() {
        // KC = 512 floats per row of packed A: 1 MiB of L2 (Zen 4/5) gives today's 192 rows, 2 MiB
        // (Sapphire Rapids) 384; never less than one micro-panel, always whole micro-panels.
        if (Gemm.KC == 512) {
            assertThat(Gemm.rowBlockFor(1L << 20)).isEqualTo(192);
            assertThat(Gemm.rowBlockFor(2L << 20)).isEqualTo(384);
        }
        assertThat(Gemm.rowBlockFor(1024)).isEqualTo(Gemm.MR);
        assertThat(Gemm.rowBlockFor(3L << 20) % Gemm.MR).isZero();
        assertThat(Gemm.MC % Gemm.MR).isZero();
    }

    /** The rows {@code pick} of {@code pool}, copied into a new contiguous matrix. */
    private static Tensor rowsOf(Tensor pool, int[] pick) {
        int k = pool.dim(1);
        Tensor t = Tensor.zeros(pick.length, k);
        for (int i = 0; i < pick.length; i++) {
            for (int p = 0; p < k; p++) {
                t.set(pool.get(pick[i], p), i, p);
            }
        }
        return t;
    }

    /** x · wᵀ through the GEMM (never the skinny path), as rows. */
    private static float[][] product(Tensor x, Tensor w, int threads) {
        Tensor y = Tensor.zeros(x.dim(0), w.dim(0));
        Gemm.run(GemmOperand.of(x), GemmOperand.of(w).transposed(), GemmOperand.of(y), false, threads);
        float[] flat = y.toFloatArray();
        float[][] rows = new float[x.dim(0)][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = java.util.Arrays.copyOfRange(flat, i * w.dim(0), (i + 1) * w.dim(0));
        }
        return rows;
    }

    private static int[] bits(Tensor t) {
        return bitsOf(t.toFloatArray());
    }

    private static int[] bitsOf(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
