package dev.lora4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp and tanh on float vectors from plain IEEE operations (add, mul, fma, bit shifts).
 *
 * <p>Not {@code lanewise(EXP)} / {@code lanewise(TANH)}: C2 maps those to a vector math library
 * whose results differ in the last bits from the Java fallback the interpreter runs, so the same
 * computation gave different bits before and after JIT compilation and seeded training runs were
 * not reproducible. These versions give the same bits in every execution mode.
 *
 * <p>exp: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-7 Taylor
 * polynomial (truncation error r⁸/8! ≤ 6e-9, below float precision), 2ⁿ built in the exponent
 * bits. Measured error ≤ 2 ulp; inputs below −87.33 give 0, above 88.37 give +∞.
 */
final class VecMath {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;   // ln 2 with its low bits cleared: n·LN2_HI is exact
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    private static final float ROUND_MAGIC = 12582912f;       // 1.5·2²³: adding it rounds to an integer
    private static final float MIN_ARG = -87.33f;
    private static final float MAX_ARG = 88.37f;

    private VecMath() {}

    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector t = c.fma(LOG2E, ROUND_MAGIC);
        FloatVector n = t.sub(ROUND_MAGIC);
        FloatVector r = n.fma(c.broadcast(-LN2_HI), c);
        r = n.fma(c.broadcast(-LN2_LO), r);
        FloatVector p = FloatVector.broadcast(x.species(), 1f / 5040f);
        p = p.fma(r, r.broadcast(1f / 720f));
        p = p.fma(r, r.broadcast(1f / 120f));
        p = p.fma(r, r.broadcast(1f / 24f));
        p = p.fma(r, r.broadcast(1f / 6f));
        p = p.fma(r, r.broadcast(0.5f));
        p = p.fma(r, r.broadcast(1f));
        p = p.fma(r, r.broadcast(1f));
        IntVector bits = n.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        FloatVector e = p.mul(scale);
        e = e.blend(0f, x.compare(VectorOperators.LT, MIN_ARG));
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, MAX_ARG));
        return e.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)); saturates to ±1 for |x| > 9 (float precision). */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs().min(9f);
        FloatVector e = exp(a.mul(2f));
        FloatVector t = FloatVector.broadcast(x.species(), 1f).sub(FloatVector.broadcast(x.species(), 2f).div(e.add(1f)));
        t = t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
        return t.blend(x, x.test(VectorOperators.IS_NAN));
    }
}
