package dev.lora4j.io.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Opens the weights of a Hugging Face checkpoint, whether it is one file or sharded. */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * Opens {@code path}: a safetensors file itself, or a directory holding
     * {@code model.safetensors.index.json} (sharded) or {@code model.safetensors}.
     */
    public static WeightSource open(Path path) throws IOException {
        return open(path, "model");
    }

    /**
     * Like {@link #open(Path)} with another base name: {@code "adapter_model"} finds
     * {@code adapter_model.safetensors}. The index, when present, wins over a single file.
     */
    public static WeightSource open(Path path, String baseName) throws IOException {
        if (Files.isRegularFile(path)) {
            return path.getFileName().toString().endsWith(".index.json")
                    ? ShardedCheckpoint.open(path)
                    : SafetensorsFile.open(path);
        }
        if (!Files.isDirectory(path)) {
            throw new SafetensorsException(path, "no such file or directory");
        }
        Path index = path.resolve(baseName + ".safetensors.index.json");
        if (Files.isRegularFile(index)) {
            return ShardedCheckpoint.open(index);
        }
        Path single = path.resolve(baseName + ".safetensors");
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        throw new SafetensorsException(path, "found neither " + index.getFileName() + " nor " + single.getFileName()
                + " in this directory" + otherSafetensors(path));
    }

    private static String otherSafetensors(Path dir) {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors") || n.endsWith(".safetensors.index.json"))
                    .sorted()
                    .forEach(found::add);
        } catch (IOException e) {
            return "";
        }
        return found.isEmpty() ? " (it holds no .safetensors files)" : " (it holds " + String.join(", ", found) + ")";
    }
}
