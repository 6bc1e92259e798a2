package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The bit-reproducible vector exp/tanh against Math.exp/Math.tanh (computed in double, rounded). */
class VecMathTest {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Test
    void expIsWithinTwoUlpsAndHandlesTheEdges() {
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[S.length()];
        float[] y = new float[S.length()];
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rng.nextDouble() * 180 - 90);
            }
            VecMath.exp(FloatVector.fromArray(S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                float expected = (float) Math.exp(x[i]);
                if (x[i] < -87.33f) {
                    assertThat(y[i]).isZero();
                } else if (x[i] > 88.37f) {
                    assertThat(y[i]).isEqualTo(Float.POSITIVE_INFINITY);
                } else if (expected >= Float.MIN_NORMAL) {
                    assertThat(Math.abs(y[i] - expected)).as("exp(%s)", x[i]).isLessThanOrEqualTo(2 * Math.ulp(expected));
                }
            }
        }
        float[] edges = new float[S.length()];
        edges[0] = Float.NEGATIVE_INFINITY;
        edges[1] = Float.NaN;
        edges[2] = 0f;
        if (edges.length > 3) {
            edges[3] = Float.POSITIVE_INFINITY;
        }
        VecMath.exp(FloatVector.fromArray(S, edges, 0)).intoArray(y, 0);
        assertThat(y[0]).isZero();
        assertThat(y[1]).isNaN();
        assertThat(y[2]).isEqualTo(1f);
        if (edges.length > 3) {
            assertThat(y[3]).isEqualTo(Float.POSITIVE_INFINITY);
        }
    }

    @Test
    void tanhIsAccurateAndOdd() {
        float[] x = new float[S.length()];
        float[] y = new float[S.length()];
        for (float start = -12f; start < 12f; start += 0.37f * S.length()) {
            for (int i = 0; i < x.length; i++) {
                x[i] = start + 0.37f * i;
            }
            VecMath.tanh(FloatVector.fromArray(S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                assertThat((double) y[i]).as("tanh(%s)", x[i]).isCloseTo(Math.tanh(x[i]), org.assertj.core.api.Assertions.within(3e-7));
            }
        }
    }
}
