package dev.lora4j.model.llama;

import dev.lora4j.model.Architecture;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ConfigReader;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.model.RopeConfig;
import java.util.List;

/**
 * The Llama family: pre-norm blocks of RMSNorm → grouped-query attention with RoPE → residual →
 * RMSNorm → SwiGLU MLP → residual. {@code llama} (also TinyLlama, SmolLM, Llama 3), {@code mistral}
 * (the same network; its sliding window only matters beyond the window length, which is refused),
 * and {@code qwen2} (bias on q, k, v; none on the output projection).
 */
public final class LlamaArchitecture implements Architecture {
    @Override
    public List<String> modelTypes() {
        return List.of("llama", "mistral", "qwen2");
    }

    @Override
    public ModelConfig parseConfig(ConfigReader c) {
        String type = c.requireString("model_type");
        int hidden = c.requirePositiveInt("hidden_size");
        int heads = c.requirePositiveInt("num_attention_heads");
        int kvHeads = c.optPositiveInt("num_key_value_heads", heads);
        int headDim;
        if (c.has("head_dim")) {
            headDim = c.requirePositiveInt("head_dim");
        } else if (hidden % heads != 0) {
            throw c.invalid("hidden_size", "a multiple of num_attention_heads (" + heads + ") when head_dim is absent",
                    Integer.toString(hidden));
        } else {
            headDim = hidden / heads;
        }
        String act = c.optString("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw c.invalid("hidden_act", "'silu' (the only MLP activation of this family lora4j runs)", "'" + act + "'");
        }
        boolean qwen2 = type.equals("qwen2");
        boolean attentionBias = !qwen2 && c.optBoolean("attention_bias", false);
        Integer window = slidingWindow(c, type);
        int defaultMaxPositions = switch (type) {
            case "qwen2" -> 32768;
            case "mistral" -> 4096 * 32;
            default -> 2048;
        };
        return new ModelConfig(c.source(), type,
                c.requirePositiveInt("vocab_size"), hidden,
                c.requirePositiveInt("num_hidden_layers"), heads, kvHeads, headDim,
                c.requirePositiveInt("intermediate_size"),
                c.optPositiveInt("max_position_embeddings", defaultMaxPositions),
                c.optPositiveDouble("rms_norm_eps", 1e-6), act,
                c.optBoolean("tie_word_embeddings", false),
                qwen2 || attentionBias, attentionBias,
                !qwen2 && c.optBoolean("mlp_bias", false),
                RopeConfig.parse(c, 10000.0), window,
                c.optIntOrNull("bos_token_id"), c.optIntList("eos_token_id"), c.optIntOrNull("pad_token_id"));
    }

    /** The attention window, or null when attention is global. */
    private static Integer slidingWindow(ConfigReader c, String type) {
        return switch (type) {
            // MistralConfig's default window is 4096; an explicit null turns it off (Mistral v0.2 and later)
            case "mistral" -> !c.hasKey("sliding_window") ? Integer.valueOf(4096)
                    : c.has("sliding_window") ? Integer.valueOf(c.requirePositiveInt("sliding_window")) : null;
            case "qwen2" -> c.optBoolean("use_sliding_window", false) ? c.requirePositiveInt("sliding_window") : null;
            default -> null;
        };
    }

    @Override
    public CausalLM build(ModelConfig config, ModelWeights weights) {
        return new LlamaModel(config, weights);
    }
}
