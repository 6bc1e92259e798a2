package dev.lora4j.lora;

import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes the lora4j-made adapters of the PEFT adapter goldens (golden/peft_adapters/&lt;model&gt;/lora4j_adapter):
 * random, non-trivial A and B (init_lora_weights=false) from a fixed seed, with rsLoRA and rank/alpha
 * patterns on Llama and fan_in_fan_out plus the tied output head on GPT-2, and (the *_embedding cases) LoRA
 * on the token embeddings beside q_proj / c_attn. The golden script
 * (tools/golden/make_peft_adapter_goldens.py) runs this first, then loads the written adapters into
 * PEFT and records PEFT's loss; {@code PeftAdapterGoldenTest} checks the files are reproduced bit for
 * bit and that lora4j's loss with them equals PEFT's.
 *
 * <p>Run: {@code java -cp <core classes>:<test classes>:<jackson> dev.lora4j.lora.Lora4jAdapterFixtures <golden root>}.
 */
public final class Lora4jAdapterFixtures {
    private Lora4jAdapterFixtures() {}

    static final List<String> MODELS = List.of("llama_gqa_f32", "gpt2_f32", "llama_gqa_f32_embedding",
            "gpt2_f32_embedding");

    /**
     * init_lora_weights=false draws embedding A and B from N(0, 1), a change ~100x the size of the
     * embeddings; A is scaled down to keep the model realistic (the golden script does the same).
     */
    static final float EMBEDDING_A_SCALE = 0.05f;

    static LoraConfig config(String model) {
        return switch (model) {
            case "llama_gqa_f32" -> LoraConfig.of(3, 6, new ModuleSelector.Names(
                            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")))
                    .withRslora(true)
                    .withPatterns(Map.of("v_proj", 2), Map.of("gate_proj", 5.0))
                    .withInit(InitLoraWeights.RANDOM)
                    .withTask("CAUSAL_LM", "llama_gqa_f32", false);
            case "gpt2_f32" -> LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("c_attn", "c_proj", "c_fc", "lm_head")))
                    .withPatterns(Map.of("c_fc", 3), Map.of("lm_head", 7.0))
                    .withInit(InitLoraWeights.RANDOM)
                    .withTask("CAUSAL_LM", "gpt2_f32", true);
            case "llama_gqa_f32_embedding" -> LoraConfig.of(3, 6, new ModuleSelector.Names(List.of("embed_tokens", "q_proj")))
                    .withInit(InitLoraWeights.RANDOM)
                    .withTask("CAUSAL_LM", "llama_gqa_f32", false);
            case "gpt2_f32_embedding" -> LoraConfig.of(3, 6, new ModuleSelector.Names(List.of("wte", "c_attn")))
                    .withInit(InitLoraWeights.RANDOM)
                    .withTask("CAUSAL_LM", "gpt2_f32", true);
            default -> throw new IllegalArgumentException(model);
        };
    }

    /** Writes the adapter for {@code model} (base in {@code modelsDir}) into {@code out}. */
    static void write(Path modelsDir, String model, Path out) throws IOException {
        try (CausalLM base = Models.load(modelsDir.resolve(AdapterGoldens.baseModel(model)))) {
            LoraModel lora = LoraModel.attach(base, config(model), 20240611L);
            for (LoraEmbedding e : lora.embeddingAdapters().values()) {
                float[] a = e.loraA().value();
                for (int i = 0; i < a.length; i++) {
                    a[i] *= EMBEDDING_A_SCALE;
                }
            }
            PeftAdapterFiles.save(lora, out);
        }
    }

    public static void main(String[] args) throws IOException {
        Path golden = Path.of(args[0]);
        for (String model : MODELS) {
            write(golden.resolve("models"), model, golden.resolve("peft_adapters").resolve(model).resolve("lora4j_adapter"));
        }
    }
}
