package dev.lora4j.tensor;

/**
 * Element types a tensor can be stored in.
 *
 * <p>F32 is what all arithmetic happens in. BF16 and F16 are storage types: kernels widen them to
 * F32 as they read (the frozen base weights stay in the dtype of the checkpoint). Block-quantized
 * types (INT8, NF4) will be added with {@link #blockSize()} &gt; 1 and a per-block scale, which is
 * why sizes are expressed per block rather than assumed per element.
 */
public enum DType {
    F32("F32", 4),
    BF16("BF16", 2),
    F16("F16", 2);

    private final String safetensorsName;
    private final int bytesPerBlock;

    DType(String safetensorsName, int bytesPerBlock) {
        this.safetensorsName = safetensorsName;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The dtype string used in safetensors headers ("F32", "BF16", "F16"). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** Elements per storage block: 1 for the plain float types. */
    public int blockSize() {
        return 1;
    }

    /** Bytes of one element (for block types: of one block). */
    public int byteSize() {
        return bytesPerBlock;
    }

    /** Bytes needed to store {@code elements} elements contiguously. */
    public long byteSizeOf(long elements) {
        return elements / blockSize() * bytesPerBlock;
    }

    /** Parses a safetensors dtype name; returns null when it is not one lora4j supports. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
