package dev.lora4j.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.io.safetensors.SafetensorsFile;
import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.lora.LoraLinear;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tiny random BERT and RoBERTa sequence classifiers against transformers + PEFT
 * (tools/golden/make_bert_goldens.py): last hidden states at every real token, logits, and — with a
 * LoRA adapter (r=4 on query and value, random A and B) and the classifier as modules_to_save — the
 * mean cross-entropy loss and its gradients for every LoRA A/B, the head's weights and biases, and
 * the summed input embeddings of every row (padding rows included, whose gradient must be 0).
 *
 * <p>Tolerances. Forward: 2e-5 absolute on values of magnitude ~1-3: both sides compute in float32,
 * differing only in summation order over widths ≤ 64 (a few ulps, ~1e-6) amplified through two
 * post-norm layers; references are rounded to 7 decimals. Gradients: 2e-5 absolute + 1e-3 relative,
 * for gradients of magnitude up to ~0.3 — the backward chain is twice as long as the forward one, and
 * LayerNorm backward divides by the standard deviation, which amplifies rounding differences.
 */
class BertGoldenTest {
    private static final double FORWARD_TOLERANCE = 2e-5;
    private static final double GRAD_ATOL = 2e-5;
    private static final double GRAD_RTOL = 1e-3;
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/models");

    @ParameterizedTest
    @ValueSource(strings = {"bert_cls_f32", "roberta_cls_f32"})
    void hiddenStatesLogitsAndGradientsMatchTransformers(String name) throws Exception {
        Path dir = GOLDEN.resolve(name);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        int batch = ref.get("input_ids").size();
        int seq = ref.get("input_ids").get(0).size();
        int[] mask = flatten(ref.get("attention_mask"));
        int[] types = flatten(ref.get("token_type_ids"));
        // BERT: default positions 0..T-1 (what the reference used); RoBERTa derives its own from the ids.
        TokenBatch tokens = TokenBatch.of(batch, seq, flatten(ref.get("input_ids")), mask, null);
        try (SequenceClassifier model = SequenceClassifier.load(dir, Pooling.CLS, null, 0)) {
            assertThat(model.headFromCheckpoint()).isTrue();
            int hiddenSize = model.config().hiddenSize();

            Tensor hidden = model.encoder().forward(tokens, types);
            double worst = 0;
            for (JsonNode row : ref.get("hidden")) {
                int r = row.get("batch").asInt() * seq + row.get("position").asInt();
                for (int c = 0; c < hiddenSize; c++) {
                    worst = Math.max(worst, Math.abs(hidden.get(r, c) - row.get("values").get(c).asDouble()));
                }
            }
            assertThat(worst).as("max |hidden state difference| for %s", name).isLessThan(FORWARD_TOLERANCE);

            Tensor logits = model.forward(tokens, types);
            assertThat(logits.shape()).containsExactly(batch, 3);
            worst = 0;
            for (int b = 0; b < batch; b++) {
                for (int l = 0; l < 3; l++) {
                    worst = Math.max(worst, Math.abs(logits.get(b, l) - ref.get("logits").get(b).get(l).asDouble()));
                }
            }
            assertThat(worst).as("max |logit difference| for %s", name).isLessThan(FORWARD_TOLERANCE);

            Map<String, Parameter> params = attachAdapter(model, dir.resolve("adapter/adapter_model.safetensors"));
            Tensor lossLogits = model.forward(tokens, types);
            Tensor dLogits = Buffers.f32(batch, 3);
            double loss = CrossEntropy.forwardBackward(lossLogits, flatten1(ref.get("labels")), dLogits, 1f / batch) / batch;
            assertThat(loss).as("loss").isCloseTo(ref.get("loss").asDouble(), org.assertj.core.api.Assertions.within(1e-5));
            model.backward(dLogits);

            JsonNode grads = ref.get("grads");
            assertThat(params.keySet()).containsExactlyInAnyOrderElementsOf(() -> grads.fieldNames());
            for (var e : params.entrySet()) {
                assertClose(name + " " + e.getKey(), e.getValue().grad(), grads.get(e.getKey()).get("values"));
            }
            assertClose(name + " embedding gradient", model.encoder().lastEmbeddingGradient().toFloatArray(),
                    ref.get("embedding_grad"));
        }
    }

    /** LoRA on query/value from the PEFT adapter file, and the head's (modules_to_save) values; by PEFT name. */
    private static Map<String, Parameter> attachAdapter(SequenceClassifier model, Path file) throws Exception {
        Map<String, Parameter> params = new HashMap<>();
        try (SafetensorsFile adapter = SafetensorsFile.open(file)) {
            String prefix = "base_model.model.";
            for (Linear l : model.linears()) {
                if (l.name().endsWith(".query") || l.name().endsWith(".value")) {
                    LoraLinear lora = new LoraLinear(l.name(), l.inFeatures(), l.outFeatures(), 4, 8.0 / 4, 0.0);
                    for (Parameter p : lora.parameters()) {
                        copy(adapter.tensor(prefix + p.name()), p);
                        params.put(p.name(), p);
                    }
                    l.setAdapter(lora);
                }
            }
            for (Parameter p : model.headParameters()) {
                copy(adapter.tensor(prefix + p.name()), p);
                params.put(p.name(), p);
            }
        }
        return params;
    }

    private static void copy(Tensor from, Parameter to) {
        assertThat(from.shape()).as(to.name()).containsExactly(to.shape());
        System.arraycopy(from.toFloatArray(), 0, to.value(), 0, to.size());
    }

    private static void assertClose(String what, float[] actual, JsonNode expected) {
        assertThat(actual).as(what).hasSize(expected.size());
        double worst = 0;
        boolean anyNonZero = false;
        for (int i = 0; i < actual.length; i++) {
            double e = expected.get(i).asDouble();
            anyNonZero |= e != 0;
            double excess = Math.abs(actual[i] - e) - (GRAD_ATOL + GRAD_RTOL * Math.abs(e));
            worst = Math.max(worst, excess);
        }
        assertThat(anyNonZero).as(what + " reference is not all zero").isTrue();
        assertThat(worst).as(what + ": largest excess over atol + rtol·|expected|").isLessThanOrEqualTo(0);
    }

    static int[] flatten(JsonNode rows) {
        int n = 0;
        for (JsonNode r : rows) {
            n += r.size();
        }
        int[] out = new int[n];
        int i = 0;
        for (JsonNode r : rows) {
            for (JsonNode v : r) {
                out[i++] = v.asInt();
            }
        }
        return out;
    }

    private static int[] flatten1(JsonNode values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i).asInt();
        }
        return out;
    }
}
