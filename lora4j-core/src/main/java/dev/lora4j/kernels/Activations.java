package dev.lora4j.kernels;

import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
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

    /** Which function a row loop applies (see {@link #forwardLoop}). */
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
        Rows.forEachRow(xr.rows(), n, r -> {
            MemorySegment xs = xr.seg();
            MemorySegment os = or.seg();
            long xa = xr.row(r);
            long oa = or.row(r);
            if (gr == null) {
                forwardLoop(op, xs, xa, os, oa, vecEnd);
            } else {
                backwardLoop(op, xs, xa, gr.seg(), gr.row(r), os, oa, vecEnd);
            }
            for (int i = vecEnd; i < n; i++) {
                float g = gr == null ? 0f : gr.get(r, i);
                or.set(r, i, scalar(op, xr.get(r, i), g));
            }
        });
    }

    // One loop per function, each in its own method, the switch outside: each loop body is a
    // single chain of vector operations that the JIT compiles as one unit. A shared per-element
    // function taking the op (the earlier design), or several exp-heavy loops in one method, grew
    // past the JIT's inlining limits, and every vector crossing a call that was not inlined got
    // boxed: gigabytes of garbage per training step, and a full collection every few kernel calls.
    // exp and erfc are not functions of a vector either (see VecMath): each loop below writes their argument into this thread's scratch row, runs
    // VecMath.expInPlace / Erf.erfc over the row, and reads the result back in its next loop.

    private static void forwardLoop(Op op, MemorySegment xs, long xa, MemorySegment os, long oa, int end) {
        switch (op) {
            case SILU -> silu(xs, xa, os, oa, end);
            case GELU_ERF -> geluErf(xs, xa, os, oa, end);
            case GELU_TANH -> geluTanh(xs, xa, os, oa, end);
            default -> throw new IllegalArgumentException(op + " is a backward op");
        }
    }

    private static void backwardLoop(Op op, MemorySegment xs, long xa, MemorySegment gs, long ga,
                                     MemorySegment os, long oa, int end) {
        switch (op) {
            case SILU_BACK -> siluBackward(xs, xa, gs, ga, os, oa, end);
            case GELU_ERF_BACK -> geluErfBackward(xs, xa, gs, ga, os, oa, end);
            case GELU_TANH_BACK -> geluTanhBackward(xs, xa, gs, ga, os, oa, end);
            default -> throw new IllegalArgumentException(op + " is a forward op");
        }
    }

    /** x·σ(x) = x / (1 + e^−x). */
    private static void silu(MemorySegment xs, long xa, MemorySegment os, long oa, int end) {
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE).neg().intoArray(e, i);
        }
        VecMath.expInPlace(e, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            v.div(FloatVector.fromArray(S, e, i).add(1f)).intoMemorySegment(os, oa + off, NATIVE);
        }
    }

    /** ½x·erfc(−x/√2). */
    private static void geluErf(MemorySegment xs, long xa, MemorySegment os, long oa, int end) {
        float[] c = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE).mul(-SQRT_HALF).intoArray(c, i);
        }
        Erf.erfc(c, 0, c, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            v.mul(0.5f).mul(FloatVector.fromArray(S, c, i)).intoMemorySegment(os, oa + off, NATIVE);
        }
    }

    /** ½x(1 + tanh u) computed as x·σ(2u), which has no cancellation; u = √(2/π)(x + 0.044715x³). */
    private static void geluTanh(MemorySegment xs, long xa, MemorySegment os, long oa, int end) {
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE);
            FloatVector u = v.mul(v).fma(GELU_TANH_C, 1f).mul(v).mul(SQRT_2_OVER_PI);
            u.mul(-2f).intoArray(e, i);
        }
        VecMath.expInPlace(e, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            v.div(FloatVector.fromArray(S, e, i).add(1f)).intoMemorySegment(os, oa + off, NATIVE);
        }
    }

    /** dy·σ(x)·(1 + x(1 − σ(x))). */
    private static void siluBackward(MemorySegment xs, long xa, MemorySegment gs, long ga,
                                     MemorySegment os, long oa, int end) {
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE).neg().intoArray(e, i);
        }
        VecMath.expInPlace(e, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            FloatVector g = FloatVector.fromMemorySegment(S, gs, ga + off, NATIVE);
            FloatVector sig = FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, e, i).add(1f));
            g.mul(sig.mul(v.mul(sig.neg().add(1f)).add(1f))).intoMemorySegment(os, oa + off, NATIVE);
        }
    }

    /** dy·(Φ(x) + x·φ(x)). */
    private static void geluErfBackward(MemorySegment xs, long xa, MemorySegment gs, long ga,
                                        MemorySegment os, long oa, int end) {
        float[] c = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.ACT_B, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE);
            v.mul(-SQRT_HALF).intoArray(c, i);
            v.mul(v).mul(-0.5f).intoArray(e, i);
        }
        Erf.erfc(c, 0, c, 0, end);
        VecMath.expInPlace(e, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            FloatVector g = FloatVector.fromMemorySegment(S, gs, ga + off, NATIVE);
            FloatVector cdf = FloatVector.fromArray(S, c, i).mul(0.5f);
            FloatVector pdf = FloatVector.fromArray(S, e, i).mul(INV_SQRT_2PI);
            g.mul(v.fma(pdf, cdf)).intoMemorySegment(os, oa + off, NATIVE);
        }
    }

    /** dy·(σ(2u) + x·2σ(2u)(1 − σ(2u))·du/dx): the derivative of x·σ(2u). */
    private static void geluTanhBackward(MemorySegment xs, long xa, MemorySegment gs, long ga,
                                         MemorySegment os, long oa, int end) {
        float[] e = ThreadScratch.floats(ThreadScratch.Slot.ACT_A, end);
        for (int i = 0; i < end; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + (long) i * Float.BYTES, NATIVE);
            FloatVector u = v.mul(v).fma(GELU_TANH_C, 1f).mul(v).mul(SQRT_2_OVER_PI);
            u.mul(-2f).intoArray(e, i);
        }
        VecMath.expInPlace(e, 0, end);
        for (int i = 0; i < end; i += S.length()) {
            long off = (long) i * Float.BYTES;
            FloatVector v = FloatVector.fromMemorySegment(S, xs, xa + off, NATIVE);
            FloatVector g = FloatVector.fromMemorySegment(S, gs, ga + off, NATIVE);
            FloatVector sig = FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, e, i).add(1f));
            FloatVector du = v.mul(v).fma(3 * GELU_TANH_C, 1f).mul(SQRT_2_OVER_PI);
            g.mul(sig.add(v.mul(2f).mul(sig).mul(sig.neg().add(1f)).mul(du))).intoMemorySegment(os, oa + off, NATIVE);
        }
    }
}
