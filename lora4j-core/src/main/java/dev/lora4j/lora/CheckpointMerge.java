package dev.lora4j.lora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.AtomicFile;
import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.ShardedCheckpoint;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.model.Architectures;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.Embedding;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code lora4j merge}: writes base + adapter as a plain Hugging Face checkpoint.
 *
 * <ul>
 *   <li>Every adapted weight becomes {@code W + s·B·A} ({@link LoraMerge}), in the stored dtype; every
 *       other tensor is copied unchanged.
 *   <li>The safetensors files are sharded as the source is: the same tensors in the same shard files,
 *       with an index when the source has one.
 *   <li>A weight tied to the embeddings (the output head of a model with {@code tie_word_embeddings})
 *       is not merged into the shared tensor, which would change the input embeddings too (the PEFT
 *       pitfall): the merged head is written as its own tensor ({@code lm_head.weight}), the embedding
 *       stays as it was, and {@code tie_word_embeddings} becomes false in config.json.
 *   <li>An adapted embedding becomes {@code E + s·(B·A)ᵀ}. When the output head is tied to it, the head
 *       keeps the original table as a tensor of its own ({@code lm_head.weight}) and
 *       {@code tie_word_embeddings} becomes false: PEFT's embedding adapter changes only the input
 *       lookup, so this keeps the merged model equal to the adapted one. (PEFT's own merge_and_unload
 *       adds the change to the shared tensor, so its merged model's head changes too.)
 *   <li>config.json, tokenizer files and every other file of the model directory are copied.
 *   <li>Everything is written into a hidden temporary directory beside the output, which is renamed
 *       to the output at the end: a failure leaves no output directory and no temporary one.
 * </ul>
 */
public final class CheckpointMerge {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CheckpointMerge() {}

    /** What a merge did. */
    public record Result(Path output, List<String> mergedTensors, List<String> untiedTensors, List<Path> weightFiles) {}

    public static Result merge(Path modelDir, Path adapterDir, Path outputDir, Consumer<String> warnings)
            throws IOException {
        Path output = outputDir.toAbsolutePath().normalize();
        if (Files.exists(output)) {
            throw new IOException(output + ": output already exists; refusing to overwrite it");
        }
        if (!Files.isDirectory(modelDir)) {
            throw new IOException(modelDir + ": not a model directory (expected config.json and model.safetensors)");
        }
        ModelConfig config = ModelConfig.load(modelDir.resolve("config.json"));
        try (WeightSource source = Checkpoints.open(modelDir); Arena arena = Arena.ofConfined()) {
            // Build the model over this very source, so each layer's weight can be traced to its stored name.
            CausalLM model = Architectures.forModelType(config.modelType(), config.source())
                    .build(config, new ModelWeights(source));
            LoraModel lora = PeftAdapterFiles.read(model, adapterDir, warnings);
            Map<Long, String> storedNameAt = storedNamesByAddress(source);

            Map<String, Tensor> replaced = new LinkedHashMap<>();
            Map<String, String> addedBeside = new LinkedHashMap<>();  // new tensor -> stored tensor whose shard gets it
            List<String> untied = new ArrayList<>();
            for (LoraLinear adapter : lora.adapters().values()) {
                Linear layer = lora.baseLayer(adapter.modulePath());
                String stored = storedNameAt.get(address(layer.weight()));
                if (stored == null) {
                    throw new IOException(modelDir + ": cannot find the stored tensor of layer " + layer.name());
                }
                Tensor merged = LoraMerge.merged(layer, adapter, arena);
                String own = layer.name() + ".weight";
                if (isSharedWithAnotherModule(stored, layer, model)) {
                    // Tied: the embedding keeps its values; the head gets a tensor of its own.
                    replaced.put(own, merged);
                    if (!source.contains(own)) {
                        addedBeside.put(own, stored);
                    }
                    untied.add(own + " (was tied to " + stored + ")");
                } else {
                    replaced.put(stored, merged);
                }
            }
            for (LoraEmbedding adapter : lora.embeddingAdapters().values()) {
                Embedding embedding = lora.baseEmbedding(adapter.modulePath());
                String stored = storedNameAt.get(address(embedding.table()));
                if (stored == null) {
                    throw new IOException(modelDir + ": cannot find the stored tensor of embedding " + embedding.name());
                }
                replaced.put(stored, LoraMerge.merged(embedding, adapter, arena));
                keepTiedHeadsUnadapted(model, embedding, stored, source, replaced, addedBeside, untied);
            }

            List<Map<String, Tensor>> shards = shardsLike(source, replaced, addedBeside);
            Map<String, String> metadata = metadata(source);
            Path parent = output.getParent();
            Files.createDirectories(parent);
            Path temp = Files.createTempDirectory(parent, "." + output.getFileName() + ".partial-");
            try {
                List<Path> files = SafetensorsWriter.writeShards(temp, "model", shards, metadata);
                copyOtherFiles(modelDir, temp, !untied.isEmpty());
                moveDirectory(temp, output);
                List<Path> outFiles = new ArrayList<>();
                for (Path f : files) {
                    outFiles.add(output.resolve(f.getFileName()));
                }
                return new Result(output, List.copyOf(replaced.keySet()), untied, outFiles);
            } catch (IOException | RuntimeException | Error e) {
                deleteRecursively(temp);
                throw e;
            }
        }
    }

    /**
     * An output head that reads the same stored table as an adapted embedding must keep the table as it
     * was: the embedding adapter changes only the lookup (as in PEFT's forward). Such a head gets its own
     * tensor holding the original values, unless its own adapter has already given it a merged one.
     */
    private static void keepTiedHeadsUnadapted(CausalLM model, Embedding embedding, String stored, WeightSource source,
            Map<String, Tensor> replaced, Map<String, String> addedBeside, List<String> untied) {
        for (Linear head : model.linears()) {
            String own = head.name() + ".weight";
            if (address(head.weight()) != address(embedding.table()) || own.equals(stored) || replaced.containsKey(own)) {
                continue;
            }
            replaced.put(own, embedding.table());
            if (!source.contains(own)) {
                addedBeside.put(own, stored);
            }
            untied.add(own + " (was tied to " + stored + ")");
        }
    }

    /** True when the layer's stored tensor is also used by another module (tied embeddings). */
    private static boolean isSharedWithAnotherModule(String stored, Linear layer, CausalLM model) {
        String own = layer.name() + ".weight";
        if (stored.equals(own) || stored.endsWith("." + own) || own.endsWith("." + stored)) {
            return false;
        }
        // The stored name belongs to another module: only an output head tied to the embeddings does this.
        return model.config().tieWordEmbeddings() && LoraModel.isOutputHead(layer.name());
    }

    /** Storage address of a tensor's first element, which identifies a view of the mapped checkpoint. */
    private static long address(Tensor t) {
        return t.data().address() + t.offset() * t.dtype().byteSize();
    }

    private static Map<Long, String> storedNamesByAddress(WeightSource source) throws IOException {
        Map<Long, String> byAddress = new HashMap<>();
        for (String name : source.names()) {
            if (source.info(name).dtype() != null) {
                byAddress.put(address(source.tensor(name)), name);
            }
        }
        return byAddress;
    }

    /** The source's grouping of tensors into files, with merged tensors swapped in and new ones added. */
    private static List<Map<String, Tensor>> shardsLike(WeightSource source, Map<String, Tensor> replaced,
            Map<String, String> addedBeside) throws IOException {
        List<List<String>> groups = new ArrayList<>();
        if (source instanceof ShardedCheckpoint sharded) {
            for (SafetensorsFile shard : sharded.shards()) {
                List<String> names = new ArrayList<>();
                for (String n : shard.names()) {
                    if (sharded.contains(n) && sharded.shardFor(n) == shard) {
                        names.add(n);
                    }
                }
                groups.add(names);
            }
        } else {
            groups.add(new ArrayList<>(source.names()));
        }
        List<Map<String, Tensor>> shards = new ArrayList<>();
        for (List<String> names : groups) {
            Map<String, Tensor> shard = new LinkedHashMap<>();
            for (String n : names.stream().sorted().toList()) {
                if (source.info(n).dtype() == null) {
                    throw new IOException(source.files() + ": tensor '" + n + "' has dtype " + source.info(n).dtypeName()
                            + ", which lora4j cannot copy into a merged checkpoint (F32, BF16, F16 only)");
                }
                shard.put(n, replaced.getOrDefault(n, source.tensor(n)));
                for (Map.Entry<String, String> add : addedBeside.entrySet()) {
                    if (add.getValue().equals(n)) {
                        shard.put(add.getKey(), replaced.get(add.getKey()));
                    }
                }
            }
            shards.add(shard);
        }
        return shards;
    }

    private static Map<String, String> metadata(WeightSource source) {
        if (source instanceof SafetensorsFile f) {
            return f.metadata();
        }
        if (source instanceof ShardedCheckpoint s && !s.shards().isEmpty()) {
            return s.shards().getFirst().metadata();
        }
        return Map.of();
    }

    /** Copies config.json (untied when asked), tokenizer files and the rest; weight files are rewritten, not copied. */
    private static void copyOtherFiles(Path modelDir, Path target, boolean untie) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(modelDir)) {
            files = s.sorted().toList();
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json") || Files.isDirectory(f)) {
                continue;
            }
            if (name.equals("config.json") && untie) {
                ObjectNode cfg = (ObjectNode) JSON.readTree(f.toFile());
                cfg.put("tie_word_embeddings", false);
                AtomicFile.writeString(target.resolve(name), JSON.writeValueAsString(cfg) + "\n");
            } else {
                try {
                    Files.copy(f, target.resolve(name));
                } catch (java.nio.file.NoSuchFileException e) {
                    throw new IOException(f + ": cannot copy into the merged checkpoint (a broken link?)", e);
                }
            }
        }
    }

    private static void moveDirectory(Path from, Path to) throws IOException {
        dev.lora4j.io.AtomicFile.shareable(from);
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // Best effort: the original failure is what the caller reports.
        }
    }
}
