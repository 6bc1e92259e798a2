package dev.lora4j.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraLinear;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Activation recomputation in the BERT-family encoders (post-norm layers, whose output is a LayerNorm's
 * result): a forward and backward with recomputation gives exactly the gradients of one without, for
 * every LoRA matrix (dropout on, padded batch) and the classification head, and the encoder holds
 * less activation memory. Exact equality: the same float operations on the same values.
 */
class EncoderRecomputeTest {
    @ParameterizedTest
    @ValueSource(strings = {"bert_cls_f32", "roberta_cls_f32"})
    void recomputedGradientsAreBitIdentical(String name) throws Exception {
        Path dir = Path.of("src/test/resources/golden/models", name);
        JsonNode e = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        TokenBatch batch = batch(e);
        Run keep = run(dir, batch, false);
        Run recompute = run(dir, batch, true);
        assertThat(recompute.gradients).hasSameSizeAs(keep.gradients);
        for (int i = 0; i < keep.gradients.size(); i++) {
            assertThat(recompute.gradients.get(i)).as("gradient %d", i).containsExactly(keep.gradients.get(i));
        }
        // Every LoRA A and B, and the head, got a gradient (B starts random, so A's is not zero either).
        assertThat(keep.gradients).allSatisfy(g -> assertThat(maxAbs(g)).isGreaterThan(0f));
        assertThat(recompute.activationBytes).isLessThan(keep.activationBytes);
    }

    private record Run(List<float[]> gradients, long activationBytes) {}

    private static Run run(Path dir, TokenBatch batch, boolean recompute) {
        try (SequenceClassifier model = SequenceClassifier.load(dir, Pooling.CLS, null, 0)) {
            model.encoder().activationMemory().setRecompute(recompute);
            LoraConfig config = LoraConfig.of(4, 8, ModuleSelector.parseCli("query,key,value,dense"))
                    .withDropout(0.2).withInit(InitLoraWeights.RANDOM);
            Map<String, LoraLinear> adapters = LoraModel.adaptersFor(model.linears(), config);
            SplittableRandom rng = new SplittableRandom(3);
            for (Linear l : model.linears()) {
                LoraLinear a = adapters.get(l.name());
                if (a != null) {
                    a.initialize(InitLoraWeights.RANDOM, rng.split());
                    a.setTraining(true, 9, 4);
                    l.setAdapter(a);
                }
            }
            Tensor logits = model.forward(batch);
            // Any fixed upstream gradient exercises the whole backward; a seeded random one.
            Random random = new Random(2);
            Tensor dLogits = Tensor.zeros(logits.dim(0), logits.dim(1));
            for (int i = 0; i < logits.dim(0) * logits.dim(1); i++) {
                dLogits.setFlat(i, (float) random.nextGaussian());
            }
            model.backward(dLogits);
            List<float[]> grads = new ArrayList<>();
            for (LoraLinear a : adapters.values()) {
                for (Parameter p : a.parameters()) {
                    grads.add(p.grad().clone());
                }
            }
            for (Parameter p : model.headParameters()) {
                grads.add(p.grad().clone());
            }
            return new Run(grads, model.encoder().activationMemory().bytesHeld());
        }
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static TokenBatch batch(JsonNode e) {
        int b = e.get("input_ids").size();
        int t = e.get("input_ids").get(0).size();
        int[] ids = new int[b * t];
        int[] mask = new int[b * t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = e.get("input_ids").get(i).get(j).asInt();
                mask[i * t + j] = e.get("attention_mask").get(i).get(j).asInt();
            }
        }
        return TokenBatch.of(b, t, ids, mask, null);
    }
}
