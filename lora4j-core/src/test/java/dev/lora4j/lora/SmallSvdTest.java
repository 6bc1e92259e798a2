package dev.lora4j.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The small SVDs behind the svd combination, checked by their defining properties. */
class SmallSvdTest {
    static double[] random(SplittableRandom rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextGaussian();
        }
        return x;
    }

    static double[] multiply(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) {
                    s += a[i * k + t] * b[t * n + j];
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    @Test
    void jacobiReconstructsWithOrthonormalFactorsAndDescendingValues() {
        SplittableRandom rng = new SplittableRandom(3);
        int m = 9;
        int n = 6;
        double[] a = random(rng, m * n);
        SmallSvd.Svd svd = SmallSvd.jacobi(a, m, n);
        for (int j = 1; j < n; j++) {
            assertThat(svd.s()[j]).isLessThanOrEqualTo(svd.s()[j - 1]);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < n; t++) {
                    s += svd.u()[i * n + t] * svd.s()[t] * svd.v()[j * n + t];
                }
                assertThat(s).isCloseTo(a[i * n + j], within(1e-12));
            }
        }
        for (int p = 0; p < n; p++) {
            for (int q = 0; q < n; q++) {
                double uu = 0;
                double vv = 0;
                for (int i = 0; i < m; i++) {
                    uu += svd.u()[i * n + p] * svd.u()[i * n + q];
                }
                for (int i = 0; i < n; i++) {
                    vv += svd.v()[i * n + p] * svd.v()[i * n + q];
                }
                assertThat(uu).isCloseTo(p == q ? 1 : 0, within(1e-12));
                assertThat(vv).isCloseTo(p == q ? 1 : 0, within(1e-12));
            }
        }
    }

    /** Eckart-Young: the truncated product equals the best rank-r approximation of the full product. */
    @Test
    void truncatedProductIsTheBestLowRankApproximation() {
        SplittableRandom rng = new SplittableRandom(4);
        int m = 12;
        int k = 5;
        int n = 8;
        double[] l = random(rng, m * k);
        double[] r = random(rng, k * n);
        double[] full = multiply(l, r, m, k, n);
        SmallSvd.Svd reference = SmallSvd.jacobi(full, m, n);
        for (int rank : new int[] {1, 3, 5, 7}) {
            SmallSvd.Factors f = SmallSvd.truncatedProduct(l, r, m, k, n, rank);
            double[] approx = multiply(f.b(), f.a(), m, rank, n);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double best = 0;
                    for (int t = 0; t < Math.min(rank, n); t++) {
                        best += reference.u()[i * n + t] * reference.s()[t] * reference.v()[j * n + t];
                    }
                    assertThat(approx[i * n + j]).as("rank %d [%d,%d]", rank, i, j).isCloseTo(best, within(1e-9));
                }
            }
            for (int t = 0; t < Math.min(rank, k); t++) {
                assertThat(f.singularValues()[t]).isCloseTo(reference.s()[t], within(1e-9));
            }
        }
    }

    @Test
    void rankDeficientFactorsStillReconstruct() {
        SplittableRandom rng = new SplittableRandom(6);
        int m = 7;
        int n = 5;
        double[] l = random(rng, m * 3);
        for (int i = 0; i < m; i++) {  // third column = first: rank 2
            l[i * 3 + 2] = l[i * 3];
        }
        double[] r = random(rng, 3 * n);
        SmallSvd.Factors f = SmallSvd.truncatedProduct(l, r, m, 3, n, 3);
        double[] full = multiply(l, r, m, 3, n);
        double[] approx = multiply(f.b(), f.a(), m, 3, n);
        for (int i = 0; i < full.length; i++) {
            assertThat(approx[i]).isCloseTo(full[i], within(1e-10));
        }
        assertThat(f.singularValues()[2]).isCloseTo(0, within(1e-10));
    }
}
