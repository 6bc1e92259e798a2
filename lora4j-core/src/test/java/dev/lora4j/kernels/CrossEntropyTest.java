package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {

    @Test
    void vectorMatchesScalarWithIgnoredRows() {
        Random rnd = new Random(12);
        for (int v : TestData.widths()) {
            int rows = 4;
            Tensor logits = TestData.rowView(rnd, rows, v);
            int[] targets = {v - 1, CrossEntropy.IGNORE_INDEX, 0, v / 2};
            Tensor d = TestData.rowView(rnd, rows, v);
            Tensor dRef = Tensor.zeros(rows, v);
            double loss = CrossEntropy.forwardBackward(logits, targets, d, 0.25f);
            double lossRef = CrossEntropyScalar.forwardBackward(logits, targets, dRef, 0.25f);
            assertThat(loss).isCloseTo(lossRef, Offset.offset(1e-5 * (1 + Math.abs(lossRef))));
            TestData.assertClose("dlogits v=" + v, dRef, d, 1e-5, 1e-7);
            for (int i = 0; i < v; i++) {
                assertThat(d.get(1, i)).isZero();  // the ignored row
            }
            assertThat(CrossEntropy.forwardBackward(logits, targets, null, 1f)).isCloseTo(loss, Offset.offset(1e-6));
        }
    }

    @Test
    void lossByHandAndStableForHugeLogits() {
        // logits (0, ln 3): p = (1/4, 3/4); target 1 → loss = −ln(3/4)
        Tensor l = Tensor.of(new float[] {0f, (float) Math.log(3)}, 1, 2);
        assertThat(CrossEntropy.forwardBackward(l, new int[] {1}, null, 1f)).isCloseTo(-Math.log(0.75), Offset.offset(1e-6));
        // shifting all logits by 1e4 must not change anything (and must not overflow)
        Tensor big = Tensor.of(new float[] {1e4f, 1e4f + 1f}, 1, 2);
        Tensor d = Tensor.zeros(1, 2);
        double loss = CrossEntropy.forwardBackward(big, new int[] {0}, d, 1f);
        assertThat(loss).isCloseTo(Math.log(1 + Math.E), Offset.offset(1e-5));
        assertThat((double) d.get(0, 0)).isCloseTo(1 / (1 + Math.E) - 1, Offset.offset(1e-6));
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random rnd = new Random(13);
        int rows = 3;
        int v = Vec.L + 7;
        float[] x = TestData.gaussian(rnd, rows * v, 2);
        int[] targets = {3, CrossEntropy.IGNORE_INDEX, v - 1};
        Tensor xt = Tensor.of(x, rows, v);
        Tensor d = Tensor.zeros(rows, v);
        float scale = 0.5f;  // mean over the 2 counted rows
        CrossEntropy.forwardBackward(xt, targets, d, scale);
        GradCheck.check("cross-entropy", x, () -> scale * CrossEntropy.forwardBackward(xt, targets, null, 1f), d.toFloatArray());
    }

    @Test
    void gradientMayOverwriteTheLogits() {
        Random rnd = new Random(14);
        Tensor x = Tensor.of(TestData.gaussian(rnd, 2 * 37, 1), 2, 37);
        Tensor d = Tensor.zeros(2, 37);
        double expected = CrossEntropy.forwardBackward(x, new int[] {5, 6}, d, 1f);
        assertThat(CrossEntropy.forwardBackward(x, new int[] {5, 6}, x, 1f)).isEqualTo(expected);
        assertThat(x.toFloatArray()).containsExactly(d.toFloatArray());
    }

    @Test
    void badTargetsAreRejected() {
        assertThatThrownBy(() -> CrossEntropy.forwardBackward(Tensor.zeros(1, 4), new int[] {4}, null, 1f))
                .hasMessageContaining("target 4 of row 0");
        assertThatThrownBy(() -> CrossEntropy.forwardBackward(Tensor.zeros(2, 4), new int[] {1}, null, 1f))
                .hasMessageContaining("one target per row");
    }
}
