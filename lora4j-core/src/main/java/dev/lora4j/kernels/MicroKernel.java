package dev.lora4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile at the heart of the GEMM: T[MR x NR] = Apanel[MR x kc] · Bpanel[kc x NR], kc >= 1,
 * for one slice of the reduction; the driver ({@link Gemm}) adds T to C.
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
 *       registers. On packed panels in L2 one core ran 165 GFLOP/s against 122 for 6 x 2 on a
 *       16-core Xeon (Emerald Rapids generation), 190-215 against 140-170 on a Zen 5; in whole
 *       products on the Zen 5 the two are level at 2048³ and 12 x 2 leads on the training step's
 *       smaller shapes (docs/benchmarks.md);</li>
 *   <li>8 floats or fewer (AVX2 and SSE have 16 registers): 6 x 2 vectors, 12 + 2 + 1 = 15.</li>
 * </ul>
 * The system property {@code lora4j.gemm.tile} (6x2, 12x2, 8x3) forces a shape, and
 * {@code lora4j.gemm.tile=calibrate} times every shape that fits the registers at first use and
 * keeps the fastest. The shape never changes results: every element of T is the same chain of
 * fused multiply-adds over the slice's steps in order, whatever tile computes it.
 *
 * <p>Each tile is one method with its accumulators as locals: C2 keeps vectors in registers only
 * while they do not cross a call it might not inline, or a merge of two branches. The first step
 * initializes the accumulators with a multiply instead of starting from zero vectors: C2 fails to
 * keep zero-initialized loop-carried vectors in registers (it materializes some as heap objects
 * every iteration, a 4-5x slowdown); peeling avoids it. The tile goes to a plain float[] rather than
 * into C: with C's write-back (a MemorySegment, added or stored) inside, the 24-accumulator method
 * grew past what C2 would finish inlining in some runs, and then boxed every vector (570 MB of
 * garbage per training step). Both panels are plain float[]s read with unit stride from an index
 * affine in the loop counter, so the bounds checks are hoisted out of the loop.
 */
final class MicroKernel {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();

    /** The tile shapes, as rows of A x vectors of B. */
    private static final String[] SHAPES = {"6x2", "12x2", "8x3"};
    private static final int[] SHAPE_ROWS = {6, 12, 8};
    private static final int[] SHAPE_VECTORS = {2, 2, 3};

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
     * Computes the MR x NR tile of the panels at {@code aOff} / {@code bOff} (kc steps each) into
     * {@code t} (row r at {@code t[r * NR]}).
     */
    static void tile(int kc, float[] a, int aOff, float[] b, int bOff, float[] t) {
        tile(SHAPE, kc, a, aOff, b, bOff, t);
    }

    private static void tile(int shape, int kc, float[] a, int aOff, float[] b, int bOff, float[] t) {
        switch (shape) {
            case 1 -> Tiles.tile12x2(kc, a, aOff, b, bOff, t);
            case 2 -> Tiles.tile8x3(kc, a, aOff, b, bOff, t);
            default -> Tiles.tile6x2(kc, a, aOff, b, bOff, t);
        }
    }

    /** Vector registers a shape needs: accumulators, B vectors, one broadcast. */
    private static int registersOf(int shape) {
        return SHAPE_ROWS[shape] * SHAPE_VECTORS[shape] + SHAPE_VECTORS[shape] + 1;
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
     * and returns the fastest. Each shape first runs for ~30 ms, long enough for C2 to compile it;
     * then the shapes take turns in 30 short timed rounds (so a busy moment of the machine hits them
     * alike) and each one's best round counts. {@code -Dlora4j.gemm.verbose=true} prints the rates.
     */
    private static int calibrate(int registers) {
        int kc = 512;
        int aPanels = 16;
        int bPanels = 4;
        float[][] a = new float[SHAPES.length][];
        float[][] b = new float[SHAPES.length][];
        float[][] t = new float[SHAPES.length][];
        double[] rate = new double[SHAPES.length];
        for (int s = 0; s < SHAPES.length; s++) {
            if (registersOf(s) > registers) {
                continue;
            }
            int mr = SHAPE_ROWS[s];
            int nr = SHAPE_VECTORS[s] * L;
            a[s] = new float[aPanels * mr * kc];
            b[s] = new float[bPanels * nr * kc];
            t[s] = new float[mr * nr];
            for (int i = 0; i < a[s].length; i++) {
                a[s][i] = (i % 7) * 0.125f;
            }
            for (int i = 0; i < b[s].length; i++) {
                b[s][i] = (i % 5) * 0.25f;
            }
            long warmEnd = System.nanoTime() + 30_000_000L;
            while (System.nanoTime() < warmEnd) {
                calibrationRound(s, kc, a[s], b[s], t[s], aPanels, bPanels);
            }
        }
        for (int round = 0; round < 30; round++) {
            for (int s = 0; s < SHAPES.length; s++) {
                if (a[s] != null) {
                    double flops = 2.0 * aPanels * SHAPE_ROWS[s] * bPanels * SHAPE_VECTORS[s] * L * kc;
                    rate[s] = Math.max(rate[s], flops / calibrationRound(s, kc, a[s], b[s], t[s], aPanels, bPanels));
                }
            }
        }
        int best = 0;
        for (int s = 0; s < SHAPES.length; s++) {
            if (rate[s] > rate[best]) {
                best = s;
            }
            if (Boolean.getBoolean("lora4j.gemm.verbose") && a[s] != null) {
                System.err.printf(java.util.Locale.ROOT, "lora4j gemm calibration: tile %s %.1f GFLOP/s%n", SHAPES[s], rate[s]);
            }
        }
        return best;
    }

    /** One sweep of the calibration panels with shape s; returns its nanoseconds. */
    private static long calibrationRound(int s, int kc, float[] a, float[] b, float[] t, int aPanels, int bPanels) {
        int mr = SHAPE_ROWS[s];
        int nr = SHAPE_VECTORS[s] * L;
        long t0 = System.nanoTime();
        for (int q = 0; q < bPanels; q++) {
            for (int r = 0; r < aPanels; r++) {
                tile(s, kc, a, r * mr * kc, b, q * nr * kc, t);
            }
        }
        return Math.max(1, System.nanoTime() - t0);
    }

    /**
     * The tile bodies, in a class of their own: calibration runs them while MicroKernel is still
     * being initialized, and C2 compiles code of a class under initialization with initialization
     * checks (the first calibration ran the chosen tile at a third of its speed for good).
     */
    private static final class Tiles {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        static final int L = F.length();

        /** 6 x 2 vectors: 12 accumulators, 2 loads of B and 6 broadcasts of A per step. */
        static void tile6x2(int kc, float[] a, int aOff, float[] b, int bOff, float[] t) {
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
            c0_0.intoArray(t, 0 * nr); c0_1.intoArray(t, 0 * nr + 1 * L);
            c1_0.intoArray(t, 1 * nr); c1_1.intoArray(t, 1 * nr + 1 * L);
            c2_0.intoArray(t, 2 * nr); c2_1.intoArray(t, 2 * nr + 1 * L);
            c3_0.intoArray(t, 3 * nr); c3_1.intoArray(t, 3 * nr + 1 * L);
            c4_0.intoArray(t, 4 * nr); c4_1.intoArray(t, 4 * nr + 1 * L);
            c5_0.intoArray(t, 5 * nr); c5_1.intoArray(t, 5 * nr + 1 * L);
        }

        /** 12 x 2 vectors: 24 accumulators, 2 loads of B and 12 broadcasts of A per step. */
        static void tile12x2(int kc, float[] a, int aOff, float[] b, int bOff, float[] t) {
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
            c0_0.intoArray(t, 0 * nr); c0_1.intoArray(t, 0 * nr + 1 * L);
            c1_0.intoArray(t, 1 * nr); c1_1.intoArray(t, 1 * nr + 1 * L);
            c2_0.intoArray(t, 2 * nr); c2_1.intoArray(t, 2 * nr + 1 * L);
            c3_0.intoArray(t, 3 * nr); c3_1.intoArray(t, 3 * nr + 1 * L);
            c4_0.intoArray(t, 4 * nr); c4_1.intoArray(t, 4 * nr + 1 * L);
            c5_0.intoArray(t, 5 * nr); c5_1.intoArray(t, 5 * nr + 1 * L);
            c6_0.intoArray(t, 6 * nr); c6_1.intoArray(t, 6 * nr + 1 * L);
            c7_0.intoArray(t, 7 * nr); c7_1.intoArray(t, 7 * nr + 1 * L);
            c8_0.intoArray(t, 8 * nr); c8_1.intoArray(t, 8 * nr + 1 * L);
            c9_0.intoArray(t, 9 * nr); c9_1.intoArray(t, 9 * nr + 1 * L);
            c10_0.intoArray(t, 10 * nr); c10_1.intoArray(t, 10 * nr + 1 * L);
            c11_0.intoArray(t, 11 * nr); c11_1.intoArray(t, 11 * nr + 1 * L);
        }

        /** 8 x 3 vectors: 24 accumulators, 3 loads of B and 8 broadcasts of A per step. */
        static void tile8x3(int kc, float[] a, int aOff, float[] b, int bOff, float[] t) {
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
            c0_0.intoArray(t, 0 * nr); c0_1.intoArray(t, 0 * nr + 1 * L); c0_2.intoArray(t, 0 * nr + 2 * L);
            c1_0.intoArray(t, 1 * nr); c1_1.intoArray(t, 1 * nr + 1 * L); c1_2.intoArray(t, 1 * nr + 2 * L);
            c2_0.intoArray(t, 2 * nr); c2_1.intoArray(t, 2 * nr + 1 * L); c2_2.intoArray(t, 2 * nr + 2 * L);
            c3_0.intoArray(t, 3 * nr); c3_1.intoArray(t, 3 * nr + 1 * L); c3_2.intoArray(t, 3 * nr + 2 * L);
            c4_0.intoArray(t, 4 * nr); c4_1.intoArray(t, 4 * nr + 1 * L); c4_2.intoArray(t, 4 * nr + 2 * L);
            c5_0.intoArray(t, 5 * nr); c5_1.intoArray(t, 5 * nr + 1 * L); c5_2.intoArray(t, 5 * nr + 2 * L);
            c6_0.intoArray(t, 6 * nr); c6_1.intoArray(t, 6 * nr + 1 * L); c6_2.intoArray(t, 6 * nr + 2 * L);
            c7_0.intoArray(t, 7 * nr); c7_1.intoArray(t, 7 * nr + 1 * L); c7_2.intoArray(t, 7 * nr + 2 * L);
        }
    }
}
