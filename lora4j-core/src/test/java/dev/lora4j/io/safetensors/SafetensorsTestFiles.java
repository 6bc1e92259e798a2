package dev.lora4j.io.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-made safetensors files for tests: any header text, any length prefix, any data bytes. */
final class SafetensorsTestFiles {
    private SafetensorsTestFiles() {}

    static Path write(Path file, String headerJson, int dataBytes) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return write(file, header.length, header, new byte[dataBytes]);
    }

    static Path write(Path file, long lengthPrefix, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthPrefix).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }
}
