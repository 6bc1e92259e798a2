package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The bit-reproducible vector exp against Math.exp (computed in double, rounded). */
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
            System.arraycopy(x, 0, y, 0, x.length);
            VecMath.expInPlace(y, 0, y.length);
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
        System.arraycopy(edges, 0, y, 0, edges.length);
        VecMath.expInPlace(y, 0, y.length);
        assertThat(y[0]).isZero();
        assertThat(y[1]).isNaN();
        assertThat(y[2]).isEqualTo(1f);
        if (edges.length > 3) {
            assertThat(y[3]).isEqualTo(Float.POSITIVE_INFINITY);
        }
    }

    @Test
    void expWorksAtAnOffsetAndLeavesTheRestAlone() {
        int l = S.length();
        float[] a = new float[3 * l + 1];
        for (int i = 0; i < a.length; i++) {
            a[i] = 0.25f * i - 3f;
        }
        float[] before = a.clone();
        VecMath.expInPlace(a, 1, 2 * l);
        assertThat(a[0]).isEqualTo(before[0]);
        for (int i = 1; i <= 2 * l; i++) {
            assertThat((double) a[i]).isCloseTo(Math.exp(before[i]), org.assertj.core.api.Assertions.within(2.5e-7 * Math.exp(before[i])));
        }
        for (int i = 2 * l + 1; i < a.length; i++) {
            assertThat(a[i]).isEqualTo(before[i]);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VecMath.expInPlace(a, 0, l + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
