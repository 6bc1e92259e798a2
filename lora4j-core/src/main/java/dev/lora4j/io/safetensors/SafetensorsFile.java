package dev.lora4j.io.safetensors;

import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open, memory-mapped safetensors file whose tensors are handed out as views of the mapping.
 *
 * <p>Opening reads and validates only the header; the weights stay on disk until a kernel touches
 * them, and the operating system pages them in (and may page them out again). No tensor data is
 * copied. The mapping belongs to this object: {@link #close()} unmaps it, after which every tensor
 * obtained from it throws {@link IllegalStateException} when accessed (never a crash).
 *
 * <p>Tensor data is little-endian, as the format specifies; lora4j's tensors use the platform's byte
 * order, so opening refuses to run on a big-endian platform rather than read garbage.
 */
public final class SafetensorsFile implements WeightSource {
    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /**
     * Validates the header of {@code file}, then maps the file read-only. The header is read with
     * plain reads first, so a broken file is rejected before anything is mapped.
     */
    public static SafetensorsFile open(Path file) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new SafetensorsException(file, "safetensors data is little-endian; this platform is big-endian");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafetensorsException(file, "file has " + size
                        + " bytes; a safetensors file starts with an 8-byte header length");
            }
            ByteBuffer prefix = readFully(file, channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = SafetensorsHeader.checkHeaderLength(file, size, prefix.getLong(0));
            long dataStart = 8 + headerLength;
            SafetensorsHeader header = SafetensorsHeader.parse(file, readFully(file, channel, 8, (int) headerLength),
                    size - dataStart);
            // A shared arena: the weights are read by the kernels' worker threads.
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena);
                return new SafetensorsFile(file, arena, data, header);
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(file, "file does not exist", e);
        }
    }

    private static ByteBuffer readFully(Path file, FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new SafetensorsException(file, "file ended while its header was being read (changed on disk?)");
            }
        }
        return buffer.flip();
    }

    public Path path() {
        return path;
    }

    /** Tensor names in the order their data is stored. */
    @Override
    public Set<String> names() {
        return header.byName.keySet();
    }

    /** All header entries in the order their data is stored. */
    public List<TensorInfo> infos() {
        return header.tensors;
    }

    @Override
    public boolean contains(String name) {
        return header.byName.containsKey(name);
    }

    /** The header entry of {@code name}. */
    @Override
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo info = header.byName.get(name);
        if (info == null) {
            throw new SafetensorsException(path, "no tensor named '" + name + "'"
                    + NameSuggestion.didYouMean(name, names()));
        }
        return info;
    }

    /** The {@code __metadata__} map of the header (empty when there is none). */
    public Map<String, String> metadata() {
        return header.metadata;
    }

    /**
     * A contiguous view of tensor {@code name} over the mapped file, in its stored dtype; no copy.
     *
     * @throws SafetensorsException when there is no such tensor, or its dtype is not F32, BF16 or F16
     */
    @Override
    public Tensor tensor(String name) throws SafetensorsException {
        TensorInfo info = info(name);
        DType dtype = info.dtype();
        if (dtype == null) {
            throw SafetensorsException.forTensor(path, name, "has dtype " + info.dtypeName()
                    + "; lora4j reads only F32, BF16 and F16 tensors");
        }
        return Tensor.wrap(data.asSlice(info.begin(), info.byteSize()), dtype, info.shape());
    }

    /** The raw bytes of tensor {@code name}, whatever its dtype (a view of the mapping). */
    public MemorySegment bytes(String name) throws SafetensorsException {
        TensorInfo info = info(name);
        return data.asSlice(info.begin(), info.byteSize());
    }

    @Override
    public List<Path> files() {
        return List.of(path);
    }

    /** Unmaps the file. Tensors handed out before become unusable. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header.tensors.size() + " tensors]";
    }
}
