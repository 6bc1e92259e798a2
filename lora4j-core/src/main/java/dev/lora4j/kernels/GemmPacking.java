package dev.lora4j.kernels;

import java.util.Arrays;

/**
 * Copies blocks of the operands into the "panel" order the micro-kernel streams through.
 *
 * <p>A block of A (rows [i0, i0+mc), reduction [p0, p0+kc)) becomes ceil(mc/MR) micro-panels; in
 * each, the MR values of one reduction step p are adjacent: {@code panel[p*MR + r] = A[i0+r][p0+p]}.
 * A block of B (reduction [p0, p0+kc), columns [j0, j0+nc)) becomes ceil(nc/NR) micro-panels with
 * {@code panel[p*NR + c] = B[p0+p][j0+c]}. The micro-kernel then reads both with unit stride, one
 * broadcast per A value and one vector load per L values of B. Edges are padded with zeros so the
 * kernel always runs full MR x NR tiles (padding adds exact zeros, so it does not change results).
 *
 * <p>Packing is also where strides and dtypes disappear: each operand is read along whichever of
 * its axes is contiguous in storage (a weight W[N,K] used as B = Wᵀ is read along K and scattered
 * across the panel; a row-major B is copied panel row by panel row), widening BF16/F16 on the way.
 */
final class GemmPacking {
    private GemmPacking() {}

    /** Packs A[i0:i0+mc, p0:p0+kc] into {@code dst} (length >= roundUp(mc, MR) * kc). */
    static void packA(GemmOperand a, int i0, int mc, int p0, int kc, float[] dst, Scratch s) {
        final int mr = MicroKernel.MR;
        for (int r0 = 0; r0 < mc; r0 += mr) {
            int rows = Math.min(mr, mc - r0);
            int base = (r0 / mr) * mr * kc;
            if (rows < mr) {
                Arrays.fill(dst, base, base + mr * kc, 0f);
            }
            if (a.colStride() == 1 || a.rowStride() != 1) {
                // Read each row along the reduction axis, scatter it with stride MR.
                for (int r = 0; r < rows; r++) {
                    GemmRuns.readRow(a, i0 + r0 + r, p0, kc, s.run, 0, s.shorts);
                    float[] run = s.run;
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * mr + r] = run[p];
                    }
                }
            } else {
                // Rows are adjacent in storage (A is a transposed view): one short run per step p.
                for (int p = 0; p < kc; p++) {
                    GemmRuns.readColumn(a, i0 + r0, p0 + p, rows, dst, base + p * mr, s.shorts);
                }
            }
        }
    }

    /**
     * Packs micro-panels [panelFrom, panelTo) of B[p0:p0+kc, j0:j0+nc] into {@code dst}
     * (panel q starts at q * NR * kc).
     */
    static void packB(GemmOperand b, int p0, int kc, int j0, int nc, int panelFrom, int panelTo, float[] dst, Scratch s) {
        final int nr = MicroKernel.NR;
        for (int q = panelFrom; q < panelTo; q++) {
            int c0 = q * nr;
            int cols = Math.min(nr, nc - c0);
            int base = q * nr * kc;
            if (cols < nr) {
                Arrays.fill(dst, base, base + nr * kc, 0f);
            }
            if (b.rowStride() == 1 && b.colStride() != 1) {
                // B = Wᵀ of a row-major weight: each column of B is contiguous; scatter with stride NR.
                for (int c = 0; c < cols; c++) {
                    GemmRuns.readColumn(b, p0, j0 + c0 + c, kc, s.run, 0, s.shorts);
                    float[] run = s.run;
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * nr + c] = run[p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    GemmRuns.readRow(b, p0 + p, j0 + c0, cols, dst, base + p * nr, s.shorts);
                }
            }
        }
    }

    /** Per-thread scratch for one run of up to KC (or NR) elements. */
    static final class Scratch {
        final float[] run;
        final short[] shorts;

        Scratch(int maxRun) {
            run = new float[maxRun];
            shorts = new short[maxRun];
        }
    }
}
