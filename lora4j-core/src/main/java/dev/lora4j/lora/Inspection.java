package dev.lora4j.lora;

import dev.lora4j.io.safetensors.Checkpoints;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.TensorInfo;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.Models;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code lora4j inspect} reports, as ordered maps ready to print as JSON: for a model directory its
 * architecture, parameter counts (total, by kind, by dtype) and weight bytes; for an adapter directory
 * its LoRA settings, parameter count, the modules it adapts per layer and, given the base model, the
 * trainable share and the estimated memory of a training run ({@link TrainingMemoryEstimate}).
 */
public final class Inspection {
    private Inspection() {}

    /** True when {@code dir} holds an adapter rather than a model. */
    public static boolean isAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(AdapterConfigJson.FILE_NAME));
    }

    /** A model directory; the memory estimate assumes an adapter given by {@code hypothetical}. */
    public static Map<String, Object> model(Path dir, LoraConfig hypothetical, int batch, int seqLen) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        ModelConfig c = ModelConfig.load(dir.resolve("config.json"));
        out.put("kind", "model");
        out.put("path", dir.toString());
        out.put("architecture", architecture(c));
        long weightBytes;
        try (WeightSource source = Checkpoints.open(dir)) {
            Map<String, Long> byKind = new TreeMap<>();
            Map<String, Long> byDtype = new TreeMap<>();
            long total = 0;
            weightBytes = 0;
            for (String name : source.names()) {
                TensorInfo info = source.info(name);
                byKind.merge(kindOf(name), info.numel(), Long::sum);
                byDtype.merge(info.dtypeName(), info.numel(), Long::sum);
                total += info.numel();
                weightBytes += info.byteSize();
            }
            out.put("parameters", total);
            out.put("parameters_by_kind", byKind);
            out.put("parameters_by_dtype", byDtype);
            out.put("dtype", byDtype.size() == 1 ? byDtype.keySet().iterator().next() : "mixed");
            out.put("weight_bytes", weightBytes);
            out.put("weight_files", source.files().stream().map(p -> p.getFileName().toString()).toList());
        }
        if (hypothetical != null) {
            try (CausalLM lm = Models.load(dir)) {
                LoraModel lora = LoraModel.detached(lm, hypothetical);
                Map<String, Object> est = new LinkedHashMap<>();
                est.put("assumed_adapter", "r=" + hypothetical.r() + " on " + describeTargets(hypothetical));
                est.put("adapter_parameters", lora.trainableParameterCount());
                est.put("trainable_share", (double) lora.trainableParameterCount() / (long) out.get("parameters"));
                est.putAll(memory(lm.config(), weightBytes, lora, batch, seqLen));
                out.put("training_memory_estimate", est);
            }
        }
        return out;
    }

    /** An adapter directory, with its base model when {@code baseDir} is given. */
    public static Map<String, Object> adapter(Path dir, Path baseDir, int batch, int seqLen) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        LoraConfig c = AdapterConfigJson.read(dir.resolve(AdapterConfigJson.FILE_NAME), warnings::add);
        out.put("kind", "adapter");
        out.put("path", dir.toString());
        out.put("base_model_name_or_path", c.baseModelNameOrPath());
        out.put("r", c.r());
        out.put("lora_alpha", c.loraAlpha());
        out.put("use_rslora", c.useRslora());
        out.put("lora_dropout", c.loraDropout());
        out.put("target_modules", describeTargets(c));
        if (!c.rankPattern().isEmpty()) {
            out.put("rank_pattern", c.rankPattern());
        }
        if (!c.alphaPattern().isEmpty()) {
            out.put("alpha_pattern", c.alphaPattern());
        }
        Path weights = dir.resolve(PeftAdapterFiles.WEIGHTS_FILE);
        long params = 0;
        Map<String, Long> byDtype = new TreeMap<>();
        Map<String, List<String>> perLayer = new TreeMap<>(Inspection::byLayerNumber);
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (TensorInfo info : f.infos()) {
                params += info.numel();
                byDtype.merge(info.dtypeName(), info.numel(), Long::sum);
                String name = info.name();
                String suffix = name.endsWith(".lora_A.weight") ? ".lora_A.weight"
                        : name.endsWith(".lora_embedding_A") ? ".lora_embedding_A" : null;
                if (suffix != null && name.startsWith(PeftAdapterFiles.PREFIX)) {
                    String path = name.substring(PeftAdapterFiles.PREFIX.length(), name.length() - suffix.length());
                    Integer layer = TargetResolver.layerIndex(path, List.of());
                    String module = path.substring(path.lastIndexOf('.') + 1);
                    perLayer.computeIfAbsent(layer == null ? "other" : String.valueOf(layer), k -> new ArrayList<>())
                            .add(module + " (r=" + info.shape()[0] + ")");
                }
            }
        }
        out.put("parameters", params);
        out.put("parameters_by_dtype", byDtype);
        out.put("modules_per_layer", perLayer);
        if (baseDir != null) {
            try (CausalLM lm = Models.load(baseDir)) {
                LoraModel lora = PeftAdapterFiles.read(lm, dir, warnings::add);  // also checks that it fits
                Map<String, Object> base = model(baseDir, null, batch, seqLen);
                long baseParams = (long) base.get("parameters");
                long weightBytes = (long) base.get("weight_bytes");
                out.put("base_parameters", baseParams);
                out.put("trainable_share", (double) lora.trainableParameterCount() / baseParams);
                out.put("training_memory_estimate", memory(lm.config(), weightBytes, lora, batch, seqLen));
            }
        }
        if (!warnings.isEmpty()) {
            out.put("warnings", warnings);
        }
        return out;
    }

    private static int byLayerNumber(String a, String b) {
        boolean na = a.chars().allMatch(Character::isDigit);
        boolean nb = b.chars().allMatch(Character::isDigit);
        if (na && nb) {
            return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
        }
        return na ? -1 : nb ? 1 : a.compareTo(b);
    }

    private static Map<String, Object> memory(ModelConfig c, long weightBytes, LoraModel lora, int batch, int seqLen) {
        long ranks = 0;
        long inputs = 0;
        for (LoraLinear a : lora.adapters().values()) {
            ranks += a.rank();
            inputs += a.inFeatures();
        }
        for (LoraEmbedding a : lora.embeddingAdapters().values()) {
            ranks += a.rank();  // its saved s·Aᵀ[ids], once per model rather than per layer; no dropout copy
        }
        int layers = Math.max(1, c.numLayers());
        TrainingMemoryEstimate e = TrainingMemoryEstimate.of(c, weightBytes, lora.trainableParameterCount(),
                Math.ceilDiv(ranks, layers), Math.ceilDiv(inputs, layers), lora.config().loraDropout(), batch, seqLen);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch_size", batch);
        m.put("seq_len", seqLen);
        m.putAll(e.parts());
        m.put("heap", e.heapBytes());
        return m;
    }

    private static Map<String, Object> architecture(ModelConfig c) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("model_type", c.modelType());
        a.put("layers", c.numLayers());
        a.put("hidden_size", c.hiddenSize());
        a.put("intermediate_size", c.intermediateSize());
        a.put("attention_heads", c.numHeads());
        a.put("kv_heads", c.numKvHeads());
        a.put("head_dim", c.headDim());
        a.put("vocab_size", c.vocabSize());
        a.put("max_positions", c.maxPositions());
        a.put("tie_word_embeddings", c.tieWordEmbeddings());
        return a;
    }

    /** Which part of the model a checkpoint tensor belongs to, from its Hugging Face name. */
    static String kindOf(String name) {
        if (name.contains("embed_tokens") || name.contains("wte.") || name.contains("wpe.")) {
            return "embedding";
        }
        if (name.startsWith("lm_head")) {
            return "output_head";
        }
        if (name.contains("norm") || name.contains(".ln_")) {
            return "norm";
        }
        if (name.contains("self_attn") || name.contains(".attn.")) {
            return "attention";
        }
        if (name.contains("mlp")) {
            return "mlp";
        }
        return "other";
    }

    private static String describeTargets(LoraConfig c) {
        return switch (c.targetModules()) {
            case ModuleSelector.AllLinear a -> ModuleSelector.ALL_LINEAR;
            case ModuleSelector.Regex r -> "regex " + r.pattern();
            case ModuleSelector.Names n -> String.join(",", n.names());
        };
    }
}
