package dev.lora4j.io.safetensors;

import dev.lora4j.tensor.DType;

/**
 * Every element type the safetensors format defines, with its width in bits.
 *
 * <p>lora4j computes only with F32, BF16 and F16. The other types still occur in real checkpoints
 * (for example an I64 {@code position_ids} buffer in BERT checkpoints), so a file that holds them
 * opens normally: their byte ranges are validated like any other, and only asking for such a tensor
 * as a {@link dev.lora4j.tensor.Tensor} is an error. A dtype name that is not in this list makes the
 * file invalid, because the size of its data cannot be checked.
 */
enum StoredDType {
    BOOL(8), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    F4(4), F6_E2M3(6), F6_E3M2(6),
    I16(16), U16(16), F16(16), BF16(16),
    I32(32), U32(32), F32(32),
    I64(64), U64(64), F64(64), C64(64);

    private final int bits;

    StoredDType(int bits) {
        this.bits = bits;
    }

    /** Bytes that {@code elements} elements occupy, or -1 when that is not a whole number of bytes. */
    long byteSizeOf(long elements) {
        long totalBits = Math.multiplyExact(elements, (long) bits);
        return totalBits % 8 == 0 ? totalBits / 8 : -1;
    }

    /** The lora4j dtype of the same name, or null when lora4j cannot compute with this type. */
    DType lora4jType() {
        return DType.fromSafetensorsName(name());
    }

    /** The stored dtype with this safetensors name, or null for a name the format does not define. */
    static StoredDType fromName(String name) {
        for (StoredDType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    static String knownNames() {
        StringBuilder sb = new StringBuilder();
        for (StoredDType t : values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(t.name());
        }
        return sb.toString();
    }
}
