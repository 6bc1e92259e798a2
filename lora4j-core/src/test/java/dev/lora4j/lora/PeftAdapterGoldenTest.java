package dev.lora4j.lora;

import static dev.lora4j.lora.AdapterGoldens.adapters;
import static dev.lora4j.lora.AdapterGoldens.expected;
import static dev.lora4j.lora.AdapterGoldens.model;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Adapters in PEFT's format against PEFT itself (tools/golden/make_peft_adapter_goldens.py), for a tiny
 * Llama (GQA, rsLoRA, rank/alpha patterns) and a tiny GPT-2 (fan_in_fan_out, rank/alpha patterns, LoRA
 * on the output head tied to the embeddings); the *_embedding cases add LoRA on the token embeddings
 * (more of them in {@link EmbeddingLoraTest}).
 *
 * <p>Tolerances: losses to 2e-5 absolute (~4e-6 relative on losses near 5.5): float32 on both sides with
 * different summation orders through two layers; PyTorch's own float32 and float64 runs of these
 * models differ by ~1e-5. Logits to 1e-4 absolute (logits are of order 1-10). Combined LoRA factors
 * to 1e-6·max(1, |x|∞): they are a few float32 multiply-adds of the same inputs.
 */
class PeftAdapterGoldenTest {
    static final double LOSS_TOLERANCE = 2e-5;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32", "llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void peftAdapterGivesPeftsLossAndLogits(String name) throws Exception {
        JsonNode expected = expected(name);
        try (CausalLM base = Models.load(model(name))) {
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("base_loss").asDouble(), within(LOSS_TOLERANCE));
            List<String> warnings = new ArrayList<>();
            PeftAdapterFiles.load(base, adapters(name).resolve("peft_adapter"), warnings::add);
            assertThat(warnings).as("PEFT's config, with every field PEFT writes, reads without warnings").isEmpty();
            double loss = AdapterGoldens.loss(base);
            assertThat(loss).isCloseTo(expected.get("peft_loss").asDouble(), within(LOSS_TOLERANCE));
            assertThat(Math.abs(loss - expected.get("base_loss").asDouble())).as("the adapter changes the loss")
                    .isGreaterThan(0.1);
            float[] logits = AdapterGoldens.logitsOfFirst(base);
            JsonNode ref = expected.get("peft_logits_seq0");
            assertThat(logits).hasSize(ref.size());
            for (int i = 0; i < logits.length; i++) {
                assertThat((double) logits[i]).as("logit %d", i).isCloseTo(ref.get(i).asDouble(), within(1e-4));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32", "llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void unknownConfigFieldsWarnAndMathChangingOnesAreRefused(String name) throws Exception {
        Path dir = copyAdapter(adapters(name).resolve("peft_adapter"));
        Path config = dir.resolve(AdapterConfigJson.FILE_NAME);
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(config.toFile());
        json.put("some_future_field", 3);
        Files.writeString(config, json.toString());
        List<String> warnings = new ArrayList<>();
        try (CausalLM base = Models.load(model(name))) {
            PeftAdapterFiles.load(base, dir, warnings::add);
            assertThat(warnings).singleElement().asString().contains("some_future_field");
            json.put("use_dora", true);
            Files.writeString(config, json.toString());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> PeftAdapterFiles.load(base, dir, w -> {}))
                    .hasMessageContaining(config.toString()).hasMessageContaining("DoRA");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32", "llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void lora4jWritesTheCommittedAdapterBitForBit(String name) throws Exception {
        Path out = tmp.resolve("written");
        Lora4jAdapterFixtures.write(AdapterGoldens.golden().resolve("models"), name, out);
        Path committed = adapters(name).resolve("lora4j_adapter");
        assertThat(Files.readAllBytes(out.resolve(PeftAdapterFiles.WEIGHTS_FILE)))
                .isEqualTo(Files.readAllBytes(committed.resolve(PeftAdapterFiles.WEIGHTS_FILE)));
        assertThat(Files.readString(out.resolve(AdapterConfigJson.FILE_NAME)))
                .isEqualTo(Files.readString(committed.resolve(AdapterConfigJson.FILE_NAME)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32"})
    void peftsLossWithALora4jAdapterEqualsLora4js(String name) throws Exception {
        JsonNode expected = expected(name);
        try (CausalLM base = Models.load(model(name))) {
            PeftAdapterFiles.load(base, adapters(name).resolve("lora4j_adapter"), w -> {});
            double loss = AdapterGoldens.loss(base);
            assertThat(loss).isCloseTo(expected.get("lora4j_adapter_peft_loss").asDouble(), within(LOSS_TOLERANCE));
            assertThat(Math.abs(loss - expected.get("base_loss").asDouble())).isGreaterThan(0.1);
        }
    }

    /** The merged checkpoint: transformers' loss on it (recorded by the script) = lora4j's = the adapted model's. */
    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32", "gpt2_f32"})
    void mergedCheckpointGivesTheAdaptedLoss(String name) throws Exception {
        JsonNode expected = expected(name);
        Path out = tmp.resolve("merged");
        CheckpointMerge.Result r = CheckpointMerge.merge(model(name), adapters(name).resolve("peft_adapter"), out, w -> {});
        JsonNode merged = expected.get("merged_by_lora4j");
        List<String> files = new ArrayList<>();
        merged.get("files").forEach(f -> files.add(f.asText()));
        try (var list = Files.list(out)) {
            assertThat(list.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(files);
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertThat(config.get("tie_word_embeddings").asBoolean()).isEqualTo(merged.get("tie_word_embeddings").asBoolean())
                .isFalse();
        if (name.startsWith("gpt2")) {
            assertThat(r.untiedTensors()).singleElement().asString().startsWith("lm_head.weight");
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"));
                    SafetensorsFile src = SafetensorsFile.open(model(name).resolve("model.safetensors"))) {
                assertThat(f.names()).contains("lm_head.weight");
                // The embedding keeps its values: untying, not merging into the shared tensor.
                String wte = src.contains("transformer.wte.weight") ? "transformer.wte.weight" : "wte.weight";
                assertThat(f.tensor(wte).toFloatArray()).isEqualTo(src.tensor(wte).toFloatArray());
            }
            // PEFT's own merge_and_unload changes the tied embeddings as well: a different model.
            assertThat(Math.abs(expected.get("peft_merge_and_unload_loss").asDouble()
                    - expected.get("peft_loss").asDouble())).isGreaterThan(1e-3);
        }
        try (CausalLM lm = Models.load(out)) {
            double loss = AdapterGoldens.loss(lm);
            assertThat(loss).isCloseTo(merged.get("transformers_loss").asDouble(), within(LOSS_TOLERANCE));
            assertThat(loss).isCloseTo(expected.get("peft_loss").asDouble(), within(LOSS_TOLERANCE));
        }
    }

    @ParameterizedTest
    @CsvSource({"llama_gqa_f32,linear", "llama_gqa_f32,cat", "llama_gqa_f32,svd", "llama_gqa_f32,svd2",
            "gpt2_f32,linear", "gpt2_f32,cat", "gpt2_f32,svd", "gpt2_f32,svd2"})
    void weightedCombinationMatchesPeftsAddWeightedAdapter(String name, String label) throws Exception {
        JsonNode expected = expected(name);
        List<Double> weights = new ArrayList<>();
        expected.get("combine_weights").forEach(w -> weights.add(w.asDouble()));
        try (CausalLM base = Models.load(model(name));
                SafetensorsFile golden = SafetensorsFile.open(adapters(name).resolve("combined.safetensors"))) {
            AdapterSet set = new AdapterSet(base);
            LoraModel a = set.load("a", adapters(name).resolve("peft_adapter"), w -> {});
            LoraModel b = set.load("b", adapters(name).resolve("peft_adapter_b"), w -> {});
            AdapterCombination.Type type = AdapterCombination.Type.parse(label.replaceAll("\\d", ""));
            Integer rank = label.equals("svd2") ? 2 : null;
            LoraModel combined = AdapterCombination.combine(base, List.of(a, b), weights, type, rank);

            TreeSet<String> goldenNames = new TreeSet<>();
            for (String n : golden.names()) {
                if (n.startsWith(label + ".")) {
                    goldenNames.add(n.substring(label.length() + 1));
                }
            }
            TreeSet<String> ours = new TreeSet<>();
            combined.parameters().forEach(p -> ours.add(PeftAdapterFiles.peftName(p)));
            assertThat(ours).isEqualTo(goldenNames);
            for (LoraLinear m : combined.adapters().values()) {
                assertThat(m.scaling()).as("combined adapters have alpha = r").isEqualTo(1f);
                String prefix = label + "." + PeftAdapterFiles.PREFIX + m.modulePath();
                Tensor ga = golden.tensor(prefix + ".lora_A.weight");
                Tensor gb = golden.tensor(prefix + ".lora_B.weight");
                if (type == AdapterCombination.Type.SVD) {
                    // Singular vectors are defined up to sign (and rotation for equal values): compare B·A.
                    assertClose(product(m.loraB().valueTensor(), m.loraA().valueTensor()), product(gb, ga),
                            1e-5, m.modulePath() + " B·A");
                } else {
                    assertClose(m.loraA().value(), ga.toFloatArray(), 1e-6, m.modulePath() + " A");
                    assertClose(m.loraB().value(), gb.toFloatArray(), 1e-6, m.modulePath() + " B");
                }
            }
            // The combined adapter saves and loads back (as an ordinary adapter) with the same outputs.
            set.add("combined", combined);
            set.activate("combined");
            double loss = AdapterGoldens.loss(base);
            PeftAdapterFiles.save(combined, tmp.resolve(label));
            set.disableAll();
            PeftAdapterFiles.load(base, tmp.resolve(label), w -> {});
            assertThat(AdapterGoldens.loss(base)).isCloseTo(loss, within(1e-6));
        }
    }

    /** SVD tolerance: float32 SVD in PyTorch vs double here on the same float32 inputs; B·A entries are ~0.1-1. */
    static float[] product(Tensor b, Tensor a) {
        int out = b.dim(0);
        int r = b.dim(1);
        int in = a.dim(1);
        float[] p = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += (double) b.get(o, k) * a.get(k, i);
                }
                p[o * in + i] = (float) s;
            }
        }
        return p;
    }

    static void assertClose(float[] actual, float[] expected, double relTol, String what) {
        assertThat(actual).as(what).hasSize(expected.length);
        double scale = 1;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < actual.length; i++) {
            assertThat((double) actual[i]).as("%s[%d]", what, i).isCloseTo(expected[i], within(relTol * scale));
        }
    }

    private Path copyAdapter(Path src) throws Exception {
        Path dir = tmp.resolve("adapter-copy");
        Files.createDirectories(dir);
        for (String f : new String[] {AdapterConfigJson.FILE_NAME, PeftAdapterFiles.WEIGHTS_FILE}) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        return dir;
    }

}
