package dev.lora4j.lora;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Rounds an exact (double) value once into a storage dtype, nearest with ties to even.
 *
 * <p>Going double → float → bf16 with two round-to-nearest steps can be wrong when the first step
 * lands exactly on a bf16 tie (double rounding). Rounding the double to float "to odd" instead (when
 * inexact, pick the neighbour whose last mantissa bit is 1) keeps the information that the value was
 * not a tie; a float has 13 or more bits beyond bf16's and f16's mantissas, and with at least two
 * extra bits round-to-odd followed by round-to-nearest-even equals one direct rounding (Boldo and
 * Melquiond, "When double rounding is odd", 2005).
 */
final class SingleRounding {
    private SingleRounding() {}

    /** Writes {@code exact} into storage element {@code index} of a {@code dtype} segment, rounded once. */
    static void store(MemorySegment seg, DType dtype, long index, double exact) {
        float f = dtype == DType.F32 ? (float) exact : toFloatRoundToOdd(exact);
        Tensor.write(seg, dtype, index, f);
    }

    /** The float nearest to {@code v} if exact, otherwise the adjacent float (toward v) with an odd mantissa. */
    static float toFloatRoundToOdd(double v) {
        float f = (float) v;
        if ((double) f == v || Float.isInfinite(f) || Double.isNaN(v)) {
            return f;
        }
        if ((Float.floatToRawIntBits(f) & 1) == 1) {
            return f;  // nearest float already has an odd last bit, and it lies within one ulp of v
        }
        // The other neighbour of v (on v's side of f) is odd.
        return v > f ? Math.nextUp(f) : Math.nextDown(f);
    }
}
