package dev.lora4j.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of broken input gives a {@link SafetensorsException} whose message names the file,
 * the tensor when there is one, and what was expected versus found.
 */
class SafetensorsBadInputTest {
    @TempDir
    Path tmp;

    private static final String GOOD_ENTRY = "{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    private Path file(String header, int dataBytes) throws IOException {
        return SafetensorsTestFiles.write(tmp.resolve("bad.safetensors"), header, dataBytes);
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertOpenFails(Path file) {
        return assertThatThrownBy(() -> {
            try (WeightSource s = Checkpoints.open(file)) {
                s.names();
            }
        }).isInstanceOf(SafetensorsException.class).hasMessageStartingWith(file.toString());
    }

    private Path validFile() throws IOException {
        Path f = tmp.resolve("good.safetensors");
        SafetensorsWriter.write(f, Map.of("layers.0.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3),
                "layers.0.bias", Tensor.of(new float[] {7, 8}, 2)), Map.of());
        return f;
    }

    // ---- the file and its length prefix ---------------------------------------------------

    @Test
    void truncatedInsideTheData() throws IOException {
        Path f = validFile();
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(bytes, bytes.length - 5));
        assertOpenFails(f).hasMessageContaining("layers.0.weight").hasMessageContaining("past the end of the data area");
    }

    @Test
    void truncatedInsideTheHeader() throws IOException {
        Path f = validFile();
        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 30));
        assertOpenFails(f).hasMessageContaining("header length prefix says").hasMessageContaining("only 22 bytes");
    }

    @Test
    void shorterThanTheLengthPrefix() throws IOException {
        Path f = tmp.resolve("tiny.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertOpenFails(f).hasMessageContaining("file has 3 bytes").hasMessageContaining("8-byte header length");
    }

    @Test
    void headerLengthLargerThanTheFile() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Path f = SafetensorsTestFiles.write(tmp.resolve("long.safetensors"), 4096, header, new byte[0]);
        assertOpenFails(f).hasMessageContaining("says 4096 bytes of header").hasMessageContaining("only 2 bytes");
    }

    @Test
    void headerLengthBeyondAnyValidHeader() throws IOException {
        Path f = SafetensorsTestFiles.write(tmp.resolve("huge.safetensors"), -1L, new byte[] {'{', '}'}, new byte[0]);
        assertOpenFails(f).hasMessageContaining("18446744073709551615").hasMessageContaining("at most 100000000");
    }

    @Test
    void missingFile() {
        assertOpenFails(tmp.resolve("nope.safetensors")).hasMessageContaining("no such file or directory");
    }

    @Test
    void directoryWithoutACheckpoint() throws IOException {
        Files.writeString(tmp.resolve("weights.safetensors"), "x");
        assertOpenFails(tmp).hasMessageContaining("found neither model.safetensors.index.json nor model.safetensors")
                .hasMessageContaining("it holds weights.safetensors");
    }

    // ---- the header JSON ------------------------------------------------------------------

    @Test
    void headerIsNotJson() throws IOException {
        assertOpenFails(file("{\"a\": {\"dtype\": F32}}", 0)).hasMessageContaining("header is not valid JSON");
    }

    @Test
    void headerIsNotUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path f = SafetensorsTestFiles.write(tmp.resolve("latin.safetensors"), header.length, header, new byte[0]);
        assertOpenFails(f).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void headerIsEmpty() throws IOException {
        assertOpenFails(file("", 0)).hasMessageContaining("header is empty");
    }

    @Test
    void headerIsNotAnObject() throws IOException {
        assertOpenFails(file("[1, 2, 3]", 0)).hasMessageContaining("must be a JSON object, found array [1,2,3]");
    }

    @Test
    void trailingTextAfterTheHeaderObject() throws IOException {
        assertOpenFails(file("{} {}", 0)).hasMessageContaining("not valid JSON");
    }

    @Test
    void duplicateTensorName() throws IOException {
        assertOpenFails(file("{\"w\":" + GOOD_ENTRY + ",\"w\":" + GOOD_ENTRY + "}", 16))
                .hasMessageContaining("Duplicate field 'w'");
    }

    @Test
    void entryIsNotAnObject() throws IOException {
        assertOpenFails(file("{\"w\": 5}", 0)).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("expected an object with dtype, shape and data_offsets, found number 5");
    }

    @Test
    void missingFields() throws IOException {
        assertOpenFails(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("tensor 'w': missing field \"dtype\"");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("tensor 'w': missing field \"shape\"");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4))
                .hasMessageContaining("tensor 'w': missing field \"data_offsets\"");
    }

    @Test
    void fieldsOfTheWrongType() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("dtype must be a string, found number 32");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("shape must be an array of sizes, found string \"1\"");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("shape entry 0 must be an integer in [0, 2147483647], found number -1");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("shape entry 0");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("shape entry 0");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4))
                .hasMessageContaining("data_offsets must be an array [begin, end], found array [0]");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4))
                .hasMessageContaining("two non-negative integers");
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4))
                .hasMessageContaining("data_offsets [4, 0) end before they begin");
    }

    @Test
    void metadataMustMapStringsToStrings() throws IOException {
        assertOpenFails(file("{\"__metadata__\":{\"format\":1}}", 0))
                .hasMessageContaining("__metadata__ entry 'format' must be a string, found number 1");
        assertOpenFails(file("{\"__metadata__\":[]}", 0)).hasMessageContaining("__metadata__ must be an object");
    }

    // ---- dtypes, shapes and byte ranges -----------------------------------------------------

    @Test
    void unknownDtype() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4))
                .hasMessageContaining("tensor 'w': unknown dtype \"F33\"").hasMessageContaining("BF16");
    }

    @Test
    void shapeDoesNotMatchTheByteRange() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16))
                .hasMessageContaining("tensor 'w': BF16[2, 3] needs 6 x BF16 = 12 bytes, but data_offsets [0, 16) hold 16 bytes");
    }

    @Test
    void subByteDtypeWithAnOddElementCount() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2))
                .hasMessageContaining("not a whole number of bytes");
    }

    @Test
    void shapeTooLargeToAddress() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8))
                .hasMessageContaining("too many elements");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16))
                .hasMessageContaining("tensor 'w': data_offsets [8, 24) reach past the end of the data area, which has 16 bytes");
    }

    @Test
    void overlappingRanges() throws IOException {
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16))
                .hasMessageContaining("tensor 'b': byte range [8, 16) overlaps tensor 'a' at [0, 12)");
    }

    @Test
    void gapsBetweenRangesAndEmptyTensorsAnywhereAreAccepted() throws IOException {
        Path f = file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[10,10]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 16);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertThat(s.names()).containsExactly("a", "b", "e"); // in order of where their data begins
        }
    }

    // ---- looking tensors up -----------------------------------------------------------------

    @Test
    void missingTensorSuggestsACloseName() throws IOException {
        Path f = validFile();
        try (WeightSource s = Checkpoints.open(f)) {
            assertThatThrownBy(() -> s.tensor("layers.0.wieght"))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessage(f + ": no tensor named 'layers.0.wieght' (did you mean 'layers.0.weight'?)");
            assertThatThrownBy(() -> s.tensor("lm_head.weight"))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessage(f + ": no tensor named 'lm_head.weight'");
        }
    }

    // ---- sharded checkpoints ----------------------------------------------------------------

    private Path shardedDir() throws IOException {
        Path dir = tmp.resolve("ckpt");
        SafetensorsWriter.writeSharded(dir, "model", new TreeMap<>(Map.of("a.weight", Tensor.zeros(4), "b.weight", Tensor.zeros(4))),
                Map.of(), 16);
        return dir;
    }

    @Test
    void missingTensorInAShardedCheckpointNamesTheShardsSearched() throws IOException {
        Path dir = shardedDir();
        try (WeightSource s = Checkpoints.open(dir)) {
            assertThatThrownBy(() -> s.tensor("c.weight"))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessage(dir.resolve("model.safetensors.index.json") + ": no tensor named 'c.weight' in the weight_map"
                            + " (shards model-00001-of-00002.safetensors, model-00002-of-00002.safetensors)"
                            + " (did you mean 'a.weight'?)");
        }
    }

    @Test
    void missingShardFile() throws IOException {
        Path dir = shardedDir();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertOpenFails(dir.resolve("model.safetensors.index.json"))
                .hasMessageContaining("tensor 'b.weight': its shard file")
                .hasMessageContaining("model-00002-of-00002.safetensors does not exist");
    }

    @Test
    void malformedIndexJson() throws IOException {
        Path dir = shardedDir();
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a.weight\": ");
        assertOpenFails(index).hasMessageContaining("index is not valid JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertOpenFails(index).hasMessageContaining("index needs \"weight_map\"").hasMessageContaining("found none");
        Files.writeString(index, "{\"weight_map\": {\"a.weight\": 3}}");
        assertOpenFails(index).hasMessageContaining("tensor 'a.weight': weight_map value must be a shard file name, found 3");
        Files.writeString(index, "{\"weight_map\": {}}");
        assertOpenFails(index).hasMessageContaining("weight_map is empty");
        Files.writeString(index, "[]");
        assertOpenFails(index).hasMessageContaining("index must be a JSON object");
    }

    @Test
    void indexPointsAtTheWrongShardOrOutsideItsFolder() throws IOException {
        Path dir = shardedDir();
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"b.weight\": \"model-00001-of-00002.safetensors\"}}");
        assertOpenFails(index).hasMessageContaining("tensor 'b.weight': the index places it in model-00001-of-00002.safetensors,"
                + " but that file has no such tensor (did you mean 'a.weight'?)");
        Files.writeString(index, "{\"weight_map\": {\"a.weight\": \"../model-00001-of-00002.safetensors\"}}");
        assertOpenFails(index).hasMessageContaining("must be a file name in the index's own folder");
    }

    @Test
    void aBrokenShardIsReportedWithItsOwnPath() throws IOException {
        Path dir = shardedDir();
        Path shard = dir.resolve("model-00001-of-00002.safetensors");
        Files.write(shard, Arrays.copyOf(Files.readAllBytes(shard), 12));
        assertThatThrownBy(() -> Checkpoints.open(dir).close())
                .isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(shard.toString())
                .hasMessageContaining("header length prefix");
    }
}
