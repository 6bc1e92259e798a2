package dev.lora4j.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Measures that opening a 1 GiB BF16 checkpoint maps it without reading it into memory: resident
 * memory (VmRSS) grows by the file's size only when the weights are touched. Takes a few seconds and
 * writes 1 GiB to a temporary directory, so it runs only on request (Linux only):
 *
 * <pre>mvn -q -o -pl lora4j-core test -Dtest=MappedMemoryMeasurementTest -Dlora4j.measureRss=true</pre>
 *
 * The figures are recorded in docs/io-notes.md.
 */
@EnabledIfSystemProperty(named = "lora4j.measureRss", matches = "true")
class MappedMemoryMeasurementTest {
    private static final int TENSORS = 16;
    private static final int ROWS = 4096;
    private static final int COLS = 8192;                       // 16 x 4096 x 8192 x 2 bytes = 1 GiB
    private static final long TENSOR_BYTES = (long) ROWS * COLS * 2;

    @TempDir
    Path tmp;

    @Test
    void openingDoesNotReadTheWeights() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        writeBigBf16File(file);
        System.gc();
        long before = rssKiB();
        try (WeightSource source = Checkpoints.open(file)) {
            List<Tensor> weights = new ArrayList<>();
            for (String name : source.names()) {
                weights.add(source.tensor(name));
            }
            long afterOpen = rssKiB();
            long touchStart = System.nanoTime();
            long checksum = 0;
            for (Tensor w : weights) {
                MemorySegment bytes = w.segment();
                for (long page = 0; page < bytes.byteSize(); page += 4096) {
                    checksum += bytes.get(ValueLayout.JAVA_BYTE, page);
                }
            }
            double touchSeconds = (System.nanoTime() - touchStart) / 1e9;
            long afterTouch = rssKiB();
            long fileMiB = Files.size(file) >> 20;
            System.out.printf("file %d MiB; VmRSS before open %d MiB, after open and handing out %d tensors %d MiB"
                            + " (+%d MiB), after touching every page %d MiB (+%d MiB, %.2f s, checksum %d)%n",
                    fileMiB, before >> 10, weights.size(), afterOpen >> 10, (afterOpen - before) >> 10,
                    afterTouch >> 10, (afterTouch - before) >> 10, touchSeconds, checksum);
            // Opening reads the header only: far less than 1% of the file becomes resident.
            assertThat(afterOpen - before).isLessThan((fileMiB << 10) / 100);
            // Touching every page brings (nearly) all of it in; proves the measurement can see it.
            assertThat(afterTouch - before).isGreaterThan((fileMiB << 10) * 9 / 10);
        }
        long afterClose = rssKiB();
        System.out.printf("VmRSS after close (unmapped) %d MiB%n", afterClose >> 10);
    }

    private static void writeBigBf16File(Path file) throws IOException {
        StringBuilder header = new StringBuilder("{");
        for (int i = 0; i < TENSORS; i++) {
            header.append(i == 0 ? "" : ",").append(String.format(
                    "\"model.layers.%02d.weight\":{\"dtype\":\"BF16\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]}",
                    i, ROWS, COLS, i * TENSOR_BYTES, (i + 1) * TENSOR_BYTES));
        }
        header.append('}');
        while (header.length() % 8 != 0) {
            header.append(' ');
        }
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length));
            ch.write(ByteBuffer.wrap(headerBytes));
            // Real (non-sparse) data, written through a small reusable buffer so writing adds no RSS.
            ByteBuffer chunk = ByteBuffer.allocateDirect(8 << 20);
            for (int i = 0; i < chunk.capacity(); i += 2) {
                chunk.putShort(i, (short) (0x3F80 + (i % 97)));   // BF16 values near 1.0
            }
            for (long written = 0; written < TENSORS * TENSOR_BYTES; written += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    ch.write(chunk);
                }
            }
        }
    }

    /** Resident set size of this process in KiB, from /proc/self/status. */
    private static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
