package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Batch invariance of the inference kernels: under {@link Matmul#rowsBy} a row's result is the same
 * bits whether it is computed alone or among other rows, which is what lets the server batch
 * requests without changing any of them. Checked for both kernels an inference step uses, for
 * weights stored [out, in] (F32 and BF16) and [in, out] (GPT-2's Conv1D, read through a transpose),
 * with K beyond one GEMM reduction slice and beyond the vector tail. Each batched product is also
 * checked against the plain-loop twin (tolerance as in MatmulTest: (K + 2)·eps·Σ|x||w|), so a kernel
 * that is invariant but wrong fails too.
 */
class MatmulRowInvarianceTest {

    @ParameterizedTest
    @EnumSource(value = Matmul.Kernel.class, names = {"STREAMED", "BLOCKED"})
    void aRowGivesTheSameBitsAloneAndInAnyBatch(Matmul.Kernel kernel) {
        Random rnd = new Random(7);
        int[][] nk = {{37, 53}, {96, 520}, {8, 64}, {130, 1100}};
        for (int[] shape : nk) {
            int n = shape[0];
            int k = shape[1];
            for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                for (MatmulTest.Layout layout : new MatmulTest.Layout[] {MatmulTest.Layout.CONTIGUOUS, MatmulTest.Layout.TRANSPOSED}) {
                    Tensor w = MatmulTest.random(rnd, dtype, n, k, layout);
                    Tensor x = MatmulTest.random(rnd, DType.F32, 40, k, MatmulTest.Layout.CONTIGUOUS);
                    float[][] alone = new float[40][];
                    for (int r = 0; r < 40; r++) {
                        alone[r] = product(kernel, x.slice(0, r, r + 1), w).toFloatArray();
                    }
                    for (int m : new int[] {1, 2, 5, 17, 40}) {
                        for (int start : new int[] {0, 40 - m}) {
                            Tensor rows = x.slice(0, start, start + m);
                            Tensor y = product(kernel, rows, w);
                            Tensor expected = Tensor.zeros(m, n);
                            MatmulScalar.forward(rows, w, expected, false);
                            for (int r = 0; r < m; r++) {
                                float[] got = y.slice(0, r, r + 1).toFloatArray();
                                assertThat(got).as("%s %s %s N=%d K=%d: row %d in a batch of %d", kernel, dtype, layout, n,
                                        k, start + r, m).containsExactly(alone[start + r]);
                                for (int j = 0; j < n; j++) {
                                    float tolerance = (k + 2) * Math.ulp(1f) * k;   // |x|, |w| ≤ 1
                                    assertThat(got[j]).isCloseTo(expected.get(r, j), org.assertj.core.data.Offset.offset(tolerance));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static Tensor product(Matmul.Kernel kernel, Tensor x, Tensor w) {
        Tensor y = Tensor.zeros(x.dim(0), w.dim(0));
        Matmul.rowsBy(kernel, () -> {
            Matmul.forward(x, w, y, false);
            return y;
        });
        return y;
    }
}
