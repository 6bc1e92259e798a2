package dev.lora4j.io.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over one protobuf message in wire format: a sequence of (tag, value) fields where
 * {@code tag = field_number << 3 | wire_type} and the wire type says how the value is encoded
 * (0 varint, 1 fixed 64-bit, 2 length-delimited bytes, 5 fixed 32-bit). Just enough of protobuf to
 * read ONNX files, without a protobuf dependency. Length-delimited values are returned as slices of
 * the underlying segment, never copied.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final MemorySegment data;
    private final String what;
    private long pos;
    private int wireType;

    /** @param what names the message in error messages, e.g. "model.onnx: GraphProto" */
    ProtoReader(MemorySegment data, String what) {
        this.data = data;
        this.what = what;
    }

    boolean hasMore() {
        return pos < data.byteSize();
    }

    /** Reads the next tag and returns its field number; {@link #wireType()} tells how to read its value. */
    int nextField() {
        long tag = readVarint();
        wireType = (int) (tag & 7);
        long field = tag >>> 3;
        if (field == 0 || field > Integer.MAX_VALUE) {
            throw corrupt("field number " + field + " at byte " + pos);
        }
        return (int) field;
    }

    int wireType() {
        return wireType;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= data.byteSize()) {
                throw corrupt("varint runs past the end");
            }
            byte b = data.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw corrupt("varint longer than 10 bytes at byte " + pos);
    }

    /** The bytes of a length-delimited value (sub-message, string, bytes or packed repeated field). */
    MemorySegment readBytes() {
        expect(LENGTH_DELIMITED);
        long length = readVarint();
        if (length < 0 || pos + length > data.byteSize()) {
            throw corrupt("length " + length + " at byte " + pos + " runs past the end (" + data.byteSize() + " bytes)");
        }
        MemorySegment slice = data.asSlice(pos, length);
        pos += length;
        return slice;
    }

    String readString() {
        return new String(readBytes().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    ProtoReader readMessage(String name) {
        return new ProtoReader(readBytes(), what + "." + name);
    }

    /**
     * A repeated integer field, which writers may emit packed (one length-delimited run of varints)
     * or as one varint per tag; {@code sink} receives each value.
     */
    void readVarints(java.util.function.LongConsumer sink) {
        if (wireType == LENGTH_DELIMITED) {
            ProtoReader packed = new ProtoReader(readBytes(), what);
            while (packed.hasMore()) {
                sink.accept(packed.readVarint());
            }
        } else {
            expect(VARINT);
            sink.accept(readVarint());
        }
    }

    void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> readBytes();
            case FIXED32 -> advance(4);
            default -> throw corrupt("unsupported wire type " + wireType + " at byte " + pos);
        }
    }

    private void advance(long n) {
        if (pos + n > data.byteSize()) {
            throw corrupt("fixed-size value runs past the end");
        }
        pos += n;
    }

    private void expect(int type) {
        if (wireType != type) {
            throw corrupt("wire type " + wireType + " where " + type + " was expected, at byte " + pos);
        }
    }

    OnnxException corrupt(String detail) {
        return new OnnxException(what + ": malformed protobuf: " + detail);
    }
}
