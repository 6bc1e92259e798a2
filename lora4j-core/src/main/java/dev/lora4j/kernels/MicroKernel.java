package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile at the heart of the GEMM: C[MR x NR] (+)= Apanel[MR x kc] · Bpanel[kc x NR].
 *
 * <p>NR is two vectors of the machine's preferred float species (32 floats with AVX-512, 16 with
 * AVX2) and MR is 6, so the tile lives in 12 vector accumulators. Per reduction step the kernel
 * does 2 vector loads of B, 6 scalar broadcasts of A and 12 fused multiply-adds: enough independent
 * FMAs to hide the 4-cycle FMA latency at one or two FMAs per cycle, while the accumulators, the two
 * B vectors and the broadcast stay within 16 registers (so AVX2 machines do not spill either).
 * Both panels are plain float[]s read with unit stride from an index that is affine in the loop
 * counter, which lets the JIT hoist the bounds checks out of the loop.
 */
final class MicroKernel {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private MicroKernel() {}

    /**
     * Computes the full MR x NR tile from the panels at {@code aOff} / {@code bOff} (kc steps each)
     * and writes it to C: element (r, c) at byte {@code cByte + 4*(r*ldc + c)} of {@code c}, which
     * must have unit column stride. {@code add} adds to what C holds; otherwise C is overwritten.
     */
    static void tile(int kc, float[] a, int aOff, float[] b, int bOff,
                     MemorySegment c, long cByte, long ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(F, b, bi);
            FloatVector b1 = FloatVector.fromArray(F, b, bi + L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, a[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, a[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, a[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, a[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, a[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        long row = 4 * ldc;
        store(c, cByte, c00, c01, add);
        store(c, cByte + row, c10, c11, add);
        store(c, cByte + 2 * row, c20, c21, add);
        store(c, cByte + 3 * row, c30, c31, add);
        store(c, cByte + 4 * row, c40, c41, add);
        store(c, cByte + 5 * row, c50, c51, add);
    }

    private static void store(MemorySegment c, long at, FloatVector v0, FloatVector v1, boolean add) {
        long at1 = at + 4L * L;
        if (add) {
            v0 = v0.add(FloatVector.fromMemorySegment(F, c, at, NATIVE));
            v1 = v1.add(FloatVector.fromMemorySegment(F, c, at1, NATIVE));
        }
        v0.intoMemorySegment(c, at, NATIVE);
        v1.intoMemorySegment(c, at1, NATIVE);
    }
}
