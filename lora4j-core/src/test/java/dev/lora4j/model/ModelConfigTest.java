package dev.lora4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/models");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readsTransformers5LlamaConfig() {
        ModelConfig c = ModelConfig.load(GOLDEN.resolve("llama_gqa_f32/config.json"));
        assertThat(c.modelType()).isEqualTo("llama");
        assertThat(c.hiddenSize()).isEqualTo(64);
        assertThat(c.numHeads()).isEqualTo(4);
        assertThat(c.numKvHeads()).isEqualTo(2);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.rope()).isEqualTo(RopeConfig.defaultRope(10000.0));
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.eosTokenIds()).containsExactly(2);
    }

    @Test
    void readsTransformers4Llama3Config() {
        ModelConfig c = ModelConfig.load(GOLDEN.resolve("llama3_v4config_bf16/config.json"));
        assertThat(c.headDim()).isEqualTo(32);  // explicit, not hidden / heads = 16
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.outputBias()).isTrue();
        assertThat(c.mlpBias()).isTrue();
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.rope()).isEqualTo(new RopeConfig("llama3", 500000.0, 8.0, 1.0, 4.0, 32, 1.0));
    }

    @Test
    void readsQwen2AndGpt2Names() {
        ModelConfig q = ModelConfig.load(GOLDEN.resolve("qwen2_f32/config.json"));
        assertThat(q.qkvBias()).isTrue();
        assertThat(q.outputBias()).isFalse();
        assertThat(q.normEps()).isEqualTo(1e-6);
        ModelConfig g = ModelConfig.load(GOLDEN.resolve("gpt2_f32/config.json"));
        assertThat(g.hiddenSize()).isEqualTo(64);
        assertThat(g.numLayers()).isEqualTo(2);
        assertThat(g.intermediateSize()).isEqualTo(256);  // n_inner null: 4 * n_embd
        assertThat(g.maxPositions()).isEqualTo(64);
        assertThat(g.hiddenAct()).isEqualTo("gelu_new");
        assertThat(g.normEps()).isEqualTo(1e-5);
        assertThat(g.tieWordEmbeddings()).isTrue();
        assertThat(g.rope()).isNull();
    }

    @Test
    void olderTypeKeyAndLinearScaling() {
        ModelConfig c = ModelConfig.parse("""
                {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "rope_theta": 500.0,
                 "rope_scaling": {"type": "linear", "factor": 2.0}}""", "cfg.json");
        assertThat(c.rope()).isEqualTo(new RopeConfig("linear", 500.0, 2.0, 0, 0, 0, 1.0));
        assertThat(c.numKvHeads()).isEqualTo(2);  // defaults to num_attention_heads
        assertThat(c.headDim()).isEqualTo(4);
    }

    /**
     * inv_freq of transformers' rope init functions at real sizes (Llama-2 7B default, linear x4,
     * Llama-3.1 llama3 scaling). Tolerance: 2 float32 ulps, since Java's pow and PyTorch's powf may
     * round the power differently by an ulp; everything else is the same float32 arithmetic.
     */
    @Test
    void inverseFrequenciesMatchTransformers() throws Exception {
        JsonNode cases = JSON.readTree(GOLDEN.resolve("rope_inv_freq.json").toFile());
        assertThat(cases.size()).isEqualTo(3);
        for (JsonNode c : cases) {
            ModelConfig config = ModelConfig.parse(c.get("config").toString(), c.get("name").asText());
            float[] inv = config.rope().inverseFrequencies(config.headDim());
            JsonNode expected = c.get("inv_freq");
            assertThat(inv).hasSize(expected.size());
            for (int i = 0; i < inv.length; i++) {
                float e = (float) expected.get(i).asDouble();
                assertThat(Math.abs(inv[i] - e)).as("%s inv_freq[%d]", c.get("name").asText(), i)
                        .isLessThanOrEqualTo(2 * Math.ulp(e));
            }
            assertThat(config.rope().attentionScaling()).isEqualTo((float) c.get("attention_scaling").asDouble());
        }
    }

    @Test
    void tinyModelsInverseFrequenciesMatchTheirRotaryEmbedding() throws Exception {
        for (String name : new String[] {"llama_gqa_f32", "llama3_v4config_bf16", "qwen2_f32"}) {
            ModelConfig c = ModelConfig.load(GOLDEN.resolve(name).resolve("config.json"));
            JsonNode expected = JSON.readTree(GOLDEN.resolve(name).resolve("logits.json").toFile()).get("inv_freq");
            float[] inv = c.rope().inverseFrequencies(c.headDim());
            for (int i = 0; i < inv.length; i++) {
                float e = (float) expected.get(i).asDouble();
                assertThat(Math.abs(inv[i] - e)).as("%s inv_freq[%d]", name, i).isLessThanOrEqualTo(2 * Math.ulp(e));
            }
        }
    }

    // ---- bad input ----------------------------------------------------------------------------

    private static String llama(String edit) throws Exception {
        ObjectNode n = (ObjectNode) JSON.readTree(Files.readString(GOLDEN.resolve("llama_gqa_f32/config.json")));
        ObjectNode patch = (ObjectNode) JSON.readTree(edit);
        patch.fields().forEachRemaining(e -> {
            if (e.getValue().isTextual() && e.getValue().asText().equals("<remove>")) {
                n.remove(e.getKey());
            } else {
                n.set(e.getKey(), e.getValue());
            }
        });
        return n.toString();
    }

    @Test
    void missingRequiredFieldNamesFileAndField() throws Exception {
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"hidden_size\": \"<remove>\"}"), "dir/config.json"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("dir/config.json: missing required field 'hidden_size'");
        assertThatThrownBy(() -> ModelConfig.parse("{\"vocab_size\": 3}", "c.json"))
                .hasMessage("c.json: missing required field 'model_type'");
    }

    @Test
    void unknownModelTypeListsSupportedOnes() throws Exception {
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"model_type\": \"bloom\"}"), "c.json"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("c.json: unknown model_type 'bloom' (supported: llama, mistral, qwen2, gpt2");
    }

    @Test
    void malformedJsonAndWrongTypes(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"model_type\": \"llama\", ");
        assertThatThrownBy(() -> ModelConfig.load(f)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(f + ": malformed JSON");
        assertThatThrownBy(() -> ModelConfig.load(tmp.resolve("nope.json")))
                .hasMessage(tmp.resolve("nope.json") + ": file not found");
        assertThatThrownBy(() -> ModelConfig.parse("[1, 2]", "c.json"))
                .hasMessage("c.json: expected a JSON object at the top level");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"num_hidden_layers\": \"two\"}"), "c.json"))
                .hasMessage("c.json: field 'num_hidden_layers' must be an integer, got \"two\"");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"num_attention_heads\": 0}"), "c.json"))
                .hasMessage("c.json: field 'num_attention_heads' must be a positive integer, got 0");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"num_key_value_heads\": 3}"), "c.json"))
                .hasMessageContaining("must be a multiple of num_key_value_heads (3)");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"rms_norm_eps\": -1}"), "c.json"))
                .hasMessage("c.json: field 'rms_norm_eps' must be a positive number, got -1.0");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"tie_word_embeddings\": 1}"), "c.json"))
                .hasMessage("c.json: field 'tie_word_embeddings' must be true or false, got 1");
    }

    @Test
    void unsupportedRopeAndActivation() throws Exception {
        assertThatThrownBy(() -> ModelConfig.parse(
                llama("{\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1e4, \"factor\": 2}}"), "c.json"))
                .hasMessage("c.json: field 'rope_parameters.rope_type' must be one of default, linear, llama3 "
                        + "(the RoPE variants lora4j supports), got 'yarn'");
        assertThatThrownBy(() -> ModelConfig.parse(
                llama("{\"rope_parameters\": {\"rope_type\": \"llama3\", \"rope_theta\": 1e4, \"factor\": 8}}"), "c.json"))
                .hasMessage("c.json: missing required field 'rope_parameters.low_freq_factor'");
        assertThatThrownBy(() -> ModelConfig.parse(llama("{\"hidden_act\": \"relu\"}"), "c.json"))
                .hasMessageContaining("field 'hidden_act' must be 'silu'");
    }
}
