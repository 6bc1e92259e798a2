package dev.lora4j.io.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.AtomicFile;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes tensors in the safetensors format, each file through a temporary file and an atomic rename.
 *
 * <p>The layout follows the Python library, so that the same tensors give the same bytes: tensors
 * are stored grouped by dtype in the library's order (F32, then BF16, then F16: largest element
 * first, which with the header padded to a multiple of 8 keeps every tensor aligned to its element
 * size), by name within a dtype; the header is compact JSON listing {@code __metadata__} first and
 * then the tensors in storage order, padded with spaces to a multiple of 8 bytes. Tensors of any
 * strides are written in row-major order of their logical shape.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);
    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /** Writes {@code tensors} and (when not empty) {@code metadata} to {@code file}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new SafetensorsException(file, "safetensors data is little-endian; this platform is big-endian");
        }
        List<Map.Entry<String, Tensor>> ordered = storageOrder(file, tensors);
        byte[] header = headerBytes(ordered, metadata);
        AtomicFile.write(file, channel -> {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFile.writeFully(channel, prefix);
            AtomicFile.writeFully(channel, ByteBuffer.wrap(header));
            byte[] chunk = new byte[CHUNK_BYTES];
            for (Map.Entry<String, Tensor> e : ordered) {
                writeElements(channel, e.getValue(), chunk);
            }
        });
    }

    /**
     * Writes a checkpoint into {@code dir} as Hugging Face does: when everything fits in
     * {@code maxShardBytes}, a single {@code <baseName>.safetensors}; otherwise shards
     * {@code <baseName>-00001-of-0000N.safetensors} filled greedily in the iteration order of
     * {@code tensors} (a tensor larger than the limit gets a shard of its own), then
     * {@code <baseName>.safetensors.index.json}. The index is written last, so a reader never sees
     * an index pointing at missing shards; a stale index or single file of the other layout is removed.
     *
     * @return the files written, index last
     */
    public static List<Path> writeSharded(Path dir, String baseName, Map<String, Tensor> tensors,
            Map<String, String> metadata, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = storedBytes(e.getValue());
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        shards.add(current);
        return writeShards(dir, baseName, shards, metadata);
    }

    /**
     * Writes the given grouping of tensors into shards (or one file when there is one group), with
     * the index last. Use this to reproduce the sharding of an existing checkpoint.
     *
     * @return the files written, index last
     */
    public static List<Path> writeShards(Path dir, String baseName, List<? extends Map<String, Tensor>> shards,
            Map<String, String> metadata) throws IOException {
        Files.createDirectories(dir);
        Path single = dir.resolve(baseName + ".safetensors");
        Path index = dir.resolve(baseName + ".safetensors.index.json");
        if (shards.size() <= 1) {
            write(single, shards.isEmpty() ? Map.of() : shards.getFirst(), metadata);
            Files.deleteIfExists(index);
            return List.of(single);
        }
        List<Path> written = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long totalSize = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("%s-%05d-of-%05d.safetensors", baseName, i + 1, shards.size());
            Path shardFile = dir.resolve(name);
            write(shardFile, shards.get(i), metadata);
            written.add(shardFile);
            for (Map.Entry<String, Tensor> e : shards.get(i).entrySet()) {
                if (weightMap.put(e.getKey(), name) != null) {
                    throw new IllegalArgumentException("tensor '" + e.getKey() + "' is in more than one shard");
                }
                totalSize += storedBytes(e.getValue());
            }
        }
        ObjectNode root = JSON.createObjectNode();
        root.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        AtomicFile.writeString(index, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        Files.deleteIfExists(single);
        written.add(index);
        return written;
    }

    private static long storedBytes(Tensor t) {
        return t.dtype().byteSizeOf(t.numel());
    }

    /** Python's order: dtypes from the widest down (keeps every tensor aligned), then by name. */
    private static List<Map.Entry<String, Tensor>> storageOrder(Path file, Map<String, Tensor> tensors)
            throws SafetensorsException {
        List<Map.Entry<String, Tensor>> ordered = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, Tensor> e : ordered) {
            if (e.getKey().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new SafetensorsException(file, "a tensor cannot be named " + SafetensorsHeader.METADATA_KEY);
            }
        }
        ordered.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(e -> storageRank(e.getValue().dtype()))
                .thenComparing(Map.Entry::getKey));
        return ordered;
    }

    /** Position of a dtype's group in the file; the safetensors library sorts its dtype enum descending. */
    private static int storageRank(DType dtype) {
        return switch (dtype) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
        };
    }

    /** The header JSON with data offsets, padded with spaces to a multiple of 8 bytes. */
    static byte[] headerBytes(List<Map.Entry<String, Tensor>> ordered, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : ordered) {
            Tensor t = e.getValue();
            long bytes = storedBytes(t);
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Writes the elements of {@code t} in row-major order of its shape, as raw stored bits. */
    private static void writeElements(FileChannel channel, Tensor t, byte[] chunk) throws IOException {
        MemorySegment buffer = MemorySegment.ofArray(chunk);
        if (t.isContiguous()) {
            MemorySegment src = t.segment();
            for (long pos = 0; pos < src.byteSize(); pos += chunk.length) {
                int n = (int) Math.min(chunk.length, src.byteSize() - pos);
                MemorySegment.copy(src, pos, buffer, 0, n);
                AtomicFile.writeFully(channel, ByteBuffer.wrap(chunk, 0, n));
            }
            return;
        }
        // Strided: walk the logical indices like an odometer, copying one element's bytes at a time.
        int elementBytes = t.dtype().byteSize();
        int[] shape = t.shape();
        long[] strides = t.strides();
        int[] idx = new int[shape.length];
        long storage = t.offset();
        long remaining = t.numel();
        int filled = 0;
        MemorySegment data = t.data();
        while (remaining-- > 0) {
            MemorySegment.copy(data, storage * elementBytes, buffer, filled, elementBytes);
            filled += elementBytes;
            if (filled + elementBytes > chunk.length) {
                AtomicFile.writeFully(channel, ByteBuffer.wrap(chunk, 0, filled));
                filled = 0;
            }
            for (int d = shape.length - 1; d >= 0; d--) {
                storage += strides[d];
                if (++idx[d] < shape[d]) {
                    break;
                }
                storage -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
        AtomicFile.writeFully(channel, ByteBuffer.wrap(chunk, 0, filled));
    }
}
