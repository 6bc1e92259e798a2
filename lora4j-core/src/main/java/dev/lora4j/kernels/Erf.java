package dev.lora4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The error function, which Java's {@code Math} lacks; exact GELU needs it.
 *
 * <p>Method: the Chebyshev-fitted form erfc(z) = t·exp(−z² + P(t)) with t = 1/(1 + z/2) and a
 * degree-9 polynomial P (Press et al., Numerical Recipes, §6.2). Its relative error is below
 * 1.2·10⁻⁷ for every z ≥ 0, so erfc keeps full float relative accuracy far into its tail and
 * erf = 1 − erfc has absolute error below 1.2·10⁻⁷ (a little more than one float ulp at 1).
 * Negative arguments use erfc(−z) = 2 − erfc(z). The scalar methods evaluate in double and round
 * once; {@link #erfc(FloatVector)} evaluates in float and splits z² exactly (z² = hi + lo with
 * an FMA) so that the large exponent −z² costs no accuracy: it stays within a few float ulps of
 * the scalar version (tested).
 */
public final class Erf {
    private Erf() {}

    // P(t) coefficients, constant term first.
    private static final double[] P = {
        -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
        0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277
    };

    /** erfc(x) = 1 − erf(x), relative error below 1.2e-7 plus one float rounding. */
    public static float erfc(float x) {
        double z = Math.abs((double) x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = P[9];
        for (int i = 8; i >= 0; i--) {
            poly = poly * t + P[i];
        }
        double r = t * Math.exp(-z * z + poly);
        return (float) (x >= 0 ? r : 2.0 - r);
    }

    /** erf(x), absolute error below 1.2e-7 plus one float rounding. */
    public static float erf(float x) {
        return (float) (1.0 - (double) erfc(Math.abs(x))) * Math.signum(x);
    }

    /**
     * out[outAt + i] = erfc(x[xAt + i]) for i in [0, n), in float arithmetic (see the class comment
     * for accuracy); {@code n} must be a multiple of the vector length, {@code out} may be
     * {@code x}. Three passes over this thread's scratch rows, with the two exponentials in between
     * done by {@link VecMath#expInPlace} (why no vector crosses a call: see {@link VecMath}).
     */
    static void erfc(float[] x, int xAt, float[] out, int outAt, int n) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        float[] tRow = ThreadScratch.floats(ThreadScratch.Slot.ERF_T, n);
        float[] e1 = ThreadScratch.floats(ThreadScratch.Slot.ERF_EXP1, n);
        float[] e2 = ThreadScratch.floats(ThreadScratch.Slot.ERF_EXP2, n);
        for (int i = 0; i < n; i += s.length()) {
            FloatVector z = FloatVector.fromArray(s, x, xAt + i).abs();
            FloatVector t = FloatVector.broadcast(s, 1f).div(z.fma(0.5f, 1f));
            FloatVector poly = FloatVector.broadcast(s, P9);
            poly = poly.fma(t, FloatVector.broadcast(s, P8));
            poly = poly.fma(t, FloatVector.broadcast(s, P7));
            poly = poly.fma(t, FloatVector.broadcast(s, P6));
            poly = poly.fma(t, FloatVector.broadcast(s, P5));
            poly = poly.fma(t, FloatVector.broadcast(s, P4));
            poly = poly.fma(t, FloatVector.broadcast(s, P3));
            poly = poly.fma(t, FloatVector.broadcast(s, P2));
            poly = poly.fma(t, FloatVector.broadcast(s, P1));
            poly = poly.fma(t, FloatVector.broadcast(s, P0));
            FloatVector hi = z.mul(z);
            FloatVector lo = z.fma(z, hi.neg());               // z*z - hi exactly
            t.intoArray(tRow, i);
            hi.neg().intoArray(e1, i);
            poly.sub(lo).intoArray(e2, i);
        }
        VecMath.expInPlace(e1, 0, n);
        VecMath.expInPlace(e2, 0, n);
        for (int i = 0; i < n; i += s.length()) {
            FloatVector r = FloatVector.fromArray(s, tRow, i).mul(FloatVector.fromArray(s, e1, i)).mul(FloatVector.fromArray(s, e2, i));
            FloatVector v = FloatVector.fromArray(s, x, xAt + i);
            r.blend(r.neg().add(2f), v.compare(VectorOperators.LT, 0f)).intoArray(out, outAt + i);
        }
    }

    // P in float for the vector form, as constants (an array element would be reloaded every
    // iteration: the loop stores to float[]s that could, as far as the JIT knows, be that array)
    private static final float P0 = (float) P[0], P1 = (float) P[1], P2 = (float) P[2], P3 = (float) P[3],
            P4 = (float) P[4], P5 = (float) P[5], P6 = (float) P[6], P7 = (float) P[7], P8 = (float) P[8],
            P9 = (float) P[9];
}
