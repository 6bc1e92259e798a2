package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ElementwiseTest {

    @Test
    void vectorMatchesScalarOnRowViewsAndContiguousTensors() {
        Random rnd = new Random(3);
        for (int d : TestData.widths()) {
            Tensor a = TestData.rowView(rnd, 4, d);
            Tensor b = TestData.rowView(rnd, 4, d);
            Tensor out = TestData.rowView(rnd, 4, d);
            Tensor ref = Tensor.zeros(4, d);
            // element-wise float ops are exactly rounded in both: results must be identical
            Elementwise.add(a, b, out);
            ElementwiseScalar.add(a, b, ref);
            TestData.assertClose("add d=" + d, ref, out, 0, 0);
            Elementwise.mul(a, b, out);
            ElementwiseScalar.mul(a, b, ref);
            TestData.assertClose("mul d=" + d, ref, out, 0, 0);
            Tensor dst = TestData.copyOf(a);
            Elementwise.addInPlace(a, b);
            ElementwiseScalar.addInPlace(dst, b);
            TestData.assertClose("addInPlace d=" + d, dst, a, 0, 0);
            Elementwise.scaleInPlace(a, -0.37f);
            ElementwiseScalar.scaleInPlace(dst, -0.37f);
            TestData.assertClose("scaleInPlace d=" + d, dst, a, 0, 0);
        }
        // a contiguous 3-D tensor is treated as rows of its last dimension
        Tensor a = Tensor.of(TestData.gaussian(rnd, 2 * 3 * 7, 1), 2, 3, 7);
        Tensor b = Tensor.of(TestData.gaussian(rnd, 2 * 3 * 7, 1), 2, 3, 7);
        Tensor out = Tensor.zeros(2, 3, 7);
        Tensor ref = Tensor.zeros(2, 3, 7);
        Elementwise.mul(a, b, out);
        ElementwiseScalar.mul(a, b, ref);
        TestData.assertClose("mul 3-D", ref, out, 0, 0);
    }
}
