package dev.lora4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A resumable training state in one directory: the adapter (PEFT layout), AdamW's moments
 * ({@code optimizer.safetensors}) and {@code trainer_state.json} (the step reached, the seed, and
 * whether activations were recomputed: recorded for the record only, since recomputation changes
 * memory and time but not one bit of the results, so a run may resume with it switched either way).
 *
 * <p>Saved atomically: everything is written into a fresh temporary directory which then replaces
 * the previous checkpoint by renames, so a run killed at any moment leaves either the old or the new
 * checkpoint complete, never a mixture.
 */
public final class TrainingCheckpoint {
    public static final String DIR_NAME = "checkpoint";
    private static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private static final String STATE_FILE = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingCheckpoint() {}

    public static void save(Path outputDir, LoraModel model, AdamW optimizer, long step, long seed, boolean recompute)
            throws IOException {
        Path target = outputDir.resolve(DIR_NAME);
        Path tmp = Files.createTempDirectory(outputDir, DIR_NAME + ".tmp-");
        try {
            PeftAdapterFiles.save(model, tmp);
            Map<String, Tensor> moments = new LinkedHashMap<>();
            List<Parameter> params = model.parameters();
            for (int i = 0; i < params.size(); i++) {
                int[] shape = params.get(i).shape();
                moments.put("exp_avg." + params.get(i).name(), Tensor.of(optimizer.firstMoments()[i], shape));
                moments.put("exp_avg_sq." + params.get(i).name(), Tensor.of(optimizer.secondMoments()[i], shape));
            }
            SafetensorsWriter.write(tmp.resolve(OPTIMIZER_FILE), moments, Map.of());
            ObjectNode state = JSON.createObjectNode();
            state.put("step", step);
            state.put("optimizer_step", optimizer.stepCount());
            state.put("seed", seed);
            state.put("recompute", recompute);
            Files.writeString(tmp.resolve(STATE_FILE), JSON.writeValueAsString(state));
            Path old = outputDir.resolve(DIR_NAME + ".old");
            deleteRecursively(old);
            if (Files.exists(target)) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            dev.lora4j.io.AtomicFile.shareable(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            deleteRecursively(old);
        } finally {
            deleteRecursively(tmp);
        }
    }

    /** The checkpoint directory to resume from, or null; falls back to the previous one if a save was cut short. */
    public static Path find(Path outputDir) {
        Path target = outputDir.resolve(DIR_NAME);
        if (Files.exists(target.resolve(STATE_FILE))) {
            return target;
        }
        Path old = outputDir.resolve(DIR_NAME + ".old");
        return Files.exists(old.resolve(STATE_FILE)) ? old : null;
    }

    /** Restores adapter values and optimizer state; returns the step to continue from. */
    public static long restore(Path checkpoint, LoraModel model, AdamW optimizer, long seed) throws IOException {
        JsonNode state = JSON.readTree(checkpoint.resolve(STATE_FILE).toFile());
        if (state.path("seed").asLong() != seed) {
            throw new IOException(checkpoint + ": was written with seed " + state.path("seed").asLong()
                    + ", this run uses " + seed + "; resume with the same --seed");
        }
        List<Parameter> params = model.parameters();
        try (SafetensorsFile adapter = SafetensorsFile.open(checkpoint.resolve(PeftAdapterFiles.WEIGHTS_FILE));
             SafetensorsFile moments = SafetensorsFile.open(checkpoint.resolve(OPTIMIZER_FILE))) {
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                copy(adapter.tensor(PeftAdapterFiles.peftName(p)), p.value(), checkpoint, p.name());
                copy(moments.tensor("exp_avg." + p.name()), optimizer.firstMoments()[i], checkpoint, p.name());
                copy(moments.tensor("exp_avg_sq." + p.name()), optimizer.secondMoments()[i], checkpoint, p.name());
            }
        }
        optimizer.restoreStep(state.path("optimizer_step").asLong());
        return state.path("step").asLong();
    }

    /** Whether the run that wrote {@code checkpoint} recomputed activations (false for checkpoints from before the field). */
    public static boolean writtenWithRecompute(Path checkpoint) throws IOException {
        return JSON.readTree(checkpoint.resolve(STATE_FILE).toFile()).path("recompute").asBoolean(false);
    }

    private static void copy(Tensor src, float[] dst, Path checkpoint, String name) throws IOException {
        float[] v = src.toFloatArray();
        if (v.length != dst.length) {
            throw new IOException(checkpoint + ": " + name + " has " + v.length + " values, the model needs "
                    + dst.length + " (different --rank or --target-modules than the checkpointed run?)");
        }
        System.arraycopy(v, 0, dst, 0, v.length);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
