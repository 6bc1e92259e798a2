package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.fail;

import java.util.function.DoubleSupplier;

/**
 * Finite-difference gradient checker for float kernels.
 *
 * <p>For each parameter x_i it evaluates the scalar loss at x_i ± h (the float-rounded steps,
 * so the actual step is used in the quotient) and compares the central difference
 * (L(x + h) − L(x − h)) / (2h) with the analytic gradient:
 * |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
 *
 * <p>Error budget: the kernels compute in float, so each loss evaluation carries rounding noise
 * of about 1e-7 relative per output element; over N outputs of size ~1 with random weights that
 * is ~√N·1e-7, divided by 2h = 2e-3 → ~1e-4·√(N/100) in the quotient. The truncation error of
 * the central difference is h²/6·|L'''| ~ 2e-7 for smooth O(1) functions. Tests therefore use
 * h = 1e-3 with rtol = 1e-2 and atol = 2e-3 unless they say otherwise: an order of magnitude
 * above the noise, and far below the size of any real mistake (a wrong sign, a missing term or
 * a transposed index changes gradients by O(1)).
 */
final class GradCheck {
    private GradCheck() {}

    static final double H = 1e-3;
    static final double RTOL = 1e-2;
    static final double ATOL = 2e-3;

    static void check(String name, float[] x, DoubleSupplier loss, float[] analytic) {
        check(name, x, loss, analytic, H, RTOL, ATOL);
    }

    /** Perturbs {@code x} in place (restoring it) and compares against {@code analytic}. */
    static void check(String name, float[] x, DoubleSupplier loss, float[] analytic, double h, double rtol, double atol) {
        if (analytic.length != x.length) {
            fail(name + ": analytic gradient has " + analytic.length + " entries for " + x.length + " parameters");
        }
        int checked = 0;
        for (int i = 0; i < x.length; i++) {
            float x0 = x[i];
            float xp = (float) (x0 + h);
            float xm = (float) (x0 - h);
            x[i] = xp;
            double lp = loss.getAsDouble();
            x[i] = xm;
            double lm = loss.getAsDouble();
            x[i] = x0;
            double numeric = (lp - lm) / ((double) xp - xm);
            double a = analytic[i];
            double err = Math.abs(a - numeric);
            if (!(err <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)))) {
                fail(String.format("%s: gradient[%d] analytic %.6g vs finite difference %.6g (error %.3g)", name, i, a, numeric, err));
            }
            checked++;
        }
        if (checked == 0) {
            fail(name + ": nothing checked");
        }
    }

    /** Σ w_i·y_i in double: a random linear functional, whose gradient w.r.t. y is w. */
    static double dot(float[] w, float[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (double) w[i] * y[i];
        }
        return s;
    }
}
