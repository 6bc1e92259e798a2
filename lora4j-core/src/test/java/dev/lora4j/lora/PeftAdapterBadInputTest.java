package dev.lora4j.lora;

import static dev.lora4j.lora.AdapterGoldens.adapters;
import static dev.lora4j.lora.AdapterGoldens.model;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapters that must be refused, each with a message naming the file and what is wrong. */
class PeftAdapterBadInputTest {
    @TempDir
    Path tmp;

    Path adapter;

    @BeforeEach
    void copyGoodAdapter() throws Exception {
        adapter = tmp.resolve("adapter");
        Files.createDirectories(adapter);
        Path src = adapters("llama_gqa_f32").resolve("peft_adapter");
        Files.copy(src.resolve(AdapterConfigJson.FILE_NAME), adapter.resolve(AdapterConfigJson.FILE_NAME));
        Files.copy(src.resolve(PeftAdapterFiles.WEIGHTS_FILE), adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE));
    }

    @Test
    void adapterForAnotherBaseModelListsEveryMismatchingTensor() throws Exception {
        // llama3_v4config_bf16 has head_dim 32 (q_proj 64 -> 128, k/v 64 -> 64): the adapter was made for head_dim 16.
        try (CausalLM other = Models.load(model("llama3_v4config_bf16"))) {
            assertThatThrownBy(() -> PeftAdapterFiles.load(other, adapter, w -> {}))
                    .hasMessageContaining(adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE).toString())
                    .hasMessageContaining("adapter does not fit this base model")
                    .hasMessageContaining("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight: shape [64, 4] but this base model needs [128, 4]")
                    .hasMessageContaining("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight: shape [32, 4] but this base model needs [64, 4]")
                    .hasMessageContaining("base_model.model.model.layers.1.self_attn.o_proj.lora_A.weight: shape [2, 64] but this base model needs [2, 128]");
            assertNothingAttached(other);
        }
    }

    private static void assertNothingAttached(CausalLM m) {
        // After a refused load nothing stays attached.
        org.assertj.core.api.Assertions.assertThat(m.linears()).allMatch(l -> l.adapter() == null);
    }

    @Test
    void adapterForAnotherArchitectureNamesTheModulesTheModelHas() throws Exception {
        try (CausalLM gpt2 = Models.load(model("gpt2_f32"))) {
            assertThatThrownBy(() -> PeftAdapterFiles.load(gpt2, adapter, w -> {}))
                    .hasMessageContaining(adapter.resolve(AdapterConfigJson.FILE_NAME).toString())
                    .hasMessageContaining("matched no module").hasMessageContaining("c_attn");
        }
    }

    @Test
    void missingFilesAreNamed() throws Exception {
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            Files.delete(adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE));
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE).toString())
                    .hasMessageContaining("not found");
            Files.delete(adapter.resolve(AdapterConfigJson.FILE_NAME));
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(adapter.resolve(AdapterConfigJson.FILE_NAME).toString())
                    .hasMessageContaining("not found");
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, tmp.resolve("nowhere"), w -> {}))
                    .hasMessageContaining(tmp.resolve("nowhere").toString()).hasMessageContaining("not an adapter directory");
        }
    }

    @Test
    void malformedJsonAndSafetensorsNameTheFile() throws Exception {
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            Path weights = adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE);
            byte[] bytes = Files.readAllBytes(weights);
            Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(weights.toString());
            Path config = adapter.resolve(AdapterConfigJson.FILE_NAME);
            Files.writeString(config, "{\"r\": 4, \"lora_alpha\": ");
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(config.toString()).hasMessageContaining("malformed JSON");
        }
    }

    @Test
    void nanAndInfAreRefusedNamingTheTensor() throws Exception {
        Path weights = adapter.resolve(PeftAdapterFiles.WEIGHTS_FILE);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String n : f.names()) {
                tensors.put(n, Tensor.of(f.tensor(n).toFloatArray(), f.tensor(n).shape()));
            }
        }
        tensors.get("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight").setFlat(5, Float.NaN);
        tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").setFlat(0, Float.NEGATIVE_INFINITY);
        SafetensorsWriter.write(weights, tensors, Map.of("format", "pt"));
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(weights.toString())
                    .hasMessageContaining("layers.0.mlp.up_proj.lora_A.weight: non-finite value NaN at element 5")
                    .hasMessageContaining("layers.1.self_attn.v_proj.lora_B.weight: non-finite value -Infinity at element 0");
        }
    }

    @Test
    void unsupportedMathIsRefusedWithTheReason() throws Exception {
        Path config = adapter.resolve(AdapterConfigJson.FILE_NAME);
        String json = Files.readString(config);
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            Files.writeString(config, json.replace("\"init_lora_weights\": false", "\"init_lora_weights\": \"pissa\""));
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining(config.toString()).hasMessageContaining("pissa").hasMessageContaining("not supported");
            Files.writeString(config, json.replace("\"bias\": \"none\"", "\"bias\": \"all\""));
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, adapter, w -> {}))
                    .hasMessageContaining("bias: \"all\" is not supported");
        }
    }
}
