package dev.lora4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small dense products blocked attention is made of, on float[] scratch tiles:
 * {@code C[m, n] += A[m, k]·B[k, n]} where B and C have contiguous rows and A is read through a row
 * and a column stride, so the same routine also computes {@code Aᵀ·B} (for dK and dV in backward).
 *
 * <p>Register blocking: four rows of C by two vectors of columns are accumulated over all of k, so
 * each loaded B vector feeds four FMAs and each broadcast A element two. This is what turns the
 * per-key dot products and axpys of a row-at-a-time attention (one load per FMA) into compute-bound
 * work.
 *
 * <p>Every element of C, in whichever register block or scalar tail it falls, is one chain of fused
 * multiply-adds over p in order, starting from zero. So an element's value does not depend on m, n or
 * its place in the tile: a query's scores come out the same whether it attends to 6 keys in a small
 * decode step or sits in a 32-row prefill block that sees 40.
 */
final class AttentionTiles {
    private AttentionTiles() {}

    private static final VectorSpecies<Float> S = Vec.S;
    private static final int L = Vec.L;

    /**
     * C[i, j] += Σ_p A(i, p)·B[p, j] for i < m, j < n, p < k, with A(i, p) = a[aOff + i·aRs + p·aCs],
     * B[p, j] = b[bOff + p·bRs + j], C[i, j] = c[cOff + i·cRs + j].
     */
    static void mulAdd(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs,
                       float[] c, int cOff, int cRs, int m, int n, int k) {
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int a0 = aOff + i * aRs;
            int a1 = a0 + aRs;
            int a2 = a1 + aRs;
            int a3 = a2 + aRs;
            int j = 0;
            for (; j + 2 * L <= n; j += 2 * L) {
                FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
                FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
                FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
                FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
                int bp = bOff + j;
                int ap = 0;
                for (int p = 0; p < k; p++, bp += bRs, ap += aCs) {
                    FloatVector b0 = FloatVector.fromArray(S, b, bp);
                    FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
                    FloatVector x0 = FloatVector.broadcast(S, a[a0 + ap]);
                    c00 = b0.fma(x0, c00);
                    c01 = b1.fma(x0, c01);
                    FloatVector x1 = FloatVector.broadcast(S, a[a1 + ap]);
                    c10 = b0.fma(x1, c10);
                    c11 = b1.fma(x1, c11);
                    FloatVector x2 = FloatVector.broadcast(S, a[a2 + ap]);
                    c20 = b0.fma(x2, c20);
                    c21 = b1.fma(x2, c21);
                    FloatVector x3 = FloatVector.broadcast(S, a[a3 + ap]);
                    c30 = b0.fma(x3, c30);
                    c31 = b1.fma(x3, c31);
                }
                int r = cOff + i * cRs + j;
                addInto(c00, c, r);
                addInto(c01, c, r + L);
                addInto(c10, c, r + cRs);
                addInto(c11, c, r + cRs + L);
                addInto(c20, c, r + 2 * cRs);
                addInto(c21, c, r + 2 * cRs + L);
                addInto(c30, c, r + 3 * cRs);
                addInto(c31, c, r + 3 * cRs + L);
            }
            for (; j + L <= n; j += L) {
                FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
                FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
                int bp = bOff + j;
                int ap = 0;
                for (int p = 0; p < k; p++, bp += bRs, ap += aCs) {
                    FloatVector b0 = FloatVector.fromArray(S, b, bp);
                    c0 = b0.fma(FloatVector.broadcast(S, a[a0 + ap]), c0);
                    c1 = b0.fma(FloatVector.broadcast(S, a[a1 + ap]), c1);
                    c2 = b0.fma(FloatVector.broadcast(S, a[a2 + ap]), c2);
                    c3 = b0.fma(FloatVector.broadcast(S, a[a3 + ap]), c3);
                }
                int r = cOff + i * cRs + j;
                addInto(c0, c, r);
                addInto(c1, c, r + cRs);
                addInto(c2, c, r + 2 * cRs);
                addInto(c3, c, r + 3 * cRs);
            }
            for (; j < n; j++) {
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int bp = bOff + j;
                int ap = 0;
                for (int p = 0; p < k; p++, bp += bRs, ap += aCs) {
                    float bv = b[bp];
                    s0 = Math.fma(a[a0 + ap], bv, s0);
                    s1 = Math.fma(a[a1 + ap], bv, s1);
                    s2 = Math.fma(a[a2 + ap], bv, s2);
                    s3 = Math.fma(a[a3 + ap], bv, s3);
                }
                int r = cOff + i * cRs + j;
                c[r] += s0;
                c[r + cRs] += s1;
                c[r + 2 * cRs] += s2;
                c[r + 3 * cRs] += s3;
            }
        }
        for (; i < m; i++) {
            int a0 = aOff + i * aRs;
            int j = 0;
            for (; j + L <= n; j += L) {
                FloatVector c0 = FloatVector.zero(S);
                int bp = bOff + j;
                int ap = 0;
                for (int p = 0; p < k; p++, bp += bRs, ap += aCs) {
                    c0 = FloatVector.fromArray(S, b, bp).fma(FloatVector.broadcast(S, a[a0 + ap]), c0);
                }
                addInto(c0, c, cOff + i * cRs + j);
            }
            for (; j < n; j++) {
                float s0 = 0;
                int bp = bOff + j;
                int ap = 0;
                for (int p = 0; p < k; p++, bp += bRs, ap += aCs) {
                    s0 = Math.fma(a[a0 + ap], b[bp], s0);
                }
                c[cOff + i * cRs + j] += s0;
            }
        }
    }

    private static void addInto(FloatVector v, float[] c, int at) {
        v.add(FloatVector.fromArray(S, c, at)).intoArray(c, at);
    }
}
