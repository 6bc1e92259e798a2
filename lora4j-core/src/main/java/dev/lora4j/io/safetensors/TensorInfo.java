package dev.lora4j.io.safetensors;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Shape;

/**
 * One entry of a safetensors header: a tensor's name, stored dtype, shape, and its byte range
 * {@code [begin, end)} counted from the start of the data area (the first byte after the header).
 *
 * @param dtypeName the dtype as written in the file ("BF16", "I64", ...)
 */
public record TensorInfo(String name, String dtypeName, int[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** The lora4j dtype, or null when the stored dtype is one lora4j does not compute with. */
    public DType dtype() {
        return DType.fromSafetensorsName(dtypeName);
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtypeName + Shape.toString(shape) + " bytes [" + begin + ", " + end + ")";
    }
}
