package dev.lora4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Matmul against its plain-loop twin MatmulScalar on random data.
 *
 * <p>Tolerance: a float sum of K products has a worst-case rounding error of about
 * K·eps·Σ_p|a_p||b_p| (eps = 2^-23, the float spacing at 1), plus eps·|c0| for adding to an existing
 * output; the twin sums in double, so its own error is negligible. Each element gets the bound
 * (K + 2)·eps·(Σ_p|a_p||b_p| + |c0|). On the small K used here that is far below the size of any
 * real mistake (a missing or doubled term moves an element by |a_p||b_p| ~ 0.25).
 */
class MatmulTest {
    private static final float EPS = Math.ulp(1f);

    enum Form { FORWARD, BACKWARD_INPUT, BACKWARD_WEIGHT }

    /** How an operand is laid out in storage: dense, a transposed view, or a window of a bigger matrix. */
    enum Layout { CONTIGUOUS, TRANSPOSED, SLICED }

    record Case(Form form, int m, int n, int k, DType wType, boolean accumulate, Layout a, Layout b, Layout c) {
        @Override
        public String toString() {
            return form + " M=" + m + " N=" + n + " K=" + k + " w=" + wType + (accumulate ? " +=" : " =")
                    + " layouts " + a + "/" + b + "/" + c;
        }
    }

    // ---- random cases ---------------------------------------------------------------------

    /** Odd sizes, tails shorter than a vector, M=1, K=1, N=1, exact tiles, rank-8 shapes. */
    static Stream<Arguments> smallCases() {
        int[][] shapes = {
            {1, 1, 1}, {1, 37, 53}, {2, 5, 3}, {3, 17, 40}, {4, 33, 9}, {5, 9, 7}, {7, 33, 17}, {13, 31, 19},
            {1, 8, 64}, {6, 32, 16}, {12, 64, 5}, {9, 1, 23}, {21, 40, 1}, {17, 3, 70}
        };
        return cases(shapes, new DType[] {DType.F32, DType.BF16, DType.F16}, new boolean[] {false, true}, 11);
    }

    /** K beyond one KC slice, LoRA rank-8 shapes (N=8, K=8, M=8), enough rows for both threads. */
    static Stream<Arguments> largerCases() {
        int[][] shapes = {{67, 45, 300}, {50, 8, 96}, {50, 96, 8}, {8, 200, 120}, {100, 70, 260}, {5, 150, 520}, {40, 70, 1100}};
        return cases(shapes, new DType[] {DType.F32, DType.BF16}, new boolean[] {true}, 12);
    }

    private static Stream<Arguments> cases(int[][] shapes, DType[] types, boolean[] accs, long seed) {
        Random rnd = new Random(seed);
        Layout[] layouts = Layout.values();
        List<Arguments> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (Form f : Form.values()) {
                for (DType t : types) {
                    for (boolean acc : accs) {
                        out.add(Arguments.of(new Case(f, s[0], s[1], s[2], t, acc,
                                layouts[rnd.nextInt(3)], layouts[rnd.nextInt(3)], layouts[rnd.nextInt(3)])));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallCases")
    void matchesScalarTwinOnSmallOddShapes(Case c) {
        check(c, new Random(c.toString().hashCode()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("largerCases")
    void matchesScalarTwinOnBlockedAndRankEightShapes(Case c) {
        check(c, new Random(c.toString().hashCode()));
    }

    @Test
    void columnsBeyondOneColumnBlock() {
        // N > NC (4096) exercises the outer column loop; tiny M and K keep it fast.
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            check(new Case(Form.FORWARD, 7, Gemm.NC + 5, 3, t, false, Layout.CONTIGUOUS, Layout.CONTIGUOUS, Layout.CONTIGUOUS),
                    new Random(3));
            check(new Case(Form.BACKWARD_INPUT, 7, 3, Gemm.NC + 5, t, true, Layout.CONTIGUOUS, Layout.TRANSPOSED, Layout.SLICED),
                    new Random(4));
        }
    }

    @Test
    void outputWithNonUnitColumnStride() {
        // A transposed output cannot take vector stores: every tile goes through the edge path.
        for (Form f : Form.values()) {
            check(new Case(f, 20, 40, 30, DType.F32, true, Layout.CONTIGUOUS, Layout.CONTIGUOUS, Layout.TRANSPOSED),
                    new Random(5));
        }
    }

    @Test
    void conv1dWeightStoredInOutAsTransposedView() {
        // GPT-2 stores Conv1D weights as [in, out]; forward uses w.t() as the [out, in] weight.
        Random rnd = new Random(6);
        for (int m : new int[] {1, 3, 30}) {
            Tensor x = random(rnd, DType.F32, m, 70, Layout.CONTIGUOUS);
            Tensor stored = random(rnd, DType.BF16, 70, 90, Layout.CONTIGUOUS);
            Tensor y = Tensor.zeros(m, 90);
            Tensor expected = Tensor.zeros(m, 90);
            Matmul.forward(x, stored.t(), y, false);
            MatmulScalar.forward(x, stored.t(), expected, false);
            assertClose(y, expected, magnitude(Form.FORWARD, x, stored.t(), m, 90), Tensor.zeros(m, 90), 70, "Conv1D m=" + m);
        }
    }

    @Test
    void deterministicAcrossCalls() {
        Random rnd = new Random(7);
        Tensor x = random(rnd, DType.F32, 130, 300, Layout.CONTIGUOUS);
        Tensor w = random(rnd, DType.BF16, 70, 300, Layout.CONTIGUOUS);
        Tensor y1 = Tensor.zeros(130, 70);
        Tensor y2 = Tensor.zeros(130, 70);
        Matmul.forward(x, w, y1, false);
        Matmul.forward(x, w, y2, false);
        assertThat(y2.toFloatArray()).containsExactly(y1.toFloatArray());
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        // Every element is summed by one task in a fixed order, however the work is split.
        Random rnd = new Random(8);
        GemmOperand a = GemmOperand.of(random(rnd, DType.F32, 97, 300, Layout.CONTIGUOUS));
        GemmOperand b = GemmOperand.of(random(rnd, DType.BF16, 80, 300, Layout.CONTIGUOUS)).transposed();
        float[] first = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            Tensor c = Tensor.zeros(97, 80);
            Gemm.run(a, b, GemmOperand.of(c), false, threads);
            if (first == null) {
                first = c.toFloatArray();
            } else {
                assertThat(c.toFloatArray()).as("threads=" + threads).containsExactly(first);
            }
        }
    }

    @Test
    void confinedArenaTensorsRunOnTheCallingThread() {
        // Pool threads may not touch a confined arena's memory; Matmul must not hand them such work.
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(9);
            Tensor x = random(rnd, DType.F32, 40, 50, Layout.CONTIGUOUS).copy(arena, DType.F32);
            Tensor w = random(rnd, DType.BF16, 60, 50, Layout.CONTIGUOUS).copy(arena, DType.BF16);
            Tensor y = Tensor.allocate(arena, DType.F32, 40, 60);
            Tensor expected = Tensor.zeros(40, 60);
            Matmul.forward(x, w, y, false);
            MatmulScalar.forward(x, w, expected, false);
            assertClose(y, expected, magnitude(Form.FORWARD, x, w, 40, 60), Tensor.zeros(40, 60), 50, "confined");
            // One row takes the skinny (decode) path, which splits columns over threads too.
            Tensor y1 = Tensor.allocate(arena, DType.F32, 1, 60);
            Tensor expected1 = Tensor.zeros(1, 60);
            Matmul.forward(x.slice(0, 0, 1), w, y1, false);
            MatmulScalar.forward(x.slice(0, 0, 1), w, expected1, false);
            assertClose(y1, expected1, magnitude(Form.FORWARD, x.slice(0, 0, 1), w, 1, 60), Tensor.zeros(1, 60), 50, "confined, M=1");
        }
    }

    @Test
    void emptyReductionGivesZerosOrLeavesOutput() {
        Tensor x = Tensor.zeros(9, 0);
        Tensor w = Tensor.zeros(5, 0);
        Tensor y = Tensor.of(filled(45, 3f), 9, 5);
        Matmul.forward(x, w, y, true);
        assertThat(y.toFloatArray()).containsOnly(3f);
        Matmul.forward(x, w, y, false);
        assertThat(y.toFloatArray()).containsOnly(0f);
    }

    @Test
    void mismatchedShapesAreNamed() {
        assertThatThrownBy(() -> Matmul.forward(Tensor.zeros(4, 5), Tensor.zeros(6, 7), Tensor.zeros(4, 6), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Matmul.forward: w has shape [6, 7], expected [6, 5]");
        assertThatThrownBy(() -> Matmul.backwardInput(Tensor.zeros(4, 6), Tensor.zeros(6, 5), Tensor.zeros(5, 5), false))
                .hasMessageContaining("Matmul.backwardInput: dx has shape [5, 5], expected [4, 5]");
        assertThatThrownBy(() -> Matmul.backwardWeight(Tensor.zeros(4, 6), Tensor.zeros(3, 5), Tensor.zeros(6, 5), false))
                .hasMessageContaining("Matmul.backwardWeight: x has shape [3, 5], expected [4, 5]");
        assertThatThrownBy(() -> Matmul.forward(Tensor.zeros(4), Tensor.zeros(6, 4), Tensor.zeros(1, 6), false))
                .hasMessageContaining("x must be a matrix");
        Tensor bf16Out = Tensor.allocate(Arena.ofAuto(), DType.BF16, 4, 6);
        assertThatThrownBy(() -> Matmul.forward(Tensor.zeros(4, 5), Tensor.zeros(6, 5), bf16Out, false))
                .hasMessageContaining("output must be F32");
    }

    // ---- helpers --------------------------------------------------------------------------

    /** Runs one case through Matmul and MatmulScalar on identical inputs and compares. */
    private static void check(Case c, Random rnd) {
        Tensor a;
        Tensor b;
        int outRows;
        int outCols;
        switch (c.form) {
            case FORWARD -> {  // x[M,K], w[N,K] -> y[M,N]
                a = random(rnd, DType.F32, c.m, c.k, c.a);
                b = random(rnd, c.wType, c.n, c.k, c.b);
                outRows = c.m;
                outCols = c.n;
            }
            case BACKWARD_INPUT -> {  // dy[M,N], w[N,K] -> dx[M,K]
                a = random(rnd, DType.F32, c.m, c.n, c.a);
                b = random(rnd, c.wType, c.n, c.k, c.b);
                outRows = c.m;
                outCols = c.k;
            }
            default -> {  // dy[M,N], x[M,K] -> dw[N,K]; the dtype applies to x here
                a = random(rnd, DType.F32, c.m, c.n, c.a);
                b = random(rnd, c.wType, c.m, c.k, c.b);
                outRows = c.n;
                outCols = c.k;
            }
        }
        long outSeed = rnd.nextLong();
        Tensor got = random(new Random(outSeed), DType.F32, outRows, outCols, c.c);
        Tensor want = random(new Random(outSeed), DType.F32, outRows, outCols, c.c);
        Tensor initial = random(new Random(outSeed), DType.F32, outRows, outCols, Layout.CONTIGUOUS);
        int reduction = switch (c.form) {
            case FORWARD -> c.k;
            case BACKWARD_INPUT -> c.n;
            case BACKWARD_WEIGHT -> c.m;
        };
        apply(c.form, false, a, b, got, c.accumulate);
        apply(c.form, true, a, b, want, c.accumulate);
        Tensor c0 = c.accumulate ? initial : Tensor.zeros(outRows, outCols);
        assertClose(got, want, magnitude(c.form, a, b, outRows, outCols), c0, reduction, c.toString());
    }

    private static void apply(Form f, boolean scalar, Tensor a, Tensor b, Tensor out, boolean acc) {
        switch (f) {
            case FORWARD -> {
                if (scalar) MatmulScalar.forward(a, b, out, acc); else Matmul.forward(a, b, out, acc);
            }
            case BACKWARD_INPUT -> {
                if (scalar) MatmulScalar.backwardInput(a, b, out, acc); else Matmul.backwardInput(a, b, out, acc);
            }
            case BACKWARD_WEIGHT -> {
                if (scalar) MatmulScalar.backwardWeight(a, b, out, acc); else Matmul.backwardWeight(a, b, out, acc);
            }
        }
    }

    /** Σ_p |a_p||b_p| for every output element: the same product on absolute values. */
    private static Tensor magnitude(Form f, Tensor a, Tensor b, int rows, int cols) {
        Tensor out = Tensor.zeros(rows, cols);
        apply(f, true, abs(a), abs(b), out, false);
        return out;
    }

    private static Tensor abs(Tensor t) {
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        return Tensor.of(v, t.shape());
    }

    private static void assertClose(Tensor got, Tensor want, Tensor magnitude, Tensor c0, int reduction, String what) {
        float[] g = got.toFloatArray();
        float[] w = want.toFloatArray();
        float[] mag = magnitude.toFloatArray();
        float[] init = c0.toFloatArray();
        for (int i = 0; i < g.length; i++) {
            double tol = (reduction + 2) * (double) EPS * (mag[i] + Math.abs(init[i]));
            if (!(Math.abs(g[i] - w[i]) <= tol)) {
                throw new AssertionError(what + ": element " + i + " (row " + i / got.dim(1) + ", col " + i % got.dim(1)
                        + ") is " + g[i] + ", expected " + w[i] + " within " + tol);
            }
        }
    }

    /** A rows x cols tensor of uniform values in [-1, 1) in the given dtype and layout. */
    static Tensor random(Random rnd, DType dtype, int rows, int cols, Layout layout) {
        Tensor view = switch (layout) {
            case CONTIGUOUS -> Tensor.allocate(Arena.ofAuto(), dtype, rows, cols);
            case TRANSPOSED -> Tensor.allocate(Arena.ofAuto(), dtype, cols, rows).t();
            case SLICED -> Tensor.allocate(Arena.ofAuto(), dtype, rows + 3, cols + 5)
                    .slice(0, 2, 2 + rows).slice(1, 1, 1 + cols);
        };
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                view.set(rnd.nextFloat() * 2 - 1, i, j);
            }
        }
        return view;
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
