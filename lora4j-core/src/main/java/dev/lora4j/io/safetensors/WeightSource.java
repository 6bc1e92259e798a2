package dev.lora4j.io.safetensors;

import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Named tensors read from a checkpoint: one safetensors file, or several shards behind an index.
 * Tensors are views of memory-mapped files and stay valid until {@link #close()}.
 */
public interface WeightSource extends AutoCloseable {

    /** All tensor names. */
    Set<String> names();

    boolean contains(String name);

    /** The stored dtype, shape and byte range of {@code name}. */
    TensorInfo info(String name) throws SafetensorsException;

    /**
     * Tensor {@code name} in its stored dtype, without copying.
     *
     * @throws SafetensorsException naming the tensor and the files searched when it is absent, or
     *     when its dtype is not one lora4j computes with
     */
    Tensor tensor(String name) throws SafetensorsException;

    /** The files this source reads. */
    List<Path> files();

    /** Unmaps every file; tensors handed out before become unusable. */
    @Override
    void close();
}
