package dev.lora4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp over float arrays, built from plain IEEE operations (add, mul, fma, bit shifts).
 *
 * <p>Not {@code lanewise(EXP)}: C2 maps it to a vector math library whose results differ in the
 * last bits from the Java fallback the interpreter runs, so the same computation gave different
 * bits before and after JIT compilation and seeded training runs were not reproducible. This
 * version gives the same bits in every execution mode.
 *
 * <p>Method: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-7 Taylor
 * polynomial (truncation error r⁸/8! ≤ 6e-9, below float precision), 2ⁿ built in the exponent
 * bits. Measured error ≤ 2 ulp; inputs below −87.33 give 0, above 88.37 give +∞, NaN stays NaN.
 *
 * <p>Why an array in, array out loop and not a function of a vector: a vector passed to (or
 * returned from) one of our own methods stays in registers only if C2 inlines that method, and
 * for a 267-byte function it decides that by heuristics (call-site frequency, whether the
 * callee already has a large compiled body, how much the caller has inlined already) that
 * depend on the order of background compilations. When it declined, every vector crossing the
 * call was allocated on the heap (with {@code -XX:CompileCommand=dontinline} for our classes, the
 * worst case: 1.5-4.7 MB per call of an exp-based kernel on [64, 1376] before, 0.53 MB now). Here
 * the whole computation is one loop in one method that calls only the JDK's always-inlined vector
 * methods, so no inlining decision of ours is involved; the kernels that need exp write its
 * argument into a scratch row, call this, and read the result back (rows are a few KiB: the extra
 * passes stay in L1). This alone does not make the JIT flags unnecessary: see tools/find-jdk25.sh.
 */
final class VecMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;   // ln 2 with its low bits cleared: n·LN2_HI is exact
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    private static final float ROUND_MAGIC = 12582912f;       // 1.5·2²³: adding it rounds to an integer
    private static final float MIN_ARG = -87.33f;
    private static final float MAX_ARG = 88.37f;

    private VecMath() {}

    /**
     * a[at + i] = exp(a[at + i]) for i in [0, n); {@code n} must be a multiple of the vector length
     * (callers pass {@code S.loopBound(length)} and handle the rest with {@code Math.exp}).
     */
    static void expInPlace(float[] a, int at, int n) {
        if (n % L != 0) {
            throw new IllegalArgumentException("expInPlace: " + n + " is not a multiple of the vector length " + L);
        }
        for (int i = 0; i < n; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, at + i);
            FloatVector c = x.max(MIN_ARG).min(MAX_ARG);
            FloatVector t = c.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HI), c);
            r = k.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(S, 1f / 5040f);
            p = p.fma(r, FloatVector.broadcast(S, 1f / 720f));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 120f));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 24f));
            p = p.fma(r, FloatVector.broadcast(S, 1f / 6f));
            p = p.fma(r, FloatVector.broadcast(S, 0.5f));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            IntVector bits = k.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats());
            e = e.blend(0f, x.compare(VectorOperators.LT, MIN_ARG));
            e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, MAX_ARG));
            e.blend(x, x.test(VectorOperators.IS_NAN)).intoArray(a, at + i);
        }
    }
}
