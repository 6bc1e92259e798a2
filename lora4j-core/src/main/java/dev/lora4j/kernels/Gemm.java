package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The blocked, packed, multithreaded product C[m,n] (+)= A[m,k] · B[k,n] on strided views.
 *
 * <p>Blocking (the classic Goto/BLIS loop nest), chosen for a core with 32 KiB L1d and 1 MiB L2:
 * <ul>
 *   <li>the reduction is cut into slices of KC = 512 steps: one B micro-panel (KC x NR floats =
 *       64 KiB with NR = 32) and the A micro-panel being streamed stay in L2 while a tile
 *       accumulates, and each C tile is read and written once per slice. 512 rather than the
 *       L1-sized 256 because C traffic, not B, limited two threads: on a quiet machine it raised
 *       the two-thread medians from 72-90% to 80-99% of OpenBLAS;</li>
 *   <li>B[pc slice, NC columns] is packed once (by all threads together) into a panel that stays in
 *       L2/L3 while every row block of A passes over it;</li>
 *   <li>A is packed in row blocks of MC rows (MC x KC floats, 384 KiB) per thread: the block stays in
 *       that core's L2 while the thread sweeps all B micro-panels across it;</li>
 *   <li>the innermost two loops walk B micro-panels (outer) and A micro-panels (inner) and hand
 *       each MR x NR tile to {@link MicroKernel}.</li>
 * </ul>
 * Work is split into exactly as many tasks as threads (normally {@link Parallel#threads()}): by
 * rows when there are enough row tiles, otherwise by column panels (skinny products such as LoRA's rank-8 factors). Every element of
 * C is summed by one task, in the same order whatever the split, so results are deterministic (they
 * do not even depend on the thread count). The sizes can be overridden with the system properties
 * lora4j.gemm.kc/mc/nc for tuning.
 */
final class Gemm {
    static final int MR = MicroKernel.MR;
    static final int NR = MicroKernel.NR;
    static final int KC = Math.max(1, Integer.getInteger("lora4j.gemm.kc", 512));
    static final int MC = roundUp(Math.max(1, Integer.getInteger("lora4j.gemm.mc", 192)), MR);
    static final int NC = roundUp(Math.max(1, Integer.getInteger("lora4j.gemm.nc", 4096)), NR);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Gemm() {}

    /** C (+)= A · B in {@code threads} tasks; C must be F32 (any strides), A and B any dtype and strides. */
    static void run(GemmOperand a, GemmOperand b, GemmOperand c, boolean accumulate, int threads) {
        int m = a.rows();
        int k = a.cols();
        int n = b.cols();
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                zero(c);
            }
            return;
        }
        boolean splitRows = ceilDiv(m, MR) >= 2 * threads;
        int kcMax = Math.min(KC, k);
        int bCols = Math.min(NC, roundUp(n, NR));
        int aRows = roundUp(Math.min(MC, m), MR);
        Workspace ws = WORKSPACE.get().fit(threads, bCols * kcMax, aRows * kcMax, Math.max(kcMax, Math.max(aRows, bCols)));
        float[] bPack = ws.bPack;
        Worker[] workers = ws.workers;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int panels = ceilDiv(nc, NR);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean add = accumulate || pc > 0;
                int j0 = jc;
                int p0 = pc;
                Parallel.forEach(threads, t -> GemmPacking.packB(
                        b, p0, kc, j0, nc, panels * t / threads, panels * (t + 1) / threads, bPack, workers[t].scratch));
                Parallel.forEach(threads, t -> {
                    int rowFrom = 0;
                    int rowTo = m;
                    int panelFrom = 0;
                    int panelTo = panels;
                    if (splitRows) {
                        int tiles = ceilDiv(m, MR);
                        rowFrom = Math.min(m, tiles * t / threads * MR);
                        rowTo = Math.min(m, tiles * (t + 1) / threads * MR);
                    } else {
                        panelFrom = panels * t / threads;
                        panelTo = panels * (t + 1) / threads;
                    }
                    workers[t].compute(a, c, bPack, rowFrom, rowTo, panelFrom, panelTo, p0, kc, j0, nc, add);
                });
            }
        }
    }

    /**
     * The packing buffers of one calling thread, grown to the largest product it has run (at most
     * NC x KC floats of packed B, 8 MiB, and an MC x KC block of A per task) and reused by every
     * product after that. Allocating them per call made a training step (about 200 products) produce gigabytes of
     * garbage: with a heap sized to the activations, the collector then ran a full collection every
     * few products, which cost a quarter of the step.
     */
    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private static final class Workspace {
        float[] bPack = new float[0];
        Worker[] workers = new Worker[0];

        Workspace fit(int threads, int bSize, int aSize, int runLength) {
            if (bPack.length < bSize) {
                bPack = new float[bSize];
            }
            if (workers.length < threads) {
                workers = java.util.Arrays.copyOf(workers, threads);
            }
            for (int t = 0; t < threads; t++) {
                Worker w = workers[t];
                if (w == null || w.aPack.length < aSize || w.scratch.run.length < runLength) {
                    workers[t] = new Worker(new float[Math.max(aSize, w == null ? 0 : w.aPack.length)],
                            new GemmPacking.Scratch(Math.max(runLength, w == null ? 0 : w.scratch.run.length)));
                }
            }
            return this;
        }
    }

    /** One task's buffers: its packed A block, a read scratch, and a tile for ragged edges. */
    private static final class Worker {
        final float[] aPack;
        final GemmPacking.Scratch scratch;
        final float[] edge = new float[MR * NR];
        final MemorySegment edgeTile = MemorySegment.ofArray(edge);

        Worker(float[] aPack, GemmPacking.Scratch scratch) {
            this.aPack = aPack;
            this.scratch = scratch;
        }

        void compute(GemmOperand a, GemmOperand c, float[] bPack, int rowFrom, int rowTo,
                     int panelFrom, int panelTo, int p0, int kc, int j0, int nc, boolean add) {
            if (rowFrom >= rowTo || panelFrom >= panelTo) {
                return;  // more threads than work: nothing to pack either
            }
            boolean unitColumns = c.colStride() == 1;
            for (int ic = rowFrom; ic < rowTo; ic += MC) {
                int mc = Math.min(MC, rowTo - ic);
                GemmPacking.packA(a, ic, mc, p0, kc, aPack, scratch);
                for (int q = panelFrom; q < panelTo; q++) {
                    int col = q * NR;
                    int cols = Math.min(NR, nc - col);
                    int bOff = col * kc;
                    for (int r0 = 0; r0 < mc; r0 += MR) {
                        int rows = Math.min(MR, mc - r0);
                        int aOff = r0 * kc;
                        if (rows == MR && cols == NR && unitColumns) {
                            long at = 4 * c.index(ic + r0, j0 + col);
                            MicroKernel.tile(kc, aPack, aOff, bPack, bOff, c.data(), at, c.rowStride(), add);
                        } else {
                            MicroKernel.tile(kc, aPack, aOff, bPack, bOff, edgeTile, 0, NR, false);
                            scatterEdge(c, ic + r0, j0 + col, rows, cols, add);
                        }
                    }
                }
            }
        }

        /** Adds (or stores) the valid rows x cols corner of the edge tile into C. */
        private void scatterEdge(GemmOperand c, int i0, int jStart, int rows, int cols, boolean add) {
            MemorySegment seg = c.data();
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    long idx = c.index(i0 + r, jStart + j);
                    float v = edge[r * NR + j];
                    seg.setAtIndex(F32, idx, add ? seg.getAtIndex(F32, idx) + v : v);
                }
            }
        }
    }

    static void zero(GemmOperand c) {
        for (int i = 0; i < c.rows(); i++) {
            for (int j = 0; j < c.cols(); j++) {
                c.data().setAtIndex(F32, c.index(i, j), 0f);
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
