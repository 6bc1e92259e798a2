package dev.lora4j.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lora4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossAndMetricsTest {
    @Test
    void weightedCrossEntropyMatchesItsDefinitionAndFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(3);
        int b = 5;
        int k = 3;
        float[] z = new float[b * k];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (rng.nextGaussian() * 2);
        }
        int[] y = {0, 2, 1, 1, 0};
        float[] w = {0.5f, 2f, 1.25f};
        Tensor logits = Tensor.of(z.clone(), b, k);
        Tensor d = Tensor.zeros(b, k);
        double loss = WeightedCrossEntropy.forwardBackward(logits, y, w, d);
        // Definition, written out independently: Σ w_y·(logsumexp(z) − z_y) / Σ w_y.
        double num = 0;
        double den = 0;
        for (int r = 0; r < b; r++) {
            double lse = 0;
            for (int c = 0; c < k; c++) {
                lse += Math.exp(z[r * k + c]);
            }
            num += w[y[r]] * (Math.log(lse) - z[r * k + y[r]]);
            den += w[y[r]];
        }
        assertThat(loss).isCloseTo(num / den, within(1e-9));
        // Central differences in double on the float logits; step 1e-3 keeps truncation error ~1e-7,
        // float rounding of the logits (~1e-7 relative) bounds the rest: 1e-5 absolute is ample.
        double h = 1e-3;
        for (int i = 0; i < z.length; i++) {
            float[] plus = z.clone();
            float[] minus = z.clone();
            plus[i] += (float) h;
            minus[i] -= (float) h;
            double lp = WeightedCrossEntropy.forwardBackward(Tensor.of(plus, b, k), y, w, null);
            double lm = WeightedCrossEntropy.forwardBackward(Tensor.of(minus, b, k), y, w, null);
            double fd = (lp - lm) / (plus[i] - minus[i]);
            assertThat((double) d.getFlat(i)).as("dz[%d]", i).isCloseTo(fd, within(1e-5));
        }
        // Unweighted: the plain mean over the batch.
        double plain = WeightedCrossEntropy.forwardBackward(logits, y, null, null);
        double ref = 0;
        for (int r = 0; r < b; r++) {
            double lse = 0;
            for (int c = 0; c < k; c++) {
                lse += Math.exp(z[r * k + c]);
            }
            ref += Math.log(lse) - z[r * k + y[r]];
        }
        assertThat(plain).isCloseTo(ref / b, within(1e-9));
    }

    @Test
    void balancedClassWeightsFollowScikitLearn() {
        // n / (K · count): 3 classes, counts 6, 3, 1 of n = 10.
        float[] w = ClassWeights.parse("balanced", new long[] {6, 3, 1});
        assertThat(w[0]).isCloseTo(10f / 18, within(1e-6f));
        assertThat(w[1]).isCloseTo(10f / 9, within(1e-6f));
        assertThat(w[2]).isCloseTo(10f / 3, within(1e-6f));
        assertThat(ClassWeights.parse("1, 4.5", new long[] {1, 1})).containsExactly(1f, 4.5f);
        assertThat(ClassWeights.parse(null, new long[] {1, 1})).isNull();
        assertThatThrownBy(() -> ClassWeights.parse("1,2,3", new long[] {1, 1})).hasMessageContaining("3 values for 2 classes");
        assertThatThrownBy(() -> ClassWeights.parse("1,-2", new long[] {1, 1})).hasMessageContaining("positive");
        assertThatThrownBy(() -> ClassWeights.parse("balanced", new long[] {4, 0})).hasMessageContaining("class 1");
    }

    @Test
    void metricsOfAKnownConfusionMatrix() {
        // truth / predicted for 3 classes; confusion rows = truth:
        //   a: [2 1 0]   b: [0 3 1]   c: [1 0 0]
        int[] truth = {0, 0, 0, 1, 1, 1, 1, 2};
        int[] pred = {0, 0, 1, 1, 1, 1, 2, 0};
        ClassificationMetrics m = ClassificationMetrics.of(List.of("a", "b", "c"), truth, pred);
        assertThat(m.confusion()).isEqualTo(new long[][] {{2, 1, 0}, {0, 3, 1}, {1, 0, 0}});
        assertThat(m.accuracy()).isEqualTo(5.0 / 8);
        // a: P = 2/3, R = 2/3, F1 = 2/3. b: P = 3/4, R = 3/4, F1 = 3/4. c: P = 0 (never right), F1 = 0.
        assertThat(m.f1(0)).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(m.f1(1)).isCloseTo(0.75, within(1e-12));
        assertThat(m.f1(2)).isZero();
        assertThat(m.macroF1()).isCloseTo((2.0 / 3 + 0.75) / 3, within(1e-12));
        assertThat(m.table()).contains("true \\ pred").contains("precision").contains("recall");
        assertThat(m.toMap()).containsKeys("accuracy", "macro_f1", "confusion_matrix", "per_class");
    }
}
