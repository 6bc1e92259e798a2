package dev.lora4j.lora;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The LoRA hyper-parameters, with PEFT's field names and meanings (see {@link AdapterConfigJson} for
 * the {@code adapter_config.json} mapping).
 *
 * <p>A LoRA linear computes {@code y = x·Wᵀ + s·(dropout(x)·Aᵀ)·Bᵀ} with {@code A: [r, in]},
 * {@code B: [out, r]} and scale {@code s = alpha / r}, or {@code alpha / √r} with rsLoRA, which keeps
 * the update's magnitude stable as r grows. {@code rank_pattern} and {@code alpha_pattern} override r
 * and alpha for the modules whose path ends with one of their keys (a regex).
 */
public record LoraConfig(
        int r,
        double loraAlpha,
        double loraDropout,
        ModuleSelector targetModules,
        ModuleSelector excludeModules,
        List<Integer> layersToTransform,
        List<String> layersPattern,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern,
        boolean useRslora,
        InitLoraWeights initLoraWeights,
        List<String> modulesToSave,
        boolean fanInFanOut,
        String taskType,
        String baseModelNameOrPath) {

    public LoraConfig {
        Objects.requireNonNull(targetModules, "target_modules");
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be positive, got " + r);
        }
        if (loraDropout < 0 || loraDropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        layersToTransform = layersToTransform == null ? List.of() : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? List.of() : List.copyOf(layersPattern);
        rankPattern = rankPattern == null ? Map.of() : immutableOrdered(rankPattern);
        alphaPattern = alphaPattern == null ? Map.of() : immutableOrdered(alphaPattern);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        initLoraWeights = initLoraWeights == null ? InitLoraWeights.KAIMING : initLoraWeights;
        rankPattern.forEach((k, v) -> {
            if (v <= 0) {
                throw new IllegalArgumentException("rank_pattern['" + k + "'] must be positive, got " + v);
            }
        });
    }

    private static <V> Map<String, V> immutableOrdered(Map<String, V> m) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    /** A config with PEFT's defaults (alpha 8, no dropout, Kaiming init) for the given rank and targets. */
    public static LoraConfig of(int r, double alpha, ModuleSelector targets) {
        return new LoraConfig(r, alpha, 0.0, targets, null, null, null, null, null, false,
                InitLoraWeights.KAIMING, null, false, null, null);
    }

    public LoraConfig withDropout(double dropout) {
        return new LoraConfig(r, loraAlpha, dropout, targetModules, excludeModules, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, initLoraWeights, modulesToSave, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withRslora(boolean rslora) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layersToTransform,
                layersPattern, rankPattern, alphaPattern, rslora, initLoraWeights, modulesToSave, fanInFanOut,
                taskType, baseModelNameOrPath);
    }

    public LoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layersToTransform,
                layersPattern, ranks, alphas, useRslora, initLoraWeights, modulesToSave, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withModulesToSave(List<String> modules) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layersToTransform,
                layersPattern, rankPattern, alphaPattern, useRslora, initLoraWeights, modules, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withLayers(List<Integer> layers, List<String> pattern) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layers, pattern,
                rankPattern, alphaPattern, useRslora, initLoraWeights, modulesToSave, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withExclude(ModuleSelector exclude) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, exclude, layersToTransform, layersPattern,
                rankPattern, alphaPattern, useRslora, initLoraWeights, modulesToSave, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withInit(InitLoraWeights init) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layersToTransform,
                layersPattern, rankPattern, alphaPattern, useRslora, init, modulesToSave, fanInFanOut, taskType,
                baseModelNameOrPath);
    }

    public LoraConfig withTask(String task, String baseModel, boolean fanInFanOutWeights) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, excludeModules, layersToTransform,
                layersPattern, rankPattern, alphaPattern, useRslora, initLoraWeights, modulesToSave,
                fanInFanOutWeights, task, baseModel);
    }

    /** The rank for a module: the first {@code rank_pattern} key that matches its path's end, else r. */
    public int rankFor(String modulePath) {
        String key = patternKey(rankPattern.keySet(), modulePath);
        return key == null ? r : rankPattern.get(key);
    }

    /** The alpha for a module: the first {@code alpha_pattern} key that matches its path's end, else lora_alpha. */
    public double alphaFor(String modulePath) {
        String key = patternKey(alphaPattern.keySet(), modulePath);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** The scale s applied to B·A for a module: alpha/r, or alpha/√r with rsLoRA. */
    public double scalingFor(String modulePath) {
        int rank = rankFor(modulePath);
        double alpha = alphaFor(modulePath);
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** PEFT's get_pattern_key: a key matches when the path is "(anything.)?key" as a full regex match. */
    static String patternKey(Iterable<String> keys, String modulePath) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(modulePath).matches()) {
                return key;
            }
        }
        return null;
    }
}
