package dev.lora4j.io.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire-format reader on hand-encoded messages (bytes written from the protobuf encoding rules). */
class ProtoReaderTest {
    private static ProtoReader reader(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return new ProtoReader(MemorySegment.ofArray(b), "test");
    }

    @Test
    void readsVarintsStringsAndSkipsUnknownFields() {
        // field 1 varint 300 (0xAC 0x02); field 2 fixed32 (skipped); field 3 string "hi"; field 4 fixed64 (skipped)
        ProtoReader r = reader(0x08, 0xAC, 0x02, 0x15, 1, 2, 3, 4, 0x1A, 2, 'h', 'i', 0x21, 1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(r.nextField()).isEqualTo(1);
        assertThat(r.readVarint()).isEqualTo(300);
        assertThat(r.nextField()).isEqualTo(2);
        r.skip();
        assertThat(r.nextField()).isEqualTo(3);
        assertThat(r.readString()).isEqualTo("hi");
        assertThat(r.nextField()).isEqualTo(4);
        r.skip();
        assertThat(r.hasMore()).isFalse();
    }

    @Test
    void repeatedIntegersPackedOrNot() {
        // field 1 packed [3, 270]; then field 1 unpacked 7
        ProtoReader r = reader(0x0A, 3, 3, 0x8E, 0x02, 0x08, 7);
        List<Long> values = new ArrayList<>();
        while (r.hasMore()) {
            r.nextField();
            r.readVarints(values::add);
        }
        assertThat(values).containsExactly(3L, 270L, 7L);
    }

    @Test
    void truncatedInputIsAClearError() {
        ProtoReader r = reader(0x1A, 5, 'h', 'i');
        r.nextField();
        assertThatThrownBy(r::readBytes).isInstanceOf(OnnxException.class)
                .hasMessageContaining("test: malformed protobuf").hasMessageContaining("runs past the end");
        ProtoReader unfinished = reader(0x08, 0x80);   // a varint whose continuation bit promises more bytes
        unfinished.nextField();
        assertThatThrownBy(unfinished::readVarint).isInstanceOf(OnnxException.class).hasMessageContaining("varint");
    }

    @Test
    void aFileWithoutAGraphIsNotAModel() {
        assertThatThrownBy(() -> OnnxModel.parse(MemorySegment.ofArray(new byte[] {0x08, 7}), "x.onnx"))
                .isInstanceOf(OnnxException.class).hasMessage("x.onnx: not an ONNX model (no graph)");
    }
}
