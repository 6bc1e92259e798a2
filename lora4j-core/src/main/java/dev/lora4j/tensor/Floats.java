package dev.lora4j.tensor;

/** Scalar conversions between F32 and the 16-bit storage types. */
public final class Floats {
    private Floats() {}

    /** BF16 is the upper half of an IEEE float: widening is a 16-bit shift. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Rounds to the nearest BF16, ties to even, as PyTorch does. NaN stays NaN (quiet), infinities
     * stay infinities.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }

    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Rounds to the nearest IEEE half, ties to even. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}
