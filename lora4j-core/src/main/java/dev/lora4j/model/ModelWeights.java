package dev.lora4j.model;

import dev.lora4j.io.safetensors.SafetensorsException;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.tensor.Shape;
import dev.lora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * The checkpoint's tensors as an architecture asks for them: by name with the shape the config
 * implies. A missing tensor or a wrong shape is a {@link ConfigException} naming the checkpoint, the
 * tensor and what was expected. Tensors are the memory-mapped views of the weight source, not copies.
 */
public final class ModelWeights {
    private final WeightSource source;

    public ModelWeights(WeightSource source) {
        this.source = source;
    }

    public WeightSource source() {
        return source;
    }

    /** The checkpoint file(s), for error messages. */
    public String location() {
        var files = source.files();
        return files.size() == 1 ? files.get(0).toString() : files.toString();
    }

    public boolean contains(String name) {
        return source.contains(name);
    }

    /** Tensor {@code name}, which must exist with exactly {@code shape}. */
    public Tensor require(String name, int... shape) {
        if (!source.contains(name)) {
            throw new ConfigException(location() + ": missing tensor '" + name + "' (expected shape "
                    + Shape.toString(shape) + ")");
        }
        Tensor t;
        try {
            t = source.tensor(name);
        } catch (SafetensorsException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ConfigException(location() + ": tensor '" + name + "' has shape " + Shape.toString(t.shape())
                    + ", expected " + Shape.toString(shape));
        }
        return t;
    }

    /** Tensor {@code name} when {@code present} (e.g. the config says there is a bias), else null. */
    public Tensor requireIf(boolean present, String name, int... shape) {
        return present ? require(name, shape) : null;
    }
}
