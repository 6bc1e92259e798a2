package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The blocked, packed, multithreaded product C[m,n] (+)= A[m,k] · B[k,n] on strided views.
 *
 * <h2>What each element of C is</h2>
 * The reduction is cut into slices of KC steps, [0, KC), [KC, 2·KC), ... For each slice the
 * micro-kernel computes every element as one chain over the slice's steps in order, starting with
 * a product and continuing with fused multiply-adds: {@code s = a[p0]·b[p0]; s = fma(a[p], b[p], s)}.
 * The slice sums are then added to C in slice order (the first one stored, unless accumulating).
 * KC is a constant of the machine, never of the shape, and nothing here decides which element goes
 * with which other element into a tile in a way that changes that chain. So a row of C has the same
 * bits whatever else is in the product (other rows, M, its position in A) and however the work is
 * split over threads: a server can batch requests freely. {@code GemmTest} checks this bit for bit
 * against a scalar loop with the same order.
 *
 * <h2>Blocking</h2>
 * The classic Goto/BLIS loop nest, for cores with 32-48 KiB L1d and 1-2 MiB L2:
 * <ul>
 *   <li>KC = 512: one B micro-panel (KC x NR floats, 64 KiB with NR = 32) and the A micro-panel in
 *       use stay in L2 while a tile accumulates, and each C tile is read and written once per slice.
 *       512 rather than an L1-sized 256 because C traffic, not B, limited two threads (docs/benchmarks.md);</li>
 *   <li>per slice, B[slice, NC columns] and A[up to ROWS rows, slice] are packed once, by all threads
 *       together, into panels every thread then reads (B stays in L3, A blocks in L2);</li>
 *   <li>each thread walks its share in blocks of MC rows of packed A (MC x KC floats, 3/8 of
 *       L2: 192 rows with a 1 MiB L2, 384 with 2 MiB), sweeping its B micro-panels across each block; the innermost loop hands each
 *       MR x NR tile to {@link MicroKernel}, then adds (or stores) the tile into C.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Like BLIS, the tiles are split over a 2-D grid of tasks, tm row groups x tn column groups, chosen
 * per product so that the busiest task has as few tiles as possible and, among equal splits, reads
 * the fewest packed floats (see {@link #gridRows}). So a 1024x512 product on 16 threads becomes a
 * 4 x 4 grid (86 row panels x 16 column panels, 88 tiles per task at most), a rank-8 product
 * (N = 8, one column panel) 16 x 1, and the rank-8 gradient dA (M = 8, one row panel) 1 x 16: no
 * thread idles while another has two shares. Packing is split the same even way. Each slice costs
 * two {@link Parallel#forEach} rounds (pack, then compute), the helpers spinning in between.
 *
 * <p>The sizes can be overridden with the system properties lora4j.gemm.kc/mc/nc for tuning (KC
 * changes the summation order: every product on the machine then changes the same way).
 */
final class Gemm {
    static final int MR = MicroKernel.MR;
    static final int NR = MicroKernel.NR;
    static final int KC = Math.max(1, Integer.getInteger("lora4j.gemm.kc", 512));
    /** Rows per L2 block of packed A: 3/8 of the L2 ({@link #rowBlockFor}), or lora4j.gemm.mc. */
    static final int MC = roundUp(Math.max(1, Integer.getInteger("lora4j.gemm.mc", rowBlockFor(l2Bytes()))), MR);
    static final int NC = roundUp(Math.max(1, Integer.getInteger("lora4j.gemm.nc", 4096)), NR);
    /** Rows of A packed at once (bounds the shared A buffer: ROWS x KC floats, 8 MiB). */
    static final int ROWS = roundUp(4096, MR);
    /**
     * Cost of reading one packed float, in flops, for {@link #gridRows}: a core does ~100 GFLOP/s
     * and streams ~20 GB/s (5 G floats) from the shared L3, so one float read costs ~20 flops.
     */
    private static final int FLOPS_PER_FLOAT_READ = 20;
    /**
     * {@code -Dlora4j.gemm.profile=true}: wall time spent packing and computing, summed over all
     * products (for tuning on a new machine; {@link GemmConfig#profile}).
     */
    static final boolean PROFILE = Boolean.getBoolean("lora4j.gemm.profile");
    static final java.util.concurrent.atomic.LongAdder PACK_NANOS = new java.util.concurrent.atomic.LongAdder();
    static final java.util.concurrent.atomic.LongAdder COMPUTE_NANOS = new java.util.concurrent.atomic.LongAdder();
    /**
     * Loop order inside a task ({@code lora4j.gemm.loop}): "bpanel" (default, BLIS) keeps one B
     * micro-panel while the A micro-panels of an MC block pass under it; "apanel" keeps one A
     * micro-panel (L1-sized) while the task's B micro-panels pass. Neither changes results.
     */
    static final boolean A_PANEL_OUTER = System.getProperty("lora4j.gemm.loop", "bpanel").equals("apanel");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Float> F = MicroKernel.F;
    private static final int L = MicroKernel.L;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private Gemm() {}

    /**
     * Rows of packed A a task keeps in L2 while B micro-panels pass: the block (MC x KC floats) takes
     * 3/8 of L2, leaving room for the B micro-panel (64 KiB), C's lines and the next A block. With a
     * 1 MiB L2 (Zen 4/5) that is 192 rows; with 2 MiB (Sapphire Rapids) 384, which on that machine ran
     * one thread at 124 GFLOP/s against 94 (and steadier) for 192: each B micro-panel, fetched from
     * the slower mesh L3, serves twice the rows. Only a block size: results do not depend on it.
     */
    static int rowBlockFor(long l2) {
        return (int) Math.max(MR, l2 * 3 / 8 / (4L * KC) / MR * MR);
    }

    /** The L2 size of CPU 0 from Linux sysfs, or 1 MiB when it cannot be read (other OSes, sandboxes). */
    static long l2Bytes() {
        try {
            for (int i = 0; i < 8; i++) {
                java.nio.file.Path dir = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i);
                if (!java.nio.file.Files.isDirectory(dir)) {
                    break;
                }
                String level = java.nio.file.Files.readString(dir.resolve("level")).trim();
                String type = java.nio.file.Files.readString(dir.resolve("type")).trim();
                if (level.equals("2") && !type.equals("Instruction")) {
                    String size = java.nio.file.Files.readString(dir.resolve("size")).trim().toUpperCase(java.util.Locale.ROOT);
                    long unit = size.endsWith("K") ? 1024 : size.endsWith("M") ? 1024 * 1024 : 1;
                    return Long.parseLong(size.replaceAll("[^0-9]", "")) * unit;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fall through to the default
        }
        return 1L << 20;
    }

    /** C (+)= A · B in up to {@code threads} tasks; C must be F32 (any strides), A and B any dtype and strides. */
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
        int kcMax = Math.min(KC, k);
        int bCols = Math.min(NC, roundUp(n, NR));
        int aRows = Math.min(ROWS, roundUp(m, MR));
        Workspace ws = WORKSPACE.get().fit(threads, bCols * kcMax, aRows * kcMax, Math.max(kcMax, Math.max(aRows, bCols)));
        Worker[] workers = ws.workers;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int pn = ceilDiv(nc, NR);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean add = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += ROWS) {
                    int mc = Math.min(ROWS, m - ic);
                    int pm = ceilDiv(mc, MR);
                    Slice s = new Slice(a, b, c, ws.aPack, ws.bPack, ic, mc, pc, kc, jc, nc, add);
                    boolean packB = ic == 0;  // B's slice is the same for every block of rows
                    long t0 = PROFILE ? System.nanoTime() : 0;
                    Parallel.forEach(threads, t -> workers[t].pack(s, pm * t / threads, pm * (t + 1) / threads,
                            packB ? pn * t / threads : 0, packB ? pn * (t + 1) / threads : 0));
                    long t1 = PROFILE ? System.nanoTime() : 0;
                    int tm = gridRows(pm, pn, threads, kc);
                    int tn = Math.min(pn, threads / tm);
                    Parallel.forEach(tm * tn, t -> {
                        int gi = t / tn;
                        int gj = t % tn;
                        workers[t].compute(s, pm * gi / tm, pm * (gi + 1) / tm, pn * gj / tn, pn * (gj + 1) / tn);
                    });
                    if (PROFILE) {
                        PACK_NANOS.add(t1 - t0);
                        COMPUTE_NANOS.add(System.nanoTime() - t1);
                    }
                }
            }
        }
    }

    /**
     * The number of row groups tm of the task grid for pm row panels x pn column panels (tn =
     * min(pn, threads / tm) column groups). Each task computes ceil(pm/tm) x ceil(pn/tn) tiles and
     * reads its rows of packed A once and its columns of packed B once per MC block of rows; the
     * grid minimizes the busiest task's cost, tiles (flops) plus floats read, weighted by
     * {@link #FLOPS_PER_FLOAT_READ}; between equal costs, the grid with more tasks (smaller shares
     * for the others). Only a function of the shape and the thread count, and it only decides who
     * computes a tile, never how.
     */
    static int gridRows(int pm, int pn, int threads, int kc) {
        int best = 1;
        int bestTasks = 0;
        long bestCost = Long.MAX_VALUE;
        for (int tm = 1; tm <= Math.min(threads, pm); tm++) {
            int tn = Math.min(pn, threads / tm);
            long rows = (long) ceilDiv(pm, tm) * MR;
            long cols = (long) ceilDiv(pn, tn) * NR;
            long flops = 2 * rows * cols * kc;
            long reads = (rows + cols * ceilDiv((int) rows, MC)) * kc;
            long cost = flops + FLOPS_PER_FLOAT_READ * reads;
            if (cost < bestCost || (cost == bestCost && tm * tn > bestTasks)) {
                bestCost = cost;
                bestTasks = tm * tn;
                best = tm;
            }
        }
        return best;
    }

    /** One slice of the product: rows [i0, i0+mc) of A and C, reduction [p0, p0+kc), columns [j0, j0+nc). */
    private record Slice(GemmOperand a, GemmOperand b, GemmOperand c, float[] aPack, float[] bPack,
                         int i0, int mc, int p0, int kc, int j0, int nc, boolean add) {}

    /**
     * The packing buffers of one calling thread, grown to the largest product it has run (at most
     * NC x KC floats of packed B and ROWS x KC of packed A, 8 MiB each) and reused by every product
     * after that. Allocating them per call made a training step (about 200 products) produce
     * gigabytes of garbage: with a heap sized to the activations, the collector then ran a full
     * collection every few products, which cost a quarter of the step.
     */
    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private static final class Workspace {
        float[] aPack = new float[0];
        float[] bPack = new float[0];
        Worker[] workers = new Worker[0];

        Workspace fit(int threads, int bSize, int aSize, int runLength) {
            if (bPack.length < bSize) {
                bPack = new float[bSize];
            }
            if (aPack.length < aSize) {
                aPack = new float[aSize];
            }
            if (workers.length < threads) {
                workers = java.util.Arrays.copyOf(workers, threads);
            }
            for (int t = 0; t < threads; t++) {
                if (workers[t] == null || workers[t].scratch.run.length < runLength) {
                    workers[t] = new Worker(new GemmPacking.Scratch(runLength));
                }
            }
            return this;
        }
    }

    /** One task's buffers: a read scratch for packing, and the tile the micro-kernel writes. */
    private static final class Worker {
        final GemmPacking.Scratch scratch;
        final float[] tile = new float[MR * NR];

        Worker(GemmPacking.Scratch scratch) {
            this.scratch = scratch;
        }

        /** Packs row panels [rpFrom, rpTo) of the slice's A and column panels [qFrom, qTo) of its B. */
        void pack(Slice s, int rpFrom, int rpTo, int qFrom, int qTo) {
            if (rpFrom < rpTo) {
                int rowFrom = rpFrom * MR;
                int rowTo = Math.min(s.mc, rpTo * MR);
                GemmPacking.packA(s.a, s.i0 + rowFrom, rowTo - rowFrom, s.p0, s.kc, s.aPack, rowFrom * s.kc, scratch);
            }
            if (qFrom < qTo) {
                GemmPacking.packB(s.b, s.p0, s.kc, s.j0, s.nc, qFrom, qTo, s.bPack, scratch);
            }
        }

        /** Computes the tiles of row panels [rpFrom, rpTo) x column panels [qFrom, qTo) of the slice. */
        void compute(Slice s, int rpFrom, int rpTo, int qFrom, int qTo) {
            if (A_PANEL_OUTER) {
                for (int rp = rpFrom; rp < rpTo; rp++) {
                    for (int q = qFrom; q < qTo; q++) {
                        tileAt(s, rp, q);
                    }
                }
                return;
            }
            // The task's row panels in equal blocks of at most MC rows (512 rows with MC = 384 make
            // two blocks of 256, not 384 + 128): every block reuses each B micro-panel as often.
            int panels = rpTo - rpFrom;
            int blocks = ceilDiv(panels, MC / MR);
            for (int bl = 0; bl < blocks; bl++) {
                int rb = rpFrom + panels * bl / blocks;
                int rbEnd = rpFrom + panels * (bl + 1) / blocks;
                for (int q = qFrom; q < qTo; q++) {
                    for (int rp = rb; rp < rbEnd; rp++) {
                        tileAt(s, rp, q);
                    }
                }
            }
        }

        /** The tile of row panel rp x column panel q: computed, then added to (or stored in) C. */
        private void tileAt(Slice s, int rp, int q) {
            GemmOperand c = s.c;
            int kc = s.kc;
            int col = q * NR;
            int cols = Math.min(NR, s.nc - col);
            int row = rp * MR;
            int rows = Math.min(MR, s.mc - row);
            MicroKernel.tile(kc, s.aPack, row * kc, s.bPack, col * kc, tile);
            if (cols == NR && c.colStride() == 1) {
                long at = 4 * c.index(s.i0 + row, s.j0 + col);
                if (s.add) {
                    addTile(c.data(), at, c.rowStride(), rows);
                } else {
                    storeTile(c.data(), at, c.rowStride(), rows);
                }
            } else {
                scatterEdge(c, s.i0 + row, s.j0 + col, rows, cols, s.add);
            }
        }

        /** C += the first {@code rows} rows of the tile (C at byte {@code cByte}, rows {@code ldc} floats apart). */
        private void addTile(MemorySegment seg, long cByte, long ldc, int rows) {
            for (int r = 0; r < rows; r++) {
                long at = cByte + 4 * r * ldc;
                for (int v = 0; v < NR; v += L) {
                    FloatVector.fromArray(F, tile, r * NR + v)
                            .add(FloatVector.fromMemorySegment(F, seg, at + 4L * v, NATIVE))
                            .intoMemorySegment(seg, at + 4L * v, NATIVE);
                }
            }
        }

        /** C = the first {@code rows} rows of the tile. */
        private void storeTile(MemorySegment seg, long cByte, long ldc, int rows) {
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(tile, r * NR, seg, F32, cByte + 4 * r * ldc, NR);
            }
        }

        /** Adds (or stores) the valid rows x cols corner of the tile into C, element by element. */
        private void scatterEdge(GemmOperand c, int i0, int jStart, int rows, int cols, boolean add) {
            MemorySegment seg = c.data();
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    long idx = c.index(i0 + r, jStart + j);
                    float v = tile[r * NR + j];
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
