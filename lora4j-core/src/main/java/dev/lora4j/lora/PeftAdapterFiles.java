package dev.lora4j.lora;

import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.model.CausalLM;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Adapters on disk as PEFT writes them: a directory with {@code adapter_config.json} and
 * {@code adapter_model.safetensors}, whose tensors are named
 * {@code base_model.model.<module path>.lora_A.weight} [r, in] and {@code ...lora_B.weight} [out, r].
 */
public final class PeftAdapterFiles {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";

    private PeftAdapterFiles() {}

    /** PEFT's tensor name for a parameter named {@code <path>.lora_A.weight}. */
    public static String peftName(Parameter p) {
        return PREFIX + p.name();
    }

    /** Writes config and weights into {@code dir} (created if needed), each file atomically. */
    public static void save(LoraModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            tensors.put(peftName(p), p.valueTensor());
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        AdapterConfigJson.write(model.config(), dir.resolve(AdapterConfigJson.FILE_NAME));
    }

    /**
     * Reads an adapter directory and attaches it to {@code base}. Refuses, listing every offending
     * tensor: shapes that do not fit this base model (an adapter for another model), missing or
     * unexpected tensors, and NaN or Inf values.
     */
    public static LoraModel load(CausalLM base, Path dir, Consumer<String> warnings) throws IOException {
        LoraModel model = read(base, dir, warnings);
        model.attach();
        return model;
    }

    /** As {@link #load} but leaves the adapters detached (for holding several adapters, {@link AdapterSet}). */
    public static LoraModel read(CausalLM base, Path dir, Consumer<String> warnings) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": not an adapter directory (expected " + AdapterConfigJson.FILE_NAME
                    + " and " + WEIGHTS_FILE + " inside)");
        }
        LoraConfig config = AdapterConfigJson.read(dir.resolve(AdapterConfigJson.FILE_NAME), warnings);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.exists(weights)) {
            throw new IOException(weights + ": adapter weights not found");
        }
        LoraModel model;
        try {
            model = LoraModel.detached(base, config);
        } catch (IllegalArgumentException e) {
            throw new IOException(dir.resolve(AdapterConfigJson.FILE_NAME) + ": " + e.getMessage(), e);
        }
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            List<String> problems = new ArrayList<>();
            Set<String> expected = new TreeSet<>();
            for (Parameter p : model.parameters()) {
                String name = peftName(p);
                expected.add(name);
                if (!file.contains(name)) {
                    problems.add(name + ": missing");
                    continue;
                }
                Tensor t = file.tensor(name);
                if (!Arrays.equals(t.shape(), p.shape())) {
                    problems.add(name + ": shape " + Arrays.toString(t.shape()) + " but this base model needs "
                            + Arrays.toString(p.shape()));
                    continue;
                }
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        problems.add(name + ": non-finite value " + v[i] + " at element " + i);
                        break;
                    }
                }
                System.arraycopy(v, 0, p.value(), 0, v.length);
            }
            for (String name : new TreeSet<>(file.names())) {
                if (expected.contains(name)) {
                    continue;
                }
                if (name.contains(".lora_")) {
                    problems.add(name + ": present in the file but matches no adapted module of this model");
                } else if (name.contains(".modules_to_save.") || name.contains("lora_magnitude_vector")) {
                    problems.add(name + ": modules_to_save copies and DoRA magnitudes are not supported yet");
                } else {
                    // PEFT saves the base embedding layers beside the adapter when lm_head or embed_tokens is a
                    // target (save_embedding_layers="auto"); they are the base model's own weights.
                    warnings.accept(weights + ": ignoring non-LoRA tensor " + name);
                }
            }
            if (!problems.isEmpty()) {
                throw new IOException(weights + ": adapter does not fit this base model:\n  "
                        + String.join("\n  ", problems));
            }
        }
        return model;
    }
}
