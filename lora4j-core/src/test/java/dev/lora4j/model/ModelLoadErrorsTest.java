package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a model directory whose files do not fit together fails with a message naming file and tensor. */
class ModelLoadErrorsTest {
    private static final Path LLAMA = Paths.get("src/test/resources/golden/models/llama_gqa_f32");
    private static final Path GPT2 = Paths.get("src/test/resources/golden/models/gpt2_f32");

    /** A copy of {@code source} whose weights are rewritten by {@code edit}. */
    private static Path copyWithWeights(Path source, Path dir, java.util.function.Consumer<Map<String, Tensor>> edit)
            throws Exception {
        Files.createDirectories(dir);
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(source.resolve("model.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : f.names()) {
                tensors.put(name, f.tensor(name));
            }
            edit.accept(tensors);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of());
        }
        return dir;
    }

    @Test
    void missingTensorIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = copyWithWeights(LLAMA, tmp.resolve("m"), t -> t.remove("model.layers.1.mlp.up_proj.weight"));
        assertThatThrownBy(() -> Models.load(dir))
                .isInstanceOf(ConfigException.class)
                .hasMessage(dir.resolve("model.safetensors") + ": missing tensor 'model.layers.1.mlp.up_proj.weight'"
                        + " (expected shape [96, 64])");
    }

    @Test
    void untiedModelWithoutHeadIsAnError(@TempDir Path tmp) throws Exception {
        Path dir = copyWithWeights(LLAMA, tmp.resolve("m"), t -> t.remove("lm_head.weight"));
        assertThatThrownBy(() -> Models.load(dir)).hasMessageContaining("missing tensor 'lm_head.weight'");
    }

    @Test
    void shapeThatDisagreesWithConfigIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = copyWithWeights(LLAMA, tmp.resolve("m"), t -> t.put("model.layers.0.self_attn.k_proj.weight",
                Tensor.zeros(64, 64)));
        assertThatThrownBy(() -> Models.load(dir))
                .hasMessage(dir.resolve("model.safetensors") + ": tensor 'model.layers.0.self_attn.k_proj.weight' has shape"
                        + " [64, 64], expected [32, 64]");
        Path gpt = copyWithWeights(GPT2, tmp.resolve("g"), t -> t.put("transformer.h.0.attn.c_attn.weight",
                Tensor.zeros(192, 64)));  // stored [out, in] instead of Conv1D's [in, out]
        assertThatThrownBy(() -> Models.load(gpt))
                .hasMessageContaining("tensor 'transformer.h.0.attn.c_attn.weight' has shape [192, 64], expected [64, 192]");
    }

    @Test
    void gpt2WeightsWithoutTransformerPrefixLoad(@TempDir Path tmp) throws Exception {
        // The original OpenAI checkpoints name tensors "h.0.attn..." rather than "transformer.h.0.attn...".
        Path dir = copyWithWeights(GPT2, tmp.resolve("g"), t -> {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            t.forEach((k, v) -> renamed.put(k.replaceFirst("^transformer\\.", ""), v));
            t.clear();
            t.putAll(renamed);
        });
        int[] ids = {1, 17, 42, 99};
        try (CausalLM renamed = Models.load(dir); CausalLM original = Models.load(GPT2)) {
            float[] a = renamed.forward(TokenBatch.of(1, 4, ids, null, null)).toFloatArray();
            float[] b = original.forward(TokenBatch.of(1, 4, ids, null, null)).toFloatArray();
            assertThat(a).containsExactly(b);
            assertThat(renamed.linears().get(0).name()).isEqualTo("transformer.h.0.attn.c_attn");
        }
    }

    @Test
    void shardedCheckpointGivesTheSameLogits(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("sharded"));
        Files.copy(LLAMA.resolve("config.json"), dir.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(LLAMA.resolve("model.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : f.names()) {
                tensors.put(name, f.tensor(name));
            }
            List<Path> written = SafetensorsWriter.writeSharded(dir, "model", tensors, Map.of(), 40_000);
            assertThat(written.size()).isGreaterThan(3);  // several shards and the index
        }
        int[] ids = {1, 17, 42, 99, 3};
        try (CausalLM sharded = Models.load(dir); CausalLM single = Models.load(LLAMA)) {
            assertThat(sharded.forward(TokenBatch.of(1, 5, ids, null, null)).toFloatArray())
                    .containsExactly(single.forward(TokenBatch.of(1, 5, ids, null, null)).toFloatArray());
        }
    }

    @Test
    void directoryProblems(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> Models.load(tmp.resolve("absent")))
                .hasMessage(tmp.resolve("absent") + ": not a model directory (expected config.json and model.safetensors)");
        Path noConfig = Files.createDirectory(tmp.resolve("noconfig"));
        assertThatThrownBy(() -> Models.load(noConfig))
                .hasMessage(noConfig.resolve("config.json") + ": file not found");
        Path noWeights = Files.createDirectory(tmp.resolve("noweights"));
        Files.copy(LLAMA.resolve("config.json"), noWeights.resolve("config.json"));
        assertThatThrownBy(() -> Models.load(noWeights)).hasMessageContaining(noWeights.toString())
                .hasMessageContaining("model.safetensors");
        Path unknown = Files.createDirectory(tmp.resolve("unknown"));
        Files.writeString(unknown.resolve("config.json"), "{\"model_type\": \"t5\"}");
        assertThatThrownBy(() -> Models.load(unknown))
                .hasMessageStartingWith(unknown.resolve("config.json") + ": unknown model_type 't5'");
    }

    @Test
    void badBatchesAreRejected() throws Exception {
        try (CausalLM llama = Models.load(LLAMA); CausalLM gpt2 = Models.load(GPT2)) {
            assertThatThrownBy(() -> llama.forward(TokenBatch.of(1, 2, new int[] {1, 128}, null, null)))
                    .hasMessage("token id 128 (row 0, position 1) is outside the vocabulary [0, 128)");
            assertThatThrownBy(() -> gpt2.forward(TokenBatch.of(1, 1, new int[] {1}, null, new int[] {64})))
                    .hasMessageContaining("position 64 is beyond the model's 64 positions");
        }
    }

    @Test
    void mistralSlidingWindowIsEnforcedNotIgnored() {
        ModelConfig c = ModelConfig.parse("""
                {"model_type": "mistral", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "sliding_window": 4}""",
                "m.json");
        assertThat(c.slidingWindow()).isEqualTo(4);
        assertThatThrownBy(() -> Checks.checkBatch(c, TokenBatch.of(1, 5, new int[5], null, null), false))
                .hasMessageContaining("exceed the sliding attention window of 4");
        ModelConfig none = ModelConfig.parse("""
                {"model_type": "mistral", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "sliding_window": null}""", "m.json");
        assertThat(none.slidingWindow()).isNull();
        ModelConfig absent = ModelConfig.parse("""
                {"model_type": "mistral", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2}""", "m.json");
        assertThat(absent.slidingWindow()).isEqualTo(4096);  // transformers' MistralConfig default
    }
}
