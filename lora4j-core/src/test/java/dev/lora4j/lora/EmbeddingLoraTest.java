package dev.lora4j.lora;

import static dev.lora4j.lora.AdapterGoldens.adapters;
import static dev.lora4j.lora.AdapterGoldens.expected;
import static dev.lora4j.lora.AdapterGoldens.model;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.io.safetensors.SafetensorsWriter;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.KvCache;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LoRA on embedding layers (PEFT's {@code lora.Embedding}): the adapter's backward against finite
 * differences, PEFT's initialization, target matching, lora4j-written adapters and merged checkpoints
 * against PEFT and transformers (goldens of tools/golden/make_peft_adapter_goldens.py, the
 * *_embedding cases), generation, and the errors for adapters that do not fit. The gradient goldens
 * are in {@code LoraTrainingGoldenTest}.
 *
 * <p>Loss tolerance 2e-5 absolute, as in {@link PeftAdapterGoldenTest} (float32 on both sides, different
 * summation orders).
 */
class EmbeddingLoraTest {
    static final double LOSS_TOLERANCE = PeftAdapterGoldenTest.LOSS_TOLERANCE;

    @TempDir
    Path tmp;

    /**
     * f(A, B) = Σ w ⊙ adapter(ids) for a fixed random w; backward with dOut = w must give ∂f/∂A and
     * ∂f/∂B. f is linear in each single element, so the central difference is exact up to float32
     * rounding of the outputs (~1e-7 of their size over a step of 1e-2): tolerance 1e-3·max(1, |g|).
     * Ids repeat (3 three times: its column of A sums three rows' gradients) and some ids never occur
     * (their columns get exactly zero).
     */
    @Test
    void backwardMatchesFiniteDifferences() {
        int num = 11;
        int dim = 6;
        int[] ids = {3, 7, 3, 0, 10, 3};
        LoraEmbedding adapter = new LoraEmbedding("emb", num, dim, 3, 1.5, -1);
        adapter.initialize(InitLoraWeights.RANDOM, new SplittableRandom(7));
        float[] w = new float[ids.length * dim];
        SplittableRandom rng = new SplittableRandom(11);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian();
        }
        adapter.forward(ids, Tensor.zeros(ids.length, dim));
        adapter.backward(ids, Tensor.of(w.clone(), ids.length, dim));

        for (var p : adapter.parameters()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                float saved = v[i];
                double h = 1e-2;
                v[i] = (float) (saved + h);
                double plus = weightedSum(adapter, ids, w, dim);
                v[i] = (float) (saved - h);
                double minus = weightedSum(adapter, ids, w, dim);
                v[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                assertThat((double) p.grad()[i]).as("%s[%d]", p.name(), i)
                        .isCloseTo(numeric, within(1e-3 * Math.max(1, Math.abs(numeric))));
            }
        }
        float[] gradA = adapter.loraA().grad();
        for (int k = 0; k < adapter.rank(); k++) {
            for (int id : new int[] {1, 2, 4, 5, 6, 8, 9}) {
                assertThat(gradA[k * num + id]).as("unused id %d", id).isZero();
            }
        }
    }

    private static double weightedSum(LoraEmbedding adapter, int[] ids, float[] w, int dim) {
        Tensor out = Tensor.zeros(ids.length, dim);
        adapter.forward(ids, out);
        float[] y = out.toFloatArray();
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += (double) w[i] * y[i];
        }
        return sum;
    }

    /** PEFT: A = 0 and B ~ N(0, 1) for init true and "gaussian" (a no-op adapter); both ~ N(0, 1) for false. */
    @ParameterizedTest
    @EnumSource(InitLoraWeights.class)
    void initializationFollowsPeft(InitLoraWeights init) throws Exception {
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            double baseLoss = AdapterGoldens.loss(base);
            LoraConfig config = LoraConfig.of(4, 8, new ModuleSelector.Names(List.of("embed_tokens"))).withInit(init);
            LoraModel lora = LoraModel.attach(base, config, 5);
            LoraEmbedding e = lora.embeddingAdapters().get("model.embed_tokens");
            assertThat(e.loraA().shape()).containsExactly(4, 128);
            assertThat(e.loraB().shape()).containsExactly(64, 4);
            // N(0, 1) over 256 (B) or 512 (A) draws: the sample std is within 0.15 of 1 (over 3 standard errors).
            assertThat(std(e.loraB().value())).isCloseTo(1.0, within(0.15));
            if (init == InitLoraWeights.RANDOM) {
                assertThat(std(e.loraA().value())).isCloseTo(1.0, within(0.15));
            } else {
                assertThat(e.loraA().value()).containsOnly(0f);
                assertThat(AdapterGoldens.loss(base)).isEqualTo(baseLoss);
            }
        }
    }

    private static double std(float[] v) {
        double s = 0;
        double s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double mean = s / v.length;
        return Math.sqrt(s2 / v.length - mean * mean);
    }

    @Test
    void targetsNameEmbeddingsAndAllLinearLeavesThemOut() throws Exception {
        try (CausalLM llama = Models.load(model("llama_gqa_f32")); CausalLM gpt2 = Models.load(model("gpt2_f32"))) {
            assertThatThrownBy(() -> LoraModel.detached(llama, LoraConfig.of(4, 8,
                    new ModuleSelector.Names(List.of("embed_token", "q_proj")))))
                    .hasMessageContaining("[embed_token]").hasMessageContaining("embed_tokens")
                    .hasMessageContaining("q_proj");
            LoraModel allLinear = LoraModel.detached(llama, LoraConfig.of(4, 8, new ModuleSelector.AllLinear()));
            assertThat(allLinear.embeddingAdapters()).isEmpty();
            assertThat(allLinear.adapters()).hasSize(14);
            LoraModel regex = LoraModel.detached(llama, LoraConfig.of(4, 8, ModuleSelector.Regex.of(".*embed_tokens")));
            assertThat(regex.embeddingAdapters()).containsOnlyKeys("model.embed_tokens");
            assertThat(regex.adapters()).isEmpty();

            LoraModel wte = LoraModel.detached(gpt2, LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("wte", "c_attn"))));
            assertThat(wte.embeddingAdapters()).containsOnlyKeys("transformer.wte");
            assertThat(wte.adapters()).hasSize(2);
            assertThat(wte.allAdapters().getFirst().modulePath()).isEqualTo("transformer.wte");
            assertThat(wte.trainableParameterCount()).isEqualTo(2 * (128 + 64) + 2 * 2 * (64 + 192));
        }
    }

    /** lora4j -> PEFT: PEFT's loss with the adapter lora4j wrote (recorded by the script) is lora4j's. */
    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void peftsLossWithALora4jEmbeddingAdapterEqualsLora4js(String name) throws Exception {
        JsonNode expected = expected(name);
        try (CausalLM base = Models.load(model(name))) {
            LoraModel lora = PeftAdapterFiles.load(base, adapters(name).resolve("lora4j_adapter"), w -> {});
            assertThat(lora.embeddingAdapters()).hasSize(1);
            double loss = AdapterGoldens.loss(base);
            assertThat(loss).isCloseTo(expected.get("lora4j_adapter_peft_loss").asDouble(), within(LOSS_TOLERANCE));
            // The embedding part counts: without it the loss moves well beyond the tolerance.
            lora.embeddingAdapters().values().forEach(e -> e.setEnabled(false));
            assertThat(Math.abs(AdapterGoldens.loss(base) - loss)).isGreaterThan(1e-3);
        }
    }

    /**
     * The merged checkpoint: transformers' loss on it (recorded by the script) equals the adapted
     * model's. With GPT-2's tied head the embedding is merged and the head keeps the original table;
     * PEFT's own merge_and_unload adds ΔE to the shared tensor, so its head changes too and its loss
     * is another model's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void mergedCheckpointGivesTheAdaptedLoss(String name) throws Exception {
        JsonNode expected = expected(name);
        Path out = tmp.resolve("merged");
        CheckpointMerge.Result r = CheckpointMerge.merge(model(name), adapters(name).resolve("peft_adapter"), out, w -> {});
        JsonNode merged = expected.get("merged_by_lora4j");
        boolean gpt2 = name.startsWith("gpt2");
        String table = gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"));
                SafetensorsFile src = SafetensorsFile.open(model(name).resolve("model.safetensors"))) {
            String stored = src.contains(table) ? table : table.substring("transformer.".length());
            assertThat(r.mergedTensors()).contains(stored);
            assertThat(f.tensor(stored).toFloatArray()).isNotEqualTo(src.tensor(stored).toFloatArray());
            if (gpt2) {
                assertThat(r.untiedTensors()).singleElement().asString().startsWith("lm_head.weight");
                assertThat(f.tensor("lm_head.weight").toFloatArray()).isEqualTo(src.tensor(stored).toFloatArray());
            } else {
                assertThat(r.untiedTensors()).isEmpty();
            }
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertThat(config.get("tie_word_embeddings").asBoolean()).isFalse();
        try (CausalLM lm = Models.load(out)) {
            double loss = AdapterGoldens.loss(lm);
            assertThat(loss).isCloseTo(merged.get("transformers_loss").asDouble(), within(LOSS_TOLERANCE));
            assertThat(loss).isCloseTo(expected.get("peft_loss").asDouble(), within(LOSS_TOLERANCE));
        }
        double peftMerge = expected.get("peft_merge_and_unload_loss").asDouble();
        if (gpt2) {
            assertThat(Math.abs(peftMerge - expected.get("peft_loss").asDouble())).isGreaterThan(0.1);
        } else {
            assertThat(peftMerge).isCloseTo(expected.get("peft_loss").asDouble(), within(LOSS_TOLERANCE));
        }
    }

    /**
     * GPT-2 with adapters on both tables (wte, wpe) and on the head tied to wte: the merge gives the head
     * its own merged tensor from the original table and the embeddings theirs, and the merged model
     * computes what the adapted one does (2e-5: one float32 rounding of each merged weight).
     */
    @Test
    void mergeOfEmbeddingsAndTiedHeadTogetherEqualsTheAdaptedModel() throws Exception {
        Path adapter = tmp.resolve("adapter");
        double adapted;
        try (CausalLM base = Models.load(model("gpt2_f32"))) {
            double baseLoss = AdapterGoldens.loss(base);
            LoraConfig config = LoraConfig.of(2, 4, new ModuleSelector.Names(List.of("wte", "wpe", "lm_head")))
                    .withInit(InitLoraWeights.RANDOM).withTask("CAUSAL_LM", "gpt2_f32", false);
            LoraModel lora = LoraModel.attach(base, config, 3);
            assertThat(lora.embeddingAdapters()).containsOnlyKeys("transformer.wte", "transformer.wpe");
            for (LoraEmbedding e : lora.embeddingAdapters().values()) {
                float[] a = e.loraA().value();
                for (int i = 0; i < a.length; i++) {
                    a[i] *= 0.05f;
                }
            }
            adapted = AdapterGoldens.loss(base);
            assertThat(Math.abs(adapted - baseLoss)).isGreaterThan(0.01);
            PeftAdapterFiles.save(lora, adapter);
        }
        Path out = tmp.resolve("merged");
        CheckpointMerge.Result r = CheckpointMerge.merge(model("gpt2_f32"), adapter, out, w -> {});
        assertThat(r.untiedTensors()).singleElement().asString().startsWith("lm_head.weight");
        try (CausalLM lm = Models.load(out)) {
            assertThat(AdapterGoldens.loss(lm)).isCloseTo(adapted, within(2e-5));
        }
    }

    /** Generation's KV-cache path applies the embedding adapter as the training forward does. */
    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_f32_embedding", "gpt2_f32_embedding"})
    void kvCacheForwardSeesTheEmbeddingAdapter(String name) throws Exception {
        int[] prompt = {1, 17, 42, 99, 3};
        try (CausalLM base = Models.load(model(name))) {
            float[] baseLogits = lastLogits(base, prompt);
            PeftAdapterFiles.load(base, adapters(name).resolve("peft_adapter"), w -> {});
            float[] full = lastLogits(base, prompt);
            KvCache cache = base.newKvCache(1, prompt.length);
            float[] cached = base.forwardCached(TokenBatch.of(1, prompt.length, prompt, null, null), cache).toFloatArray();
            assertThat(cached).hasSameSizeAs(full);
            double moved = 0;
            for (int v = 0; v < full.length; v++) {
                // 2e-5 as KvCacheForwardTest: the same sums through different matmul shapes.
                assertThat((double) cached[v]).as("logit %d", v).isCloseTo(full[v], within(2e-5));
                moved = Math.max(moved, Math.abs(full[v] - baseLogits[v]));
            }
            assertThat(moved).as("the adapter changes the logits").isGreaterThan(1e-2);
        }
    }

    private static float[] lastLogits(CausalLM lm, int[] ids) {
        Tensor logits = lm.forward(TokenBatch.of(1, ids.length, ids, null, null));
        float[] out = new float[logits.dim(1)];
        for (int v = 0; v < out.length; v++) {
            out[v] = logits.get(ids.length - 1, v);
        }
        return out;
    }

    @Test
    void wrongShapeOfLoraEmbeddingAIsAnErrorNamingFileTensorAndShape() throws Exception {
        Path dir = tmp.resolve("adapter");
        Files.createDirectories(dir);
        Path source = adapters("llama_gqa_f32_embedding").resolve("peft_adapter");
        Files.copy(source.resolve(AdapterConfigJson.FILE_NAME), dir.resolve(AdapterConfigJson.FILE_NAME));
        String name = "base_model.model.model.embed_tokens.lora_embedding_A";
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(source.resolve(PeftAdapterFiles.WEIGHTS_FILE))) {
            for (String n : f.names()) {
                tensors.put(n, Tensor.of(f.tensor(n).toFloatArray(), f.tensor(n).shape()));
            }
        }
        tensors.put(name, Tensor.zeros(4, 100));  // an adapter for a 100-token vocabulary
        Path weights = dir.resolve(PeftAdapterFiles.WEIGHTS_FILE);
        SafetensorsWriter.write(weights, tensors, Map.of("format", "pt"));
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            assertThatThrownBy(() -> PeftAdapterFiles.load(base, dir, w -> {}))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(weights.toString())
                    .hasMessageContaining(name + ": shape [4, 100] but this base model needs [4, 128]");
        }
    }

    @Test
    void combiningEmbeddingAdaptersIsRefused() throws Exception {
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            AdapterSet set = new AdapterSet(base);
            LoraModel a = set.load("a", adapters("llama_gqa_f32_embedding").resolve("peft_adapter"), w -> {});
            LoraModel b = set.load("b", adapters("llama_gqa_f32_embedding").resolve("lora4j_adapter"), w -> {});
            assertThatThrownBy(() -> AdapterCombination.combine(base, List.of(a, b), List.of(0.5, 0.5),
                    AdapterCombination.Type.CAT, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("model.embed_tokens").hasMessageContaining("not supported");
        }
    }

    @Test
    void adapterSetSwapsEmbeddingAdapters() throws Exception {
        JsonNode expected = expected("llama_gqa_f32_embedding");
        try (CausalLM base = Models.load(model("llama_gqa_f32"))) {
            AdapterSet set = new AdapterSet(base);
            set.load("peft", adapters("llama_gqa_f32_embedding").resolve("peft_adapter"), w -> {});
            set.load("lora4j", adapters("llama_gqa_f32_embedding").resolve("lora4j_adapter"), w -> {});
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("peft_loss").asDouble(), within(LOSS_TOLERANCE));
            set.activate("lora4j");
            assertThat(AdapterGoldens.loss(base))
                    .isCloseTo(expected.get("lora4j_adapter_peft_loss").asDouble(), within(LOSS_TOLERANCE));
            set.disableAll();
            assertThat(AdapterGoldens.loss(base)).isCloseTo(expected.get("base_loss").asDouble(), within(LOSS_TOLERANCE));
        }
    }

    @Test
    void inspectListsTheEmbeddingAdapter() throws Exception {
        Path dir = adapters("llama_gqa_f32_embedding").resolve("peft_adapter");
        Map<String, Object> out = Inspection.adapter(dir, model("llama_gqa_f32"), 2, 16);
        assertThat(out.get("modules_per_layer").toString()).contains("other=[embed_tokens (r=4)]")
                .contains("0=[q_proj (r=4)]");
        long lora = 4 * (128 + 64) + 2 * 4 * (64 + 64);
        assertThat(out.get("parameters")).isEqualTo(lora);
    }
}
