package dev.lora4j.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.lora.AdapterConfigJson;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.model.bert.Pooling;
import dev.lora4j.model.bert.SequenceClassifier;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA and full tuning on the tiny BERT classifier golden (made by tools/golden/make_bert_goldens.py
 * with transformers + PEFT): PEFT's own adapter file loads under lora4j's names and reproduces
 * PEFT's loss; what lora4j saves has PEFT's names and loads back to the same logits.
 */
class ClassifierTuningTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/models/bert_cls_f32");
    /** The BERT goldens' forward tolerance: float32 through two layers, PyTorch vs lora4j kernels. */
    private static final double FORWARD_TOLERANCE = 2e-5;

    @TempDir
    Path tmp;

    private static JsonNode expected() throws Exception {
        return new ObjectMapper().readTree(GOLDEN.resolve("expected.json").toFile());
    }

    private static TokenBatch goldenBatch(JsonNode e) {
        List<int[]> rows = new ArrayList<>();
        e.get("input_ids").forEach(r -> rows.add(ints(r)));
        int b = rows.size();
        int t = rows.get(0).length;
        int[] ids = new int[b * t];
        int[] mask = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows.get(i), 0, ids, i * t, t);
            System.arraycopy(ints(e.get("attention_mask").get(i)), 0, mask, i * t, t);
        }
        return TokenBatch.of(b, t, ids, mask, null);
    }

    private static int[] flat(JsonNode rows) {
        List<Integer> all = new ArrayList<>();
        rows.forEach(r -> r.forEach(v -> all.add(v.asInt())));
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] ints(JsonNode row) {
        int[] out = new int[row.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = row.get(i).asInt();
        }
        return out;
    }

    private static TextClassifier tiny(Path dir, List<String> labels) {
        return TextClassifier.of(dir, SequenceClassifier.load(dir, Pooling.CLS, labels, 0), null, 16);
    }

    @Test
    void peftAdapterLoadsUnderLoraNamesAndReproducesPeftLoss() throws Exception {
        JsonNode e = expected();
        try (TextClassifier c = tiny(GOLDEN, null)) {
            LoraConfig config = AdapterConfigJson.read(GOLDEN.resolve("adapter/adapter_config.json"), w -> {});
            LoraTuning t = LoraTuning.attachUninitialized(c, config);
            // Every LoRA tensor and the modules_to_save head in PEFT's file, and nothing else.
            ClassifierFiles.loadWeights(t, GOLDEN.resolve("adapter/adapter_model.safetensors"));
            Tensor logits = c.model().forward(goldenBatch(e), flat(e.get("token_type_ids")));
            double loss = WeightedCrossEntropy.forwardBackward(logits, ints(e.get("labels")), null, null);
            assertThat(loss).isCloseTo(e.get("loss").asDouble(), within(FORWARD_TOLERANCE));
        }
    }

    @Test
    void savedLoraAdapterHasPeftNamesAndLoadsBackToTheSameLogits() throws Exception {
        JsonNode e = expected();
        Path base = modelWithTokenizer();
        Path out = tmp.resolve("adapter");
        float[] before;
        try (TextClassifier c = tiny(base, List.of("neg", "neu", "pos"))) {
            LoraTuning t = LoraTuning.attach(c, LoraConfig.of(4, 8, dev.lora4j.lora.ModuleSelector.parseCli("query,value"))
                    .withTask("SEQ_CLS", base.toString(), false), 5);
            randomize(t.parameters(), 11);   // B is zero after init; make the adapter matter
            before = c.model().forward(goldenBatch(e)).toFloatArray();
            t.save(out);
        }
        try (SafetensorsFile saved = SafetensorsFile.open(out.resolve("adapter_model.safetensors"));
             SafetensorsFile peft = SafetensorsFile.open(GOLDEN.resolve("adapter/adapter_model.safetensors"))) {
            assertThat(new TreeSet<>(saved.names())).isEqualTo(new TreeSet<>(peft.names()));
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"classifier\"]");
        try (TextClassifier loaded = ClassifierFiles.open(base, out, null, w -> {})) {
            assertThat(loaded.labels()).containsExactly("neg", "neu", "pos");
            assertThat(loaded.model().forward(goldenBatch(e)).toFloatArray()).containsExactly(before);
        }
        // A damaged file is refused with every problem named.
        Files.copy(GOLDEN.resolve("adapter/adapter_model.safetensors"), out.resolve("adapter_model.safetensors"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(out.resolve("classifier.json"), Files.readString(out.resolve("classifier.json"))
                .replace("\"neu\", ", "").replace("\"neu\",", ""));
        assertThatThrownBy(() -> ClassifierFiles.open(base, out, null, w -> {}))
                .hasMessageContaining("base_model.model.classifier.weight: shape [3, 32] but this model needs [2, 32]");
    }

    @Test
    void denseDeltaEqualsTrainingTheMergedWeightAndSavesAFullModel() throws Exception {
        JsonNode e = expected();
        Path base = modelWithTokenizer();
        Path out = tmp.resolve("full");
        float[] tuned;
        float[] plain;
        try (TextClassifier c = tiny(base, List.of("a", "b", "c"))) {
            plain = c.model().forward(goldenBatch(e)).toFloatArray();
            FullTuning t = FullTuning.attach(c);
            // Every encoder linear and the (CLS-pooling) pooler: 2 layers x 6 + 1.
            assertThat(t.deltas()).hasSize(13);
            assertThat(c.model().forward(goldenBatch(e)).toFloatArray()).as("zero deltas change nothing").containsExactly(plain);
            randomize(t.parameters(), 3);
            tuned = c.model().forward(goldenBatch(e)).toFloatArray();
            t.save(out);
            checkDeltaGradient(t.deltas().values().iterator().next(), c);
        }
        assertThat(tuned).isNotEqualTo(plain);
        // The saved directory holds W + ΔW: loaded as a plain model it gives the tuned logits.
        try (TextClassifier loaded = ClassifierFiles.open(out, null, null, w -> {})) {
            float[] again = loaded.model().forward(goldenBatch(e)).toFloatArray();
            for (int i = 0; i < tuned.length; i++) {
                // W + ΔW rounded once to float vs x·Wᵀ + x·ΔWᵀ summed separately: a few ulps of the logits.
                assertThat(again[i]).isCloseTo(tuned[i], within(1e-5f));
            }
            assertThat(loaded.labels()).containsExactly("a", "b", "c");
        }
    }

    /** dΔW from backward against central differences of a scalar loss, on a few entries. */
    private static void checkDeltaGradient(DenseDelta delta, TextClassifier c) {
        JsonNode e;
        try {
            e = expected();
        } catch (Exception ex) {
            throw new RuntimeException(ex);
        }
        TokenBatch batch = goldenBatch(e);
        int[] y = ints(e.get("labels"));
        for (Parameter p : delta.parameters()) {
            p.zeroGrad();
        }
        Tensor logits = c.model().forward(batch);
        Tensor d = Tensor.zeros(logits.dim(0), logits.dim(1));
        WeightedCrossEntropy.forwardBackward(logits, y, null, d);
        c.model().backward(d);
        float[] w = delta.deltaWeight().value();
        float[] g = delta.deltaWeight().grad().clone();
        float h = 1e-2f;
        for (int i : new int[] {0, 7, 100, w.length - 1}) {
            float keep = w[i];
            w[i] = keep + h;
            double lp = WeightedCrossEntropy.forwardBackward(c.model().forward(batch), y, null, null);
            w[i] = keep - h;
            double lm = WeightedCrossEntropy.forwardBackward(c.model().forward(batch), y, null, null);
            w[i] = keep;
            // float32 forward: loss rounding ~1e-7 / 2h = 5e-6, plus O(h²) curvature; 2e-4 bounds both.
            assertThat((double) g[i]).as("dΔW[%d]", i).isCloseTo((lp - lm) / (2 * h), within(2e-4));
        }
    }

    private static void randomize(List<Parameter> ps, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Parameter p : ps) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (0.05 * rng.nextGaussian());
            }
        }
    }

    /** The golden model plus a tokenizer.json (MiniLM's, from the test classpath; tests feed token ids). */
    private Path modelWithTokenizer() throws Exception {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(GOLDEN.resolve(f), dir.resolve(f));
        }
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    @Test
    void loraTargetsDefaultToQueryAndValueAndTheHeadIsModulesToSave() throws Exception {
        try (TextClassifier c = tiny(GOLDEN, null)) {
            LoraTuning t = LoraTuning.attach(c, LoraConfig.of(8, 16, dev.lora4j.lora.ModuleSelector.parseCli("query,value")), 1);
            assertThat(t.adapters().keySet()).containsExactly(
                    "bert.encoder.layer.0.attention.self.query", "bert.encoder.layer.0.attention.self.value",
                    "bert.encoder.layer.1.attention.self.query", "bert.encoder.layer.1.attention.self.value");
            assertThat(t.config().modulesToSave()).containsExactly("classifier");
            long lora = 4L * (8 * 32 + 32 * 8);
            long head = 3 * 32 + 3;
            assertThat(t.trainableParameterCount()).isEqualTo(lora + head);
            for (Linear l : c.model().linears()) {
                assertThat(l.adapter() != null).isEqualTo(t.adapters().containsKey(l.name()));
            }
        }
        // The golden checkpoint is a BertForSequenceClassification with its pooler: CLS, as transformers.
        assertThat(TextClassifier.defaultPooling(GOLDEN)).isEqualTo(Pooling.CLS);
    }
}
