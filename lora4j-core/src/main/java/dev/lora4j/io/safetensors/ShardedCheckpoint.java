package dev.lora4j.io.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint split over several safetensors files ("shards") by an index file such as
 * {@code model.safetensors.index.json}: {@code {"metadata": {...}, "weight_map": {tensor: shard file}}}.
 *
 * <p>Every shard is opened (mapped and validated) up front, and every tensor the index lists is
 * checked to be present in its shard, so a broken checkpoint fails when it is opened, not halfway
 * through loading a model.
 */
public final class ShardedCheckpoint implements WeightSource {
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path index;
    private final Map<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private ShardedCheckpoint(Path index, Map<String, SafetensorsFile> shardOf, List<SafetensorsFile> shards) {
        this.index = index;
        this.shardOf = Collections.unmodifiableMap(shardOf);
        this.shards = List.copyOf(shards);
    }

    /** Opens the index file and every shard it names (shard paths are relative to the index's folder). */
    public static ShardedCheckpoint open(Path indexFile) throws IOException {
        Map<String, String> weightMap = readWeightMap(indexFile);
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> openShards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                String shardName = e.getValue();
                SafetensorsFile shard = openShards.get(shardName);
                if (shard == null) {
                    shard = openShard(indexFile, dir, tensor, shardName);
                    openShards.put(shardName, shard);
                }
                if (!shard.contains(tensor)) {
                    throw SafetensorsException.forTensor(indexFile, tensor, "the index places it in " + shardName
                            + ", but that file has no such tensor" + NameSuggestion.didYouMean(tensor, shard.names()));
                }
                shardOf.put(tensor, shard);
            }
        } catch (IOException | RuntimeException | Error e) {
            openShards.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new ShardedCheckpoint(indexFile, shardOf, new ArrayList<>(openShards.values()));
    }

    private static SafetensorsFile openShard(Path indexFile, Path dir, String tensor, String shardName)
            throws IOException {
        Path shardPath;
        try {
            shardPath = dir.resolve(shardName).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw SafetensorsException.forTensor(indexFile, tensor, "shard name \"" + shardName + "\" is not a valid file name");
        }
        if (!shardPath.getParent().equals(dir.normalize())) {
            throw SafetensorsException.forTensor(indexFile, tensor, "shard \"" + shardName
                    + "\" must be a file name in the index's own folder");
        }
        if (!Files.isRegularFile(shardPath)) {
            throw SafetensorsException.forTensor(indexFile, tensor, "its shard file " + shardPath + " does not exist");
        }
        return SafetensorsFile.open(shardPath);
    }

    /** Reads the {@code weight_map} of an index file, in file order. */
    static Map<String, String> readWeightMap(Path indexFile) throws SafetensorsException {
        JsonNode root;
        try {
            root = JSON.readTree(indexFile.toFile());
        } catch (JacksonException e) {
            throw new SafetensorsException(indexFile, "index is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new SafetensorsException(indexFile, "index file does not exist", e);
        } catch (IOException e) {
            throw new SafetensorsException(indexFile, "cannot read index: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(indexFile, "index must be a JSON object with a \"weight_map\"");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsException(indexFile, "index needs \"weight_map\": an object from tensor name to shard file"
                    + (map == null ? ", found none" : ", found " + map.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual() || e.getValue().textValue().isEmpty()) {
                throw SafetensorsException.forTensor(indexFile, e.getKey(),
                        "weight_map value must be a shard file name, found " + e.getValue());
            }
            weightMap.put(e.getKey(), e.getValue().textValue());
        }
        if (weightMap.isEmpty()) {
            throw new SafetensorsException(indexFile, "weight_map is empty; expected at least one tensor");
        }
        return weightMap;
    }

    public Path indexFile() {
        return index;
    }

    @Override
    public Set<String> names() {
        return shardOf.keySet();
    }

    @Override
    public boolean contains(String name) {
        return shardOf.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) throws SafetensorsException {
        return shardFor(name).info(name);
    }

    @Override
    public Tensor tensor(String name) throws SafetensorsException {
        return shardFor(name).tensor(name);
    }

    /** The shard that holds {@code name}. */
    public SafetensorsFile shardFor(String name) throws SafetensorsException {
        SafetensorsFile shard = shardOf.get(name);
        if (shard == null) {
            throw new SafetensorsException(index, "no tensor named '" + name + "' in the weight_map (shards "
                    + shardNames() + ")" + NameSuggestion.didYouMean(name, names()));
        }
        return shard;
    }

    /** The shard files, in the order the index first mentions them. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    private String shardNames() {
        List<String> names = new ArrayList<>();
        for (SafetensorsFile s : shards) {
            names.add(String.valueOf(s.path().getFileName()));
        }
        return String.join(", ", names);
    }

    @Override
    public List<Path> files() {
        List<Path> files = new ArrayList<>();
        files.add(index);
        for (SafetensorsFile s : shards) {
            files.add(s.path());
        }
        return files;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
