package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class ErfTest {

    /**
     * Reference erf in double from the series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)),
     * whose terms are all positive (no cancellation); relative accuracy ~1e-15 for |x| ≤ 6.
     */
    static double erfSeries(double x) {
        double term = x;
        double sum = x;
        for (int n = 1; n < 400; n++) {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
            if (Math.abs(term) < 1e-17 * Math.abs(sum)) {
                break;
            }
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
    }

    /**
     * Reference erfc(z) for z ≥ 2 in double from the continued fraction
     * erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated bottom-up
     * with many terms; converges to double precision for z ≥ 2.
     */
    static double erfcContinuedFraction(double z) {
        double f = z;
        for (int n = 200; n >= 1; n--) {
            f = z + (n / 2.0) / f;
        }
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
    }

    @Test
    void erfMatchesTheSeriesWithinItsStatedAbsoluteError() {
        double worst = 0;
        for (double x = -6; x <= 6; x += 1.0 / 512) {
            float xf = (float) x;
            worst = Math.max(worst, Math.abs(Erf.erf(xf) - erfSeries(xf)));
        }
        // stated: 1.2e-7 from the approximation plus half a float ulp at 1 (6e-8) for rounding
        assertThat(worst).isLessThan(1.9e-7);
    }

    @Test
    void erfcKeepsRelativeAccuracyInTheTail() {
        double worst = 0;
        for (double z = 0; z <= 9; z += 1.0 / 256) {
            float zf = (float) z;
            double ref = zf < 2 ? 1 - erfSeries(zf) : erfcContinuedFraction(zf);
            worst = Math.max(worst, Math.abs(Erf.erfc(zf) - ref) / ref);
        }
        // stated: 1.2e-7 relative from the approximation plus one float rounding (6e-8)
        assertThat(worst).isLessThan(1.9e-7);
        // negative arguments: erfc(−z) = 2 − erfc(z) ∈ (1, 2]
        assertThat((double) Erf.erfc(-1.5f)).isCloseTo(1 + erfSeries(1.5), org.assertj.core.data.Offset.offset(2.5e-7));
    }

    @Test
    void referencesAgreeWhereTheyOverlap() {
        // the two references are independent formulas: they must agree at z = 2..3
        for (double z = 2; z <= 3; z += 0.125) {
            assertThat(Math.abs(1 - erfSeries(z) - erfcContinuedFraction(z)) / erfcContinuedFraction(z)).isLessThan(1e-10);
        }
    }

    @Test
    void vectorErfcStaysWithinAFewUlpsOfTheScalar() {
        int n = Vec.L * 64;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -9f + 18f * i / n;
        }
        float[] out = new float[n];
        Erf.erfc(x, 0, out, 0, n);
        float[] inPlace = x.clone();
        Erf.erfc(inPlace, 0, inPlace, 0, n);
        assertThat(inPlace).as("out may be x").containsExactly(out);
        for (int i = 0; i < n; i++) {
            float s = Erf.erfc(x[i]);
            // float evaluation of the polynomial, the division and two exps: a few ulps (≤ 1e-6 relative)
            assertThat((double) Math.abs(out[i] - s)).as("x=%s", x[i]).isLessThanOrEqualTo(1e-6 * Math.abs(s) + Float.MIN_NORMAL);
        }
    }
}
