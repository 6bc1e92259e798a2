package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile at the heart of the GEMM: C[MR x NR] (+)= Apanel[MR x kc] · Bpanel[kc x NR], kc >= 1.
 *
 * <p>Each reduction step loads NR/L vectors of B, broadcasts MR values of A, and does MR·NR/L fused
 * multiply-adds into accumulators that stay in vector registers for the whole slice. The shape is
 * a trade between three limits of the core:
 * <ul>
 *   <li>FMA latency x FMA ports: a core with two 512-bit FMA units and a 4-cycle latency needs at
 *       least 8 independent accumulators in flight, better 12 or more;</li>
 *   <li>load bandwidth: the B micro-panel (kc x NR, 64 KiB at kc = 512) does not fit L1, so its
 *       vectors stream from L2. The more rows of A share each B vector, the fewer bytes per FMA:
 *       6 rows need 128 bytes of B per 12 FMAs, 12 rows the same 128 bytes per 24 FMAs;</li>
 *   <li>registers: accumulators + B vectors + one broadcast must fit, or C2 spills.</li>
 * </ul>
 * So the tile follows the vector shape ({@link FloatVector#SPECIES_PREFERRED}):
 * <ul>
 *   <li>16 floats (AVX-512, 32 vector registers): 12 x 2 vectors, 24 accumulators + 2 + 1 = 27
 *       registers. On a 2-core Zen 5 (two 512-bit FMA pipes) packed panels in cache run at
 *       190-215 GFLOP/s per core against 140-170 for 6 x 2 (docs/benchmarks.md);</li>
 *   <li>8 floats or fewer (AVX2 and SSE have 16 registers): 6 x 2 vectors, 12 + 2 + 1 = 15.</li>
 * </ul>
 * The system property {@code lora4j.gemm.tile} (6x2, 12x2, 8x3) forces a shape, and
 * {@code lora4j.gemm.tile=calibrate} times every shape that fits the registers on panels in cache
 * at first use and keeps the fastest. The shape never changes results: every element of C is the
 * same chain of fused multiply-adds over the reduction steps in order, whatever tile computes it.
 *
 * <p>Each tile is one method with its accumulators as locals, and everything (first step, loop,
 * write-back) stays inside it: C2 keeps vectors in registers only while they do not cross a call it
 * might not inline, or a merge of two branches. For the same reason the first step initializes the
 * accumulators with a multiply instead of starting from zero vectors: C2 fails to keep
 * zero-initialized loop-carried vectors in registers (it materializes some as heap objects every
 * iteration, a 4-5x slowdown); peeling avoids it. Both panels are plain float[]s read with unit
 * stride from an index affine in the loop counter, so the bounds checks are hoisted out of the loop.
 */
final class MicroKernel {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();

    /** The tile shapes, as rows of A x vectors of B. */
    private static final String[] SHAPES = {"6x2", "12x2", "8x3"};
    private static final int[] SHAPE_ROWS = {6, 12, 8};
    private static final int[] SHAPE_VECTORS = {2, 2, 3};
    /** Vector registers a shape needs: accumulators, B vectors, one broadcast. */
    private static int registersOf(int shape) {
        return SHAPE_ROWS[shape] * SHAPE_VECTORS[shape] + SHAPE_VECTORS[shape] + 1;
    }

    /** Index into SHAPES of the shape in use; a constant to the JIT, so the dispatch folds away. */
    static final int SHAPE = chooseShape(System.getProperty("lora4j.gemm.tile", "auto"));
    static final int MR = SHAPE_ROWS[SHAPE];
    static final int NR = SHAPE_VECTORS[SHAPE] * L;

    private MicroKernel() {}

    /** The shape in use, e.g. "12x2" (rows of A x vectors of B). */
    static String shapeName() {
        return SHAPES[SHAPE];
    }

    /**
     * Computes the full MR x NR tile from the panels at {@code aOff} / {@code bOff} (kc steps each)
     * and writes it to C: element (r, c) at byte {@code cByte + 4*(r*ldc + c)} of {@code c}, which
     * must have unit column stride. {@code add} adds the tile to what C holds; otherwise C is
     * overwritten.
     */
    static void tile(int kc, float[] a, int aOff, float[] b, int bOff,
                     MemorySegment c, long cByte, long ldc, boolean add) {
        tile(SHAPE, kc, a, aOff, b, bOff, c, cByte, ldc, add);
    }

    private static void tile(int shape, int kc, float[] a, int aOff, float[] b, int bOff,
                             MemorySegment c, long cByte, long ldc, boolean add) {
        switch (shape) {
            case 1 -> Tiles.tile12x2(kc, a, aOff, b, bOff, c, cByte, ldc, add);
            case 2 -> Tiles.tile8x3(kc, a, aOff, b, bOff, c, cByte, ldc, add);
            default -> Tiles.tile6x2(kc, a, aOff, b, bOff, c, cByte, ldc, add);
        }
    }

    private static int chooseShape(String requested) {
        for (int s = 0; s < SHAPES.length; s++) {
            if (SHAPES[s].equals(requested)) {
                return s;
            }
        }
        // Vector registers: 32 with AVX-512 (and on AArch64), but 16 with AVX2/SSE; assume 16
        // unless vectors are 512 bits wide, the only width that implies 32 on x86.
        int registers = L >= 16 ? 32 : 16;
        if (requested.equals("calibrate")) {
            return calibrate(registers);
        }
        if (!requested.equals("auto")) {
            throw new IllegalArgumentException("lora4j.gemm.tile must be one of " + String.join(", ", SHAPES)
                    + ", auto or calibrate, got " + requested);
        }
        return registers >= 32 ? 1 : 0;
    }

    /**
     * Times every shape that fits the registers the way the driver uses it (kc = 512, a block of
     * 16 A micro-panels swept across each B micro-panel, so A comes from L2 and B streams from L2)
     * and returns the fastest. Each shape runs for ~40 ms, long enough for C2 to compile it, and its
     * best round counts.
     */
    private static int calibrate(int registers) {
        int kc = 512;
        int best = 0;
        double bestRate = 0;
        for (int s = 0; s < SHAPES.length; s++) {
            if (registersOf(s) > registers) {
                continue;
            }
            int mr = SHAPE_ROWS[s];
            int nr = SHAPE_VECTORS[s] * L;
            int aPanels = 16;
            int bPanels = 4;
            float[] a = new float[aPanels * mr * kc];
            float[] b = new float[bPanels * nr * kc];
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 7) * 0.125f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (i % 5) * 0.25f;
            }
            MemorySegment c = MemorySegment.ofArray(new float[aPanels * mr * bPanels * nr]);
            long ldc = (long) bPanels * nr;
            double flopsPerRound = 2.0 * aPanels * mr * bPanels * nr * kc;
            double rate = 0;
            long warmEnd = System.nanoTime() + 40_000_000L;
            for (int round = 0; round < 5 || System.nanoTime() < warmEnd; round++) {
                long t0 = System.nanoTime();
                for (int q = 0; q < bPanels; q++) {
                    for (int r = 0; r < aPanels; r++) {
                        tile(s, kc, a, r * mr * kc, b, q * nr * kc, c, 4 * ((long) r * mr * ldc + (long) q * nr), ldc, true);
                    }
                }
                rate = Math.max(rate, flopsPerRound / Math.max(1, System.nanoTime() - t0));
            }
            if (rate > bestRate) {
                bestRate = rate;
                best = s;
            }
        }
        return best;
    }

    /**
     * The tile bodies, in a class of their own: calibration runs them while MicroKernel is still
     * being initialized, and C2 compiles code of a class under initialization with initialization
     * checks (the first calibration ran the chosen tile at a third of its speed for good).
     */
    private static final class Tiles {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final int L = F.length();
        static final ByteOrder NATIVE = ByteOrder.nativeOrder();

        /** The 6 x 2·L tile: 12 accumulators, 2 loads of B and 6 broadcasts of A per step. */
        static void tile6x2(int kc, float[] a, int aOff, float[] b, int bOff,
                                    MemorySegment c, long cByte, long ldc, boolean add) {
            final int nr = 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, b, bOff);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + 1 * L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[aOff]);
            FloatVector c0_0 = av.mul(b0); FloatVector c0_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 1]);
            FloatVector c1_0 = av.mul(b0); FloatVector c1_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 2]);
            FloatVector c2_0 = av.mul(b0); FloatVector c2_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 3]);
            FloatVector c3_0 = av.mul(b0); FloatVector c3_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 4]);
            FloatVector c4_0 = av.mul(b0); FloatVector c4_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 5]);
            FloatVector c5_0 = av.mul(b0); FloatVector c5_1 = av.mul(b1);
            for (int p = 1; p < kc; p++) {
                int bi = bOff + p * nr;
                int ai = aOff + p * 6;
                b0 = FloatVector.fromArray(F, b, bi);
                b1 = FloatVector.fromArray(F, b, bi + 1 * L);
                av = FloatVector.broadcast(F, a[ai]);
                c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
                av = FloatVector.broadcast(F, a[ai + 1]);
                c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
                av = FloatVector.broadcast(F, a[ai + 2]);
                c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
                av = FloatVector.broadcast(F, a[ai + 3]);
                c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
                av = FloatVector.broadcast(F, a[ai + 4]);
                c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1);
                av = FloatVector.broadcast(F, a[ai + 5]);
                c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1);
            }
            long row = 4 * ldc;
            long h = 4L * L;
            if (add) {
                c0_0.add(FloatVector.fromMemorySegment(F, c, cByte, NATIVE)).intoMemorySegment(c, cByte, NATIVE);
                c0_1.add(FloatVector.fromMemorySegment(F, c, cByte + h, NATIVE)).intoMemorySegment(c, cByte + h, NATIVE);
                c1_0.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row, NATIVE)).intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row + h, NATIVE)).intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c2_0.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row, NATIVE)).intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row + h, NATIVE)).intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c3_0.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row, NATIVE)).intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row + h, NATIVE)).intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c4_0.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row, NATIVE)).intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row + h, NATIVE)).intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c5_0.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row, NATIVE)).intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row + h, NATIVE)).intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
            } else {
                c0_0.intoMemorySegment(c, cByte, NATIVE);
                c0_1.intoMemorySegment(c, cByte + h, NATIVE);
                c1_0.intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c2_0.intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c3_0.intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c4_0.intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c5_0.intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
            }
        }

        /** The 12 x 2·L tile: 24 accumulators, 2 loads of B and 12 broadcasts of A per step. */
        static void tile12x2(int kc, float[] a, int aOff, float[] b, int bOff,
                                    MemorySegment c, long cByte, long ldc, boolean add) {
            final int nr = 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, b, bOff);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + 1 * L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[aOff]);
            FloatVector c0_0 = av.mul(b0); FloatVector c0_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 1]);
            FloatVector c1_0 = av.mul(b0); FloatVector c1_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 2]);
            FloatVector c2_0 = av.mul(b0); FloatVector c2_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 3]);
            FloatVector c3_0 = av.mul(b0); FloatVector c3_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 4]);
            FloatVector c4_0 = av.mul(b0); FloatVector c4_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 5]);
            FloatVector c5_0 = av.mul(b0); FloatVector c5_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 6]);
            FloatVector c6_0 = av.mul(b0); FloatVector c6_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 7]);
            FloatVector c7_0 = av.mul(b0); FloatVector c7_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 8]);
            FloatVector c8_0 = av.mul(b0); FloatVector c8_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 9]);
            FloatVector c9_0 = av.mul(b0); FloatVector c9_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 10]);
            FloatVector c10_0 = av.mul(b0); FloatVector c10_1 = av.mul(b1);
            av = FloatVector.broadcast(F, a[aOff + 11]);
            FloatVector c11_0 = av.mul(b0); FloatVector c11_1 = av.mul(b1);
            for (int p = 1; p < kc; p++) {
                int bi = bOff + p * nr;
                int ai = aOff + p * 12;
                b0 = FloatVector.fromArray(F, b, bi);
                b1 = FloatVector.fromArray(F, b, bi + 1 * L);
                av = FloatVector.broadcast(F, a[ai]);
                c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1);
                av = FloatVector.broadcast(F, a[ai + 1]);
                c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1);
                av = FloatVector.broadcast(F, a[ai + 2]);
                c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1);
                av = FloatVector.broadcast(F, a[ai + 3]);
                c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1);
                av = FloatVector.broadcast(F, a[ai + 4]);
                c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1);
                av = FloatVector.broadcast(F, a[ai + 5]);
                c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1);
                av = FloatVector.broadcast(F, a[ai + 6]);
                c6_0 = av.fma(b0, c6_0); c6_1 = av.fma(b1, c6_1);
                av = FloatVector.broadcast(F, a[ai + 7]);
                c7_0 = av.fma(b0, c7_0); c7_1 = av.fma(b1, c7_1);
                av = FloatVector.broadcast(F, a[ai + 8]);
                c8_0 = av.fma(b0, c8_0); c8_1 = av.fma(b1, c8_1);
                av = FloatVector.broadcast(F, a[ai + 9]);
                c9_0 = av.fma(b0, c9_0); c9_1 = av.fma(b1, c9_1);
                av = FloatVector.broadcast(F, a[ai + 10]);
                c10_0 = av.fma(b0, c10_0); c10_1 = av.fma(b1, c10_1);
                av = FloatVector.broadcast(F, a[ai + 11]);
                c11_0 = av.fma(b0, c11_0); c11_1 = av.fma(b1, c11_1);
            }
            long row = 4 * ldc;
            long h = 4L * L;
            if (add) {
                c0_0.add(FloatVector.fromMemorySegment(F, c, cByte, NATIVE)).intoMemorySegment(c, cByte, NATIVE);
                c0_1.add(FloatVector.fromMemorySegment(F, c, cByte + h, NATIVE)).intoMemorySegment(c, cByte + h, NATIVE);
                c1_0.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row, NATIVE)).intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row + h, NATIVE)).intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c2_0.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row, NATIVE)).intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row + h, NATIVE)).intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c3_0.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row, NATIVE)).intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row + h, NATIVE)).intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c4_0.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row, NATIVE)).intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row + h, NATIVE)).intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c5_0.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row, NATIVE)).intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row + h, NATIVE)).intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
                c6_0.add(FloatVector.fromMemorySegment(F, c, cByte + 6 * row, NATIVE)).intoMemorySegment(c, cByte + 6 * row, NATIVE);
                c6_1.add(FloatVector.fromMemorySegment(F, c, cByte + 6 * row + h, NATIVE)).intoMemorySegment(c, cByte + 6 * row + h, NATIVE);
                c7_0.add(FloatVector.fromMemorySegment(F, c, cByte + 7 * row, NATIVE)).intoMemorySegment(c, cByte + 7 * row, NATIVE);
                c7_1.add(FloatVector.fromMemorySegment(F, c, cByte + 7 * row + h, NATIVE)).intoMemorySegment(c, cByte + 7 * row + h, NATIVE);
                c8_0.add(FloatVector.fromMemorySegment(F, c, cByte + 8 * row, NATIVE)).intoMemorySegment(c, cByte + 8 * row, NATIVE);
                c8_1.add(FloatVector.fromMemorySegment(F, c, cByte + 8 * row + h, NATIVE)).intoMemorySegment(c, cByte + 8 * row + h, NATIVE);
                c9_0.add(FloatVector.fromMemorySegment(F, c, cByte + 9 * row, NATIVE)).intoMemorySegment(c, cByte + 9 * row, NATIVE);
                c9_1.add(FloatVector.fromMemorySegment(F, c, cByte + 9 * row + h, NATIVE)).intoMemorySegment(c, cByte + 9 * row + h, NATIVE);
                c10_0.add(FloatVector.fromMemorySegment(F, c, cByte + 10 * row, NATIVE)).intoMemorySegment(c, cByte + 10 * row, NATIVE);
                c10_1.add(FloatVector.fromMemorySegment(F, c, cByte + 10 * row + h, NATIVE)).intoMemorySegment(c, cByte + 10 * row + h, NATIVE);
                c11_0.add(FloatVector.fromMemorySegment(F, c, cByte + 11 * row, NATIVE)).intoMemorySegment(c, cByte + 11 * row, NATIVE);
                c11_1.add(FloatVector.fromMemorySegment(F, c, cByte + 11 * row + h, NATIVE)).intoMemorySegment(c, cByte + 11 * row + h, NATIVE);
            } else {
                c0_0.intoMemorySegment(c, cByte, NATIVE);
                c0_1.intoMemorySegment(c, cByte + h, NATIVE);
                c1_0.intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c2_0.intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c3_0.intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c4_0.intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c5_0.intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
                c6_0.intoMemorySegment(c, cByte + 6 * row, NATIVE);
                c6_1.intoMemorySegment(c, cByte + 6 * row + h, NATIVE);
                c7_0.intoMemorySegment(c, cByte + 7 * row, NATIVE);
                c7_1.intoMemorySegment(c, cByte + 7 * row + h, NATIVE);
                c8_0.intoMemorySegment(c, cByte + 8 * row, NATIVE);
                c8_1.intoMemorySegment(c, cByte + 8 * row + h, NATIVE);
                c9_0.intoMemorySegment(c, cByte + 9 * row, NATIVE);
                c9_1.intoMemorySegment(c, cByte + 9 * row + h, NATIVE);
                c10_0.intoMemorySegment(c, cByte + 10 * row, NATIVE);
                c10_1.intoMemorySegment(c, cByte + 10 * row + h, NATIVE);
                c11_0.intoMemorySegment(c, cByte + 11 * row, NATIVE);
                c11_1.intoMemorySegment(c, cByte + 11 * row + h, NATIVE);
            }
        }

        /** The 8 x 3·L tile: 24 accumulators, 3 loads of B and 8 broadcasts of A per step. */
        static void tile8x3(int kc, float[] a, int aOff, float[] b, int bOff,
                                    MemorySegment c, long cByte, long ldc, boolean add) {
            final int nr = 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, b, bOff);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + 1 * L);
            FloatVector b2 = FloatVector.fromArray(F, b, bOff + 2 * L);
            FloatVector av;
            av = FloatVector.broadcast(F, a[aOff]);
            FloatVector c0_0 = av.mul(b0); FloatVector c0_1 = av.mul(b1); FloatVector c0_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 1]);
            FloatVector c1_0 = av.mul(b0); FloatVector c1_1 = av.mul(b1); FloatVector c1_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 2]);
            FloatVector c2_0 = av.mul(b0); FloatVector c2_1 = av.mul(b1); FloatVector c2_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 3]);
            FloatVector c3_0 = av.mul(b0); FloatVector c3_1 = av.mul(b1); FloatVector c3_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 4]);
            FloatVector c4_0 = av.mul(b0); FloatVector c4_1 = av.mul(b1); FloatVector c4_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 5]);
            FloatVector c5_0 = av.mul(b0); FloatVector c5_1 = av.mul(b1); FloatVector c5_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 6]);
            FloatVector c6_0 = av.mul(b0); FloatVector c6_1 = av.mul(b1); FloatVector c6_2 = av.mul(b2);
            av = FloatVector.broadcast(F, a[aOff + 7]);
            FloatVector c7_0 = av.mul(b0); FloatVector c7_1 = av.mul(b1); FloatVector c7_2 = av.mul(b2);
            for (int p = 1; p < kc; p++) {
                int bi = bOff + p * nr;
                int ai = aOff + p * 8;
                b0 = FloatVector.fromArray(F, b, bi);
                b1 = FloatVector.fromArray(F, b, bi + 1 * L);
                b2 = FloatVector.fromArray(F, b, bi + 2 * L);
                av = FloatVector.broadcast(F, a[ai]);
                c0_0 = av.fma(b0, c0_0); c0_1 = av.fma(b1, c0_1); c0_2 = av.fma(b2, c0_2);
                av = FloatVector.broadcast(F, a[ai + 1]);
                c1_0 = av.fma(b0, c1_0); c1_1 = av.fma(b1, c1_1); c1_2 = av.fma(b2, c1_2);
                av = FloatVector.broadcast(F, a[ai + 2]);
                c2_0 = av.fma(b0, c2_0); c2_1 = av.fma(b1, c2_1); c2_2 = av.fma(b2, c2_2);
                av = FloatVector.broadcast(F, a[ai + 3]);
                c3_0 = av.fma(b0, c3_0); c3_1 = av.fma(b1, c3_1); c3_2 = av.fma(b2, c3_2);
                av = FloatVector.broadcast(F, a[ai + 4]);
                c4_0 = av.fma(b0, c4_0); c4_1 = av.fma(b1, c4_1); c4_2 = av.fma(b2, c4_2);
                av = FloatVector.broadcast(F, a[ai + 5]);
                c5_0 = av.fma(b0, c5_0); c5_1 = av.fma(b1, c5_1); c5_2 = av.fma(b2, c5_2);
                av = FloatVector.broadcast(F, a[ai + 6]);
                c6_0 = av.fma(b0, c6_0); c6_1 = av.fma(b1, c6_1); c6_2 = av.fma(b2, c6_2);
                av = FloatVector.broadcast(F, a[ai + 7]);
                c7_0 = av.fma(b0, c7_0); c7_1 = av.fma(b1, c7_1); c7_2 = av.fma(b2, c7_2);
            }
            long row = 4 * ldc;
            long h = 4L * L;
            if (add) {
                c0_0.add(FloatVector.fromMemorySegment(F, c, cByte, NATIVE)).intoMemorySegment(c, cByte, NATIVE);
                c0_1.add(FloatVector.fromMemorySegment(F, c, cByte + h, NATIVE)).intoMemorySegment(c, cByte + h, NATIVE);
                c0_2.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 2 * h, NATIVE);
                c1_0.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row, NATIVE)).intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row + h, NATIVE)).intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c1_2.add(FloatVector.fromMemorySegment(F, c, cByte + 1 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 1 * row + 2 * h, NATIVE);
                c2_0.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row, NATIVE)).intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row + h, NATIVE)).intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c2_2.add(FloatVector.fromMemorySegment(F, c, cByte + 2 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 2 * row + 2 * h, NATIVE);
                c3_0.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row, NATIVE)).intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row + h, NATIVE)).intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c3_2.add(FloatVector.fromMemorySegment(F, c, cByte + 3 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 3 * row + 2 * h, NATIVE);
                c4_0.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row, NATIVE)).intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row + h, NATIVE)).intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c4_2.add(FloatVector.fromMemorySegment(F, c, cByte + 4 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 4 * row + 2 * h, NATIVE);
                c5_0.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row, NATIVE)).intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row + h, NATIVE)).intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
                c5_2.add(FloatVector.fromMemorySegment(F, c, cByte + 5 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 5 * row + 2 * h, NATIVE);
                c6_0.add(FloatVector.fromMemorySegment(F, c, cByte + 6 * row, NATIVE)).intoMemorySegment(c, cByte + 6 * row, NATIVE);
                c6_1.add(FloatVector.fromMemorySegment(F, c, cByte + 6 * row + h, NATIVE)).intoMemorySegment(c, cByte + 6 * row + h, NATIVE);
                c6_2.add(FloatVector.fromMemorySegment(F, c, cByte + 6 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 6 * row + 2 * h, NATIVE);
                c7_0.add(FloatVector.fromMemorySegment(F, c, cByte + 7 * row, NATIVE)).intoMemorySegment(c, cByte + 7 * row, NATIVE);
                c7_1.add(FloatVector.fromMemorySegment(F, c, cByte + 7 * row + h, NATIVE)).intoMemorySegment(c, cByte + 7 * row + h, NATIVE);
                c7_2.add(FloatVector.fromMemorySegment(F, c, cByte + 7 * row + 2 * h, NATIVE)).intoMemorySegment(c, cByte + 7 * row + 2 * h, NATIVE);
            } else {
                c0_0.intoMemorySegment(c, cByte, NATIVE);
                c0_1.intoMemorySegment(c, cByte + h, NATIVE);
                c0_2.intoMemorySegment(c, cByte + 2 * h, NATIVE);
                c1_0.intoMemorySegment(c, cByte + 1 * row, NATIVE);
                c1_1.intoMemorySegment(c, cByte + 1 * row + h, NATIVE);
                c1_2.intoMemorySegment(c, cByte + 1 * row + 2 * h, NATIVE);
                c2_0.intoMemorySegment(c, cByte + 2 * row, NATIVE);
                c2_1.intoMemorySegment(c, cByte + 2 * row + h, NATIVE);
                c2_2.intoMemorySegment(c, cByte + 2 * row + 2 * h, NATIVE);
                c3_0.intoMemorySegment(c, cByte + 3 * row, NATIVE);
                c3_1.intoMemorySegment(c, cByte + 3 * row + h, NATIVE);
                c3_2.intoMemorySegment(c, cByte + 3 * row + 2 * h, NATIVE);
                c4_0.intoMemorySegment(c, cByte + 4 * row, NATIVE);
                c4_1.intoMemorySegment(c, cByte + 4 * row + h, NATIVE);
                c4_2.intoMemorySegment(c, cByte + 4 * row + 2 * h, NATIVE);
                c5_0.intoMemorySegment(c, cByte + 5 * row, NATIVE);
                c5_1.intoMemorySegment(c, cByte + 5 * row + h, NATIVE);
                c5_2.intoMemorySegment(c, cByte + 5 * row + 2 * h, NATIVE);
                c6_0.intoMemorySegment(c, cByte + 6 * row, NATIVE);
                c6_1.intoMemorySegment(c, cByte + 6 * row + h, NATIVE);
                c6_2.intoMemorySegment(c, cByte + 6 * row + 2 * h, NATIVE);
                c7_0.intoMemorySegment(c, cByte + 7 * row, NATIVE);
                c7_1.intoMemorySegment(c, cByte + 7 * row + h, NATIVE);
                c7_2.intoMemorySegment(c, cByte + 7 * row + 2 * h, NATIVE);
            }
        }
    }
}
