package dev.lora4j.io.onnx;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Shape;
import dev.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A TensorProto: name, dims and data type, with its data as little-endian bytes (ONNX's raw_data, or
 * float_data / int64_data re-encoded the same way). The bytes are a slice of the file, not a copy.
 */
public record OnnxTensor(String name, int[] dims, int dataType, MemorySegment bytes) {
    /** ONNX TensorProto.DataType codes used here. */
    public static final int FLOAT = 1;
    public static final int INT64 = 7;

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public OnnxTensor {
        dims = dims.clone();
        long elementBytes = switch (dataType) {
            case FLOAT -> 4;
            case INT64 -> 8;
            default -> 0;  // other types are kept as opaque bytes
        };
        if (elementBytes != 0 && bytes.byteSize() != Shape.numel(dims) * elementBytes) {
            throw new OnnxException("tensor '" + name + "' with dims " + Shape.toString(dims) + " has "
                    + bytes.byteSize() + " bytes of data, expected " + Shape.numel(dims) * elementBytes);
        }
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    public long numel() {
        return Shape.numel(dims);
    }

    /** The data as a heap F32 tensor of shape {@code dims} (a copy, so the file may be closed after). */
    public Tensor toF32() {
        requireType(FLOAT, "FLOAT");
        float[] values = new float[Math.toIntExact(numel())];
        for (int i = 0; i < values.length; i++) {
            values[i] = bytes.getAtIndex(LE_FLOAT, i);
        }
        return Tensor.of(values, dims.length == 0 ? new int[] {1} : dims);
    }

    /** The values of an INT64 tensor. */
    public long[] toLongs() {
        requireType(INT64, "INT64");
        long[] values = new long[Math.toIntExact(numel())];
        for (int i = 0; i < values.length; i++) {
            values[i] = bytes.getAtIndex(LE_LONG, i);
        }
        return values;
    }

    /** A single number of a FLOAT or INT64 tensor with one element (scalar constants). */
    public double scalar() {
        if (numel() != 1) {
            throw new OnnxException("tensor '" + name + "' with dims " + Shape.toString(dims) + " is not a scalar");
        }
        return dataType == INT64 ? toLongs()[0] : toF32().getFlat(0);
    }

    private void requireType(int type, String typeName) {
        if (dataType != type) {
            throw new OnnxException("tensor '" + name + "' has ONNX data type " + dataType + ", expected " + typeName
                    + " (" + type + ")");
        }
    }

    /** For callers that want the dtype lora4j uses for this tensor's values. */
    public DType dtype() {
        return dataType == FLOAT ? DType.F32 : null;
    }
}
