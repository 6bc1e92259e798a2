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

    /**
     * Packs A[i0:i0+mc, p0:p0+kc] into {@code dst} from {@code dstOff} on (roundUp(mc, MR) * kc
     * floats); {@code dstOff} is a multiple of MR * kc, so the micro-panels of several calls line up.
     */
    static void packA(GemmOperand a, int i0, int mc, int p0, int kc, float[] dst, int dstOff, Scratch s) {
        final int mr = MicroKernel.MR;
        int tail = mc % mr;
        if (tail != 0) {  // rows of the last micro-panel beyond mc stay zero
            Arrays.fill(dst, dstOff + (mc - tail) * kc, dstOff + (mc - tail + mr) * kc, 0f);
        }
        float[] run = s.run;
        if (a.rowStride() == 1 && a.colStride() != 1) {
            // A is a transposed view (dyᵀ in backwardWeight): the mc values of one reduction step
            // are adjacent in storage. Read them in one run and deal them out to the micro-panels.
            for (int p = 0; p < kc; p++) {
                GemmRuns.readColumn(a, i0, p0 + p, mc, run, 0, s.shorts);
                for (int r0 = 0; r0 < mc; r0 += mr) {
                    int rows = Math.min(mr, mc - r0);
                    int at = dstOff + r0 * kc + p * mr;
                    for (int r = 0; r < rows; r++) {
                        dst[at + r] = run[r0 + r];
                    }
                }
            }
            return;
        }
        // Row-major A (x, dy): read each row along the reduction axis, scatter it with stride MR.
        for (int i = 0; i < mc; i++) {
            GemmRuns.readRow(a, i0 + i, p0, kc, run, 0, s.shorts);
            int at = dstOff + (i / mr) * mr * kc + i % mr;
            for (int p = 0; p < kc; p++) {
                dst[at + p * mr] = run[p];
            }
        }
    }

    /**
     * Packs micro-panels [panelFrom, panelTo) of B[p0:p0+kc, j0:j0+nc] into {@code dst}
     * (panel q starts at q * NR * kc).
     */
    static void packB(GemmOperand b, int p0, int kc, int j0, int nc, int panelFrom, int panelTo, float[] dst, Scratch s) {
        final int nr = MicroKernel.NR;
        int colFrom = panelFrom * nr;
        int colTo = Math.min(nc, panelTo * nr);
        if (colFrom >= colTo) {
            return;
        }
        int tail = colTo % nr;
        if (tail != 0) {  // columns of the last micro-panel beyond nc stay zero
            Arrays.fill(dst, (colTo - tail) * kc, (colTo - tail + nr) * kc, 0f);
        }
        float[] run = s.run;
        if (b.rowStride() == 1 && b.colStride() != 1) {
            // B = Wᵀ of a row-major weight (forward): each column of B is contiguous in storage.
            // Read it along the reduction axis and scatter it with stride NR.
            for (int j = colFrom; j < colTo; j++) {
                GemmRuns.readColumn(b, p0, j0 + j, kc, run, 0, s.shorts);
                int at = (j / nr) * nr * kc + j % nr;
                for (int p = 0; p < kc; p++) {
                    dst[at + p * nr] = run[p];
                }
            }
            return;
        }
        // Row-major B (W in backwardInput, x in backwardWeight): one run per reduction step,
        // copied in NR-wide pieces into consecutive micro-panels.
        int width = colTo - colFrom;
        for (int p = 0; p < kc; p++) {
            GemmRuns.readRow(b, p0 + p, j0 + colFrom, width, run, 0, s.shorts);
            for (int c0 = 0; c0 < width; c0 += nr) {
                int cols = Math.min(nr, width - c0);
                System.arraycopy(run, c0, dst, (colFrom + c0) * kc + p * nr, cols);
            }
        }
    }

    /** Per-thread scratch for one run of up to {@code maxRun} elements (KC, MC or NC). */
    static final class Scratch {
        final float[] run;
        final short[] shorts;

        Scratch(int maxRun) {
            run = new float[maxRun];
            shorts = new short[maxRun];
        }
    }
}
