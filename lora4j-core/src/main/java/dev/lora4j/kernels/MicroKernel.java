package dev.lora4j.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile at the heart of the GEMM: C[MR x NR] (+)= Apanel[MR x kc] · Bpanel[kc x NR], kc >= 1.
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
        // The first step initializes the accumulators with a multiply instead of starting from
        // zero vectors: C2 fails to keep zero-initialized loop-carried vectors in registers (it
        // materializes some as heap objects every iteration, a 4-5x slowdown), peeling avoids it.
        FloatVector b0 = FloatVector.fromArray(F, b, bOff);
        FloatVector b1 = FloatVector.fromArray(F, b, bOff + L);
        FloatVector av = FloatVector.broadcast(F, a[aOff]);
        FloatVector c00 = av.mul(b0), c01 = av.mul(b1);
        av = FloatVector.broadcast(F, a[aOff + 1]);
        FloatVector c10 = av.mul(b0), c11 = av.mul(b1);
        av = FloatVector.broadcast(F, a[aOff + 2]);
        FloatVector c20 = av.mul(b0), c21 = av.mul(b1);
        av = FloatVector.broadcast(F, a[aOff + 3]);
        FloatVector c30 = av.mul(b0), c31 = av.mul(b1);
        av = FloatVector.broadcast(F, a[aOff + 4]);
        FloatVector c40 = av.mul(b0), c41 = av.mul(b1);
        av = FloatVector.broadcast(F, a[aOff + 5]);
        FloatVector c50 = av.mul(b0), c51 = av.mul(b1);
        for (int p = 1; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * MR;
            b0 = FloatVector.fromArray(F, b, bi);
            b1 = FloatVector.fromArray(F, b, bi + L);
            av = FloatVector.broadcast(F, a[ai]);
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
        // Write-back. Everything stays in this one method on purpose: passing vectors to a method
        // the JIT does not inline, or merging them from two branches, makes C2 box them on the heap.
        long r1 = 4 * ldc;
        long r2 = 2 * r1, r3 = 3 * r1, r4 = 4 * r1, r5 = 5 * r1;
        long h = 4L * L;
        if (add) {
            c00.add(FloatVector.fromMemorySegment(F, c, cByte, NATIVE)).intoMemorySegment(c, cByte, NATIVE);
            c01.add(FloatVector.fromMemorySegment(F, c, cByte + h, NATIVE)).intoMemorySegment(c, cByte + h, NATIVE);
            c10.add(FloatVector.fromMemorySegment(F, c, cByte + r1, NATIVE)).intoMemorySegment(c, cByte + r1, NATIVE);
            c11.add(FloatVector.fromMemorySegment(F, c, cByte + r1 + h, NATIVE)).intoMemorySegment(c, cByte + r1 + h, NATIVE);
            c20.add(FloatVector.fromMemorySegment(F, c, cByte + r2, NATIVE)).intoMemorySegment(c, cByte + r2, NATIVE);
            c21.add(FloatVector.fromMemorySegment(F, c, cByte + r2 + h, NATIVE)).intoMemorySegment(c, cByte + r2 + h, NATIVE);
            c30.add(FloatVector.fromMemorySegment(F, c, cByte + r3, NATIVE)).intoMemorySegment(c, cByte + r3, NATIVE);
            c31.add(FloatVector.fromMemorySegment(F, c, cByte + r3 + h, NATIVE)).intoMemorySegment(c, cByte + r3 + h, NATIVE);
            c40.add(FloatVector.fromMemorySegment(F, c, cByte + r4, NATIVE)).intoMemorySegment(c, cByte + r4, NATIVE);
            c41.add(FloatVector.fromMemorySegment(F, c, cByte + r4 + h, NATIVE)).intoMemorySegment(c, cByte + r4 + h, NATIVE);
            c50.add(FloatVector.fromMemorySegment(F, c, cByte + r5, NATIVE)).intoMemorySegment(c, cByte + r5, NATIVE);
            c51.add(FloatVector.fromMemorySegment(F, c, cByte + r5 + h, NATIVE)).intoMemorySegment(c, cByte + r5 + h, NATIVE);
        } else {
            c00.intoMemorySegment(c, cByte, NATIVE);
            c01.intoMemorySegment(c, cByte + h, NATIVE);
            c10.intoMemorySegment(c, cByte + r1, NATIVE);
            c11.intoMemorySegment(c, cByte + r1 + h, NATIVE);
            c20.intoMemorySegment(c, cByte + r2, NATIVE);
            c21.intoMemorySegment(c, cByte + r2 + h, NATIVE);
            c30.intoMemorySegment(c, cByte + r3, NATIVE);
            c31.intoMemorySegment(c, cByte + r3 + h, NATIVE);
            c40.intoMemorySegment(c, cByte + r4, NATIVE);
            c41.intoMemorySegment(c, cByte + r4 + h, NATIVE);
            c50.intoMemorySegment(c, cByte + r5, NATIVE);
            c51.intoMemorySegment(c, cByte + r5 + h, NATIVE);
        }
    }
}
