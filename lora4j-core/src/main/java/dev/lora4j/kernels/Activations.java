package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise activations and their derivatives, vectorized. Inputs and outputs are F32 tensors
 * of equal shape: 2-D with contiguous rows (row views allowed) or any contiguous tensor. Backward
 * methods take the forward input {@code x} and the upstream gradient {@code dy} and overwrite
 * {@code dx}. Output may alias input (y == x, dx == dy) since each element is read before it is
 * written.
 *
 * <ul>
 *   <li>SiLU: y = x·σ(x); y' = σ(x)·(1 + x·(1 − σ(x))).
 *   <li>GELU (exact): y = x·Φ(x) = ½x·erfc(−x/√2); y' = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
 *   <li>GELU (tanh): y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);
 *       y' = ½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²).
 * </ul>
 * {@link ActivationsScalar} holds the same formulas as plain loops.
 */
public final class Activations {
    private Activations() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    static final float SQRT_HALF = (float) Math.sqrt(0.5);
    static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2 * Math.PI));
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    static final float GELU_TANH_C = 0.044715f;

    /**
     * Which function a row loop applies. A switch on this inside the loop (rather than a lambda
     * per function) keeps every call site monomorphic, so the JIT inlines the vector code and
     * no vector is ever boxed.
     */
    private enum Op { SILU, SILU_BACK, GELU_ERF, GELU_ERF_BACK, GELU_TANH, GELU_TANH_BACK }

    public static void silu(Tensor x, Tensor y) {
        map(x, null, y, Op.SILU);
    }

    public static void siluBackward(Tensor x, Tensor dy, Tensor dx) {
        map(x, dy, dx, Op.SILU_BACK);
    }

    public static void geluErf(Tensor x, Tensor y) {
        map(x, null, y, Op.GELU_ERF);
    }

    public static void geluErfBackward(Tensor x, Tensor dy, Tensor dx) {
        map(x, dy, dx, Op.GELU_ERF_BACK);
    }

    public static void geluTanh(Tensor x, Tensor y) {
        map(x, null, y, Op.GELU_TANH);
    }

    public static void geluTanhBackward(Tensor x, Tensor dy, Tensor dx) {
        map(x, dy, dx, Op.GELU_TANH_BACK);
    }

    private static FloatVector lanes(Op op, FloatVector v, FloatVector g) {
        return switch (op) {
            case SILU -> v.div(VecMath.exp(v.neg()).add(1f));
            case SILU_BACK -> g.mul(siluDerivative(v));
            case GELU_ERF -> v.mul(0.5f).mul(Erf.erfc(v.mul(-SQRT_HALF)));
            case GELU_ERF_BACK -> g.mul(geluErfDerivative(v));
            case GELU_TANH -> v.div(VecMath.exp(tanhArgument(v).mul(-2f)).add(1f));   // ½x(1+tanh u) = x·σ(2u), no cancellation
            case GELU_TANH_BACK -> g.mul(geluTanhDerivative(v));
        };
    }

    private static float scalar(Op op, float x, float g) {
        return switch (op) {
            case SILU -> ActivationsScalar.silu(x);
            case SILU_BACK -> g * ActivationsScalar.siluDerivative(x);
            case GELU_ERF -> ActivationsScalar.geluErf(x);
            case GELU_ERF_BACK -> g * ActivationsScalar.geluErfDerivative(x);
            case GELU_TANH -> ActivationsScalar.geluTanh(x);
            case GELU_TANH_BACK -> g * ActivationsScalar.geluTanhDerivative(x);
        };
    }

    private static FloatVector siluDerivative(FloatVector v) {
        FloatVector s = FloatVector.broadcast(S, 1f).div(VecMath.exp(v.neg()).add(1f)); // σ(x)
        return s.mul(v.mul(s.neg().add(1f)).add(1f));                                                  // σ(1 + x(1−σ))
    }

    private static FloatVector geluErfDerivative(FloatVector v) {
        FloatVector cdf = Erf.erfc(v.mul(-SQRT_HALF)).mul(0.5f);
        FloatVector pdf = VecMath.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
        return v.fma(pdf, cdf);
    }

    /** u = √(2/π)(x + 0.044715x³). */
    private static FloatVector tanhArgument(FloatVector v) {
        return v.mul(v).fma(GELU_TANH_C, 1f).mul(v).mul(SQRT_2_OVER_PI);
    }

    /** d/dx x·σ(2u) = σ(2u) + x·2σ(2u)(1−σ(2u))·du/dx, the tanh form rewritten without 1 + tanh cancellation. */
    private static FloatVector geluTanhDerivative(FloatVector v) {
        FloatVector s = FloatVector.broadcast(S, 1f).div(VecMath.exp(tanhArgument(v).mul(-2f)).add(1f));  // σ(2u)
        FloatVector du = v.mul(v).fma(3 * GELU_TANH_C, 1f).mul(SQRT_2_OVER_PI);                             // du/dx
        return s.add(v.mul(2f).mul(s).mul(s.neg().add(1f)).mul(du));
    }

    /** Applies {@code op} over all rows; the last few elements of each row use the scalar form. */
    private static void map(Tensor x, Tensor dy, Tensor out, Op op) {
        Rows xr = Rows.view(x, op + ": x");
        Rows gr = dy == null ? null : Rows.view(dy, op + ": dy");
        Rows or = Rows.view(out, op + ": output");
        xr.requireSameShape(or, "x", "output");
        if (gr != null) {
            xr.requireSameShape(gr, "x", "dy");
        }
        int n = xr.cols();
        int vecEnd = S.loopBound(n);
        MemorySegment xs = xr.seg();
        MemorySegment os = or.seg();
        FloatVector zero = FloatVector.zero(S);
        Rows.forEachRow(xr.rows(), n, r -> {
            long xa = xr.row(r);
            long oa = or.row(r);
            long ga = gr == null ? 0 : gr.row(r);
            int i = 0;
            for (; i < vecEnd; i += S.length()) {
                long off = (long) i * Float.BYTES;
                FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
                FloatVector g = gr == null ? zero : FloatVector.fromMemorySegment(S, gr.seg(), ga + off, NATIVE);
                lanes(op, v, g).intoMemorySegment(os, oa + off, NATIVE);
            }
            for (; i < n; i++) {
                float g = gr == null ? 0f : gr.get(r, i);
                or.set(r, i, scalar(op, xr.get(r, i), g));
            }
        });
    }
}
