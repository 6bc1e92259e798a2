package dev.lora4j.kernels;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Shape;
import dev.lora4j.tensor.Tensor;

/**
 * Matrix products in the three forms training a linear layer {@code y = x·Wᵀ} needs.
 *
 * <p>Every operand is a 2-D tensor and may be a strided view (a slice, or a transpose such as
 * {@code w.t()} for a weight stored [in, out] like GPT-2's Conv1D); weights may be F32, BF16 or
 * F16 and are widened as they are read; the output is F32. The output must not overlap an input.
 * Tensors in a confined arena are computed on the calling thread only.
 * With {@code accumulate} the product is added to what the output holds, otherwise it replaces it.
 *
 * <p>All three are the one product C = A·B on views ({@link GemmOperand}): products with a handful
 * of rows (decoding one token) stream the weight once through {@link MatmulSkinny}; everything else
 * goes through the packed, cache-blocked {@link Gemm}. Results are deterministic.
 *
 * <p>Inference steps choose the kernel by what their rows are instead ({@link #rowsBy}): rows
 * decoded one token per sequence always stream, prompt rows always go through the blocked GEMM.
 * Each kernel sums every element in an order that does not depend on the number of rows, so a
 * row's result then does not depend on what else is in the batch either: the server's mixed
 * batches give every request the bits {@code lora4j generate} gives it alone.
 */
public final class Matmul {
    private Matmul() {}

    /** How a product picks its kernel. */
    public enum Kernel {
        /** By the number of rows: a handful streams the weight, more go through the blocked GEMM (training, evaluation). */
        BY_SIZE,
        /** Always the blocked GEMM (prompt rows at inference). */
        BLOCKED,
        /** Always stream the weight once for all rows (decoded rows: one new token per sequence). */
        STREAMED
    }

    private static final ScopedValue<Kernel> KERNEL = ScopedValue.newInstance();

    /** Runs {@code body} with every product on this thread choosing its kernel by {@code kernel}. */
    public static <T> T rowsBy(Kernel kernel, java.util.function.Supplier<T> body) {
        return ScopedValue.where(KERNEL, kernel).call(body::get);
    }

    /** y[M,N] (+)= x[M,K] · w[N,K]ᵀ. */
    public static void forward(Tensor x, Tensor w, Tensor y, boolean accumulate) {
        requireMatrix("forward", "x", x);
        requireMatrix("forward", "w", w);
        requireMatrix("forward", "y", y);
        int m = x.dim(0);
        int k = x.dim(1);
        int n = w.dim(0);
        requireShape("forward", "w", w, n, k, "[N, K] with K = x.dim(1)");
        requireShape("forward", "y", y, m, n, "[M, N] = [x.dim(0), w.dim(0)]");
        multiply(GemmOperand.of(x), GemmOperand.of(w).transposed(), output("forward", y), accumulate);
    }

    /** dx[M,K] (+)= dy[M,N] · w[N,K]. */
    public static void backwardInput(Tensor dy, Tensor w, Tensor dx, boolean accumulate) {
        requireMatrix("backwardInput", "dy", dy);
        requireMatrix("backwardInput", "w", w);
        requireMatrix("backwardInput", "dx", dx);
        int m = dy.dim(0);
        int n = dy.dim(1);
        int k = w.dim(1);
        requireShape("backwardInput", "w", w, n, k, "[N, K] with N = dy.dim(1)");
        requireShape("backwardInput", "dx", dx, m, k, "[M, K] = [dy.dim(0), w.dim(1)]");
        multiply(GemmOperand.of(dy), GemmOperand.of(w), output("backwardInput", dx), accumulate);
    }

    /** dw[N,K] (+)= dy[M,N]ᵀ · x[M,K]. */
    public static void backwardWeight(Tensor dy, Tensor x, Tensor dw, boolean accumulate) {
        requireMatrix("backwardWeight", "dy", dy);
        requireMatrix("backwardWeight", "x", x);
        requireMatrix("backwardWeight", "dw", dw);
        int m = dy.dim(0);
        int n = dy.dim(1);
        int k = x.dim(1);
        requireShape("backwardWeight", "x", x, m, k, "[M, K] with M = dy.dim(0)");
        requireShape("backwardWeight", "dw", dw, n, k, "[N, K] = [dy.dim(1), x.dim(1)]");
        multiply(GemmOperand.of(dy).transposed(), GemmOperand.of(x), output("backwardWeight", dw), accumulate);
    }

    private static void multiply(GemmOperand a, GemmOperand b, GemmOperand c, boolean accumulate) {
        int threads = sharedByPool(a, b, c) ? Parallel.threads() : 1;
        Kernel kernel = KERNEL.orElse(Kernel.BY_SIZE);
        boolean stream = switch (kernel) {
            case BY_SIZE -> MatmulSkinny.handles(a, b);
            case BLOCKED -> false;
            case STREAMED -> MatmulSkinny.streams(b);
        };
        if (stream) {
            MatmulSkinny.run(a, b, c, accumulate, threads);
        } else {
            Gemm.run(a, b, c, accumulate, threads);
        }
    }

    /** A thread that never runs: asks "could some other thread read this segment?". */
    private static final Thread OTHER_THREAD = new Thread(() -> {});

    /**
     * Memory of a confined arena may only be touched by its owner thread; such products run on the
     * calling thread alone (same results: they never depend on the thread count).
     */
    private static boolean sharedByPool(GemmOperand... ops) {
        for (GemmOperand op : ops) {
            if (!op.data().isAccessibleBy(OTHER_THREAD)) {
                return false;
            }
        }
        return true;
    }

    private static GemmOperand output(String op, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("Matmul." + op + ": the output must be F32, got " + t);
        }
        return GemmOperand.of(t);
    }

    private static void requireMatrix(String op, String name, Tensor t) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException("Matmul." + op + ": " + name + " must be a matrix, got shape "
                    + Shape.toString(t.shape()));
        }
    }

    private static void requireShape(String op, String name, Tensor t, int rows, int cols, String expected) {
        if (t.dim(0) != rows || t.dim(1) != cols) {
            throw new IllegalArgumentException("Matmul." + op + ": " + name + " has shape " + Shape.toString(t.shape())
                    + ", expected [" + rows + ", " + cols + "] (" + expected + ")");
        }
    }
}
