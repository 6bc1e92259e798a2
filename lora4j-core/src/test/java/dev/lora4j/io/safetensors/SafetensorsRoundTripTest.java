package dev.lora4j.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing then reading gives back the same bits, for every dtype, layout and sharding. */
class SafetensorsRoundTripTest {
    @TempDir
    Path tmp;

    @Test
    void everyDtypeRoundTripsBitForBit() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (DType dtype : DType.values()) {
                Tensor t = Tensor.allocate(arena, dtype, 5, 7);
                for (int i = 0; i < 35; i++) {
                    // Values that need rounding in 16-bit types: what is stored is what must come back.
                    t.setFlat(i, (float) Math.sin(i * 1.37) * 100);
                }
                tensors.put("t." + dtype, t);
            }
            Path file = tmp.resolve("all.safetensors");
            SafetensorsWriter.write(file, tensors, Map.of("k", "v"));
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertThat(f.names()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
                assertThat(f.metadata()).isEqualTo(Map.of("k", "v"));
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    Tensor back = f.tensor(e.getKey());
                    assertThat(back.dtype()).isEqualTo(e.getValue().dtype());
                    assertThat(back.shape()).isEqualTo(e.getValue().shape());
                    assertThat(back.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                            .isEqualTo(e.getValue().segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
        }
    }

    @Test
    void stridedViewsAreWrittenInRowMajorOrder() throws IOException {
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        Tensor base = Tensor.of(values, 2, 3, 4);
        Tensor transposed = base.transpose(0, 2);      // [4,3,2]
        Tensor sliced = base.slice(2, 1, 3);            // [2,3,2], gaps between rows
        Tensor selected = base.select(1, 2);            // [2,4]
        Path file = tmp.resolve("views.safetensors");
        SafetensorsWriter.write(file, Map.of("transposed", transposed, "sliced", sliced, "selected", selected), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (Map.Entry<String, Tensor> e : Map.of("transposed", transposed, "sliced", sliced, "selected", selected).entrySet()) {
                Tensor back = f.tensor(e.getKey());
                assertThat(back.isContiguous()).isTrue();
                assertThat(back.shape()).isEqualTo(e.getValue().shape());
                assertThat(back.toFloatArray()).as(e.getKey()).containsExactly(e.getValue().toFloatArray());
            }
            assertThat(f.tensor("transposed").get(3, 1, 0)).isEqualTo(base.get(0, 1, 3));
        }
    }

    @Test
    void tensorsLargerThanTheWriteChunkRoundTrip() throws IOException {
        // 1.5 MiB contiguous and a strided view of it: both cross the writer's 1 MiB chunk boundary.
        float[] values = new float[384 * 1024];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        Tensor big = Tensor.of(values, 512, 768);
        Path file = tmp.resolve("big.safetensors");
        SafetensorsWriter.write(file, Map.of("big", big, "bigT", big.t()), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("big").toFloatArray()).isEqualTo(values);
            assertThat(f.tensor("bigT").toFloatArray()).isEqualTo(big.t().toFloatArray());
        }
    }

    @Test
    void headerIsPaddedToEightBytesAndDataIsAligned() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path file = tmp.resolve("pad.safetensors");
            SafetensorsWriter.write(file, Map.of("a", Tensor.allocate(arena, DType.F16, 3),
                    "bb", Tensor.allocate(arena, DType.F32, 1), "c", Tensor.allocate(arena, DType.BF16, 1)), Map.of());
            byte[] bytes = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertThat(headerLength % 8).isZero();
            assertThat(new String(bytes, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8))
                    .isEqualTo(String.format("%-" + headerLength + "s",
                            "{\"bb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                    + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]},"
                                    + "\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[6,12]}}"));
            assertThat(bytes.length).isEqualTo(8 + headerLength + 12);
        }
    }

    @Test
    void noTensorsAndEmptyTensorsAreValid() throws IOException {
        Path none = tmp.resolve("none.safetensors");
        SafetensorsWriter.write(none, Map.of(), Map.of("only", "metadata"));
        try (SafetensorsFile f = SafetensorsFile.open(none)) {
            assertThat(f.names()).isEmpty();
            assertThat(f.metadata()).containsEntry("only", "metadata");
        }
        Path empty = tmp.resolve("empty.safetensors");
        SafetensorsWriter.write(empty, Map.of("e", Tensor.zeros(0, 4), "s", Tensor.of(new float[] {3f})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(empty)) {
            assertThat(f.tensor("e").shape()).containsExactly(0, 4);
            assertThat(f.tensor("s").toFloatArray()).containsExactly(3f);
        }
    }

    @Test
    void readingIsZeroCopyAndCloseUnmaps() throws IOException {
        Path file = tmp.resolve("z.safetensors");
        SafetensorsWriter.write(file, Map.of("w", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)), Map.of());
        Tensor w;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            w = f.tensor("w");
            assertThat(w.data().isMapped()).isTrue();
            assertThat(f.tensor("w").data().address()).isEqualTo(w.data().address());
            assertThat(w.get(1, 0)).isEqualTo(3f);
        }
        // After close the mapping is gone; the FFM API turns any access into an exception, not a crash.
        assertThatThrownBy(() -> w.get(0, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void writingReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("a", Tensor.of(new float[] {1})), Map.of());
        SafetensorsWriter.write(file, Map.of("b", Tensor.of(new float[] {2})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.names()).containsExactly("b");
        }
        // A write that fails halfway (here: a tensor whose memory is already freed) keeps the old file.
        Arena arena = Arena.ofConfined();
        Tensor freed = Tensor.allocate(arena, DType.F32, 4);
        arena.close();
        assertThatThrownBy(() -> SafetensorsWriter.write(file, Map.of("c", freed), Map.of()))
                .isInstanceOf(IllegalStateException.class);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.names()).containsExactly("b");
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("model.safetensors");
        }
    }

    @Test
    void aTensorCannotBeNamedLikeTheMetadata() {
        assertThatThrownBy(() -> SafetensorsWriter.write(tmp.resolve("m.safetensors"),
                Map.of("__metadata__", Tensor.zeros(1)), Map.of()))
                .isInstanceOf(SafetensorsException.class).hasMessageContaining("__metadata__");
    }

    @Test
    void shardedWritingSplitsByMaximumSizeAndReadsBack() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            float[] v = new float[10];
            java.util.Arrays.fill(v, i);
            tensors.put("layer." + i, Tensor.of(v, 10));      // 40 bytes each
        }
        tensors.put("huge", Tensor.zeros(50));                 // 200 bytes: larger than a shard
        Path dir = tmp.resolve("ckpt");
        List<Path> files = SafetensorsWriter.writeSharded(dir, "model", tensors, Map.of("format", "pt"), 100);
        // Greedy in insertion order: [0,1], [2,3], [4], [huge] -> 4 shards and the index.
        assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly(
                "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                "model.safetensors.index.json");
        try (WeightSource source = Checkpoints.open(dir)) {
            assertThat(source.names()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                assertThat(source.tensor(e.getKey()).toFloatArray()).isEqualTo(e.getValue().toFloatArray());
            }
            assertThat(((ShardedCheckpoint) source).shardFor("layer.3").path().getFileName().toString())
                    .isEqualTo("model-00002-of-00004.safetensors");
            assertThat(((ShardedCheckpoint) source).shardFor("layer.3").metadata()).containsEntry("format", "pt");
        }
        String index = Files.readString(dir.resolve("model.safetensors.index.json"));
        assertThat(index).contains("\"total_size\" : " + (5 * 40 + 200));

        // Rewriting the same directory as a single file removes the stale index.
        SafetensorsWriter.writeSharded(dir, "model", Map.of("x", Tensor.zeros(2)), Map.of(), 1000);
        assertThat(dir.resolve("model.safetensors.index.json")).doesNotExist();
        try (WeightSource source = Checkpoints.open(dir)) {
            assertThat(source).isInstanceOf(SafetensorsFile.class);
            assertThat(source.names()).containsExactly("x");
        }
    }

    @Test
    void explicitShardGroupsAreKept() throws IOException {
        Path dir = tmp.resolve("groups");
        SafetensorsWriter.writeShards(dir, "adapter_model",
                List.of(Map.of("b", Tensor.zeros(1)), Map.of("a", Tensor.zeros(1), "c", Tensor.zeros(1))), Map.of());
        try (ShardedCheckpoint c = (ShardedCheckpoint) Checkpoints.open(dir, "adapter_model")) {
            assertThat(c.shardFor("b").path().getFileName().toString()).isEqualTo("adapter_model-00001-of-00002.safetensors");
            assertThat(c.shardFor("a").names()).containsExactly("a", "c");
            assertThat(c.files()).hasSize(3);
        }
    }

    @Test
    void checkpointsOpenAFileDirectly() throws IOException {
        Path file = tmp.resolve("adapter_model.safetensors");
        SafetensorsWriter.write(file, Map.of("a", Tensor.zeros(1)), Map.of());
        try (WeightSource s = Checkpoints.open(file)) {
            assertThat(s.files()).containsExactly(file);
        }
        try (WeightSource s = Checkpoints.open(tmp, "adapter_model")) {
            assertThat(s.names()).containsExactly("a");
        }
    }
}
