package dev.lora4j.model.gpt2;

import dev.lora4j.model.Architecture;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ConfigReader;
import dev.lora4j.model.ModelConfig;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.GeluMlp;
import java.util.List;

/**
 * GPT-2: learned absolute positions, pre-norm blocks of LayerNorm → attention (fused c_attn) →
 * residual → LayerNorm → GELU MLP → residual, final LayerNorm, output head tied to the token
 * embedding. Config names are GPT-2's own ({@code n_embd}, {@code n_layer}, {@code n_head},
 * {@code n_positions}, {@code n_inner}, {@code activation_function}); the generic names are accepted too.
 */
public final class Gpt2Architecture implements Architecture {
    @Override
    public List<String> modelTypes() {
        return List.of("gpt2");
    }

    @Override
    public ModelConfig parseConfig(ConfigReader c) {
        int hidden = c.requirePositiveInt("n_embd", "hidden_size");
        int heads = c.requirePositiveInt("n_head", "num_attention_heads");
        if (hidden % heads != 0) {
            throw c.invalid("n_embd", "a multiple of n_head (" + heads + ")", Integer.toString(hidden));
        }
        int inner = c.has("n_inner") ? c.requirePositiveInt("n_inner") : 4 * hidden;
        String act = c.optString("activation_function", "gelu_new");
        gelu(c, act);
        if (!c.optBoolean("scale_attn_weights", true)) {
            throw c.invalid("scale_attn_weights", "true (unscaled attention is not supported)", "false");
        }
        if (c.optBoolean("scale_attn_by_inverse_layer_idx", false)) {
            throw c.invalid("scale_attn_by_inverse_layer_idx", "false (not supported)", "true");
        }
        if (c.optBoolean("add_cross_attention", false)) {
            throw c.invalid("add_cross_attention", "false (decoder-only GPT-2)", "true");
        }
        int positions = c.has("n_positions") ? c.requirePositiveInt("n_positions")
                : c.optPositiveInt("max_position_embeddings", 1024);
        return new ModelConfig(c.source(), "gpt2",
                c.requirePositiveInt("vocab_size"), hidden,
                c.requirePositiveInt("n_layer", "num_hidden_layers"), heads, heads, hidden / heads, inner, positions,
                c.optPositiveDouble("layer_norm_epsilon", 1e-5), act,
                c.optBoolean("tie_word_embeddings", true),
                true, true, true, null, null,
                c.optIntOrNull("bos_token_id"), c.optIntList("eos_token_id"),
                null);  // GPT-2's wte has no padding_idx
    }

    /** The GELU variant of an activation_function name. */
    static GeluMlp.Gelu gelu(ConfigReader c, String act) {
        return switch (act) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GeluMlp.Gelu.TANH;
            case "gelu" -> GeluMlp.Gelu.ERF;
            default -> throw c.invalid("activation_function", "one of gelu_new, gelu_pytorch_tanh, gelu", "'" + act + "'");
        };
    }

    static GeluMlp.Gelu gelu(String act) {
        return act.equals("gelu") ? GeluMlp.Gelu.ERF : GeluMlp.Gelu.TANH;
    }

    @Override
    public CausalLM build(ModelConfig config, ModelWeights weights) {
        return new Gpt2Model(config, weights);
    }
}
