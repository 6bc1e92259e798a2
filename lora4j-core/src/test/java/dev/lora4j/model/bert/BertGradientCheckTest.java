package dev.lora4j.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.kernels.CrossEntropy;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraLinear;
import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Finite-difference checks of the whole backward pass of tiny BERT and RoBERTa classifiers (2 layers,
 * hidden 8, 2 heads; padded batch with two token types), for both poolings: the gradients of the mean
 * cross-entropy with respect to LoRA A and B on query and value (random A and B, so both get
 * gradient), the trainable head's weights and biases, and the word embeddings (through
 * {@link BertEncoder#lastEmbeddingGradient()}).
 *
 * <p>Central differences with h = 1e-3 on a loss of size ~1 computed in float32: rounding noise is
 * ~1e-7·(a few) / 2h ≈ 1e-4 at worst, truncation h²/6·|L'''| ≈ 1e-6; hence |analytic − numeric| ≤
 * 3e-4 + 2e-2·|numeric|. A wrong sign, a missing residual or LayerNorm term or a mask error changes
 * gradients of size 1e-2..1 by O(1) relative amounts, far above that.
 */
class BertGradientCheckTest {
    private static final double H = 1e-3;
    private static final double ATOL = 3e-4;
    private static final double RTOL = 2e-2;

    @ParameterizedTest
    @CsvSource({"bert,CLS", "bert,MEAN", "roberta,CLS", "roberta,MEAN"})
    void backwardMatchesFiniteDifferences(String type, Pooling pooling) {
        boolean roberta = type.equals("roberta");
        int pad = roberta ? 1 : 0;
        BertConfig c = new BertConfig("tiny", type, 20, 8, 2, 2, 16, 16, 2, 1e-5, "gelu", pad, List.of("a", "b", "c"));
        SplittableRandom rng = new SplittableRandom(17);
        InMemoryWeights weights = InMemoryWeights.random(c, rng);
        SequenceClassifier model = SequenceClassifier.build(c, new ModelWeights(weights), pooling, 5);
        assertThat(model.headFromCheckpoint()).isFalse();
        for (Parameter p : model.headParameters()) {   // a head of size ~1, so gradients reach the encoder
            for (int i = 0; i < p.size(); i++) {
                p.value()[i] = (float) (0.5 * rng.nextGaussian());
            }
        }
        List<Parameter> params = new ArrayList<>(model.headParameters());
        for (Linear l : model.linears()) {
            if (l.name().endsWith(".query") || l.name().endsWith(".value")) {
                LoraLinear lora = new LoraLinear(l.name(), l.inFeatures(), l.outFeatures(), 2, 1.5, 0.0);
                lora.initialize(InitLoraWeights.RANDOM, rng.split());
                l.setAdapter(lora);
                params.addAll(lora.parameters());
            }
        }
        int start = roberta ? 0 : 2;
        TokenBatch batch = TokenBatch.rightPadded(List.of(new int[] {start, 5, 7, 9, 4}, new int[] {start, 11, 4}), pad);
        int[] types = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
        int[] labels = {2, 0};
        DoubleSupplier loss = () -> CrossEntropy.forwardBackward(model.forward(batch, types), labels, null, 1f) / 2;

        for (Parameter p : params) {
            p.zeroGrad();
        }
        Tensor logits = model.forward(batch, types);
        Tensor dLogits = Buffers.f32(2, 3);
        CrossEntropy.forwardBackward(logits, labels, dLogits, 0.5f);
        model.backward(dLogits);
        Tensor embeddingGrad = model.encoder().lastEmbeddingGradient();
        // Copy before the checks run more forward passes.
        List<float[]> analytic = new ArrayList<>();
        for (Parameter p : params) {
            analytic.add(p.grad().clone());
        }

        for (int k = 0; k < params.size(); k++) {
            Parameter p = params.get(k);
            float[] v = p.value();
            int step = Math.max(1, v.length / 10);   // ~10 entries per tensor keeps the test fast
            for (int i = 0; i < v.length; i += step) {
                int index = i;
                check(p.name() + "[" + i + "]", analytic.get(k)[i], x -> v[index] = x, v[i], loss);
            }
        }

        // Word embedding of token 5 (row 0, position 1) and 11 (row 1, position 1): d loss / d table[id]
        // is the summed-embedding gradient of the rows holding that id.
        Tensor table = weights.tensors.get(type + ".embeddings.word_embeddings.weight");
        for (int[] idAndRow : new int[][] {{5, 1}, {11, 6}}) {
            for (int col = 0; col < 8; col++) {
                int id = idAndRow[0];
                int column = col;
                check("word embedding " + id + "[" + col + "]", embeddingGrad.get(idAndRow[1], col),
                        x -> table.set(x, id, column), table.get(id, col), loss);
            }
        }
        for (int r : new int[] {8, 9}) {   // padding rows influence nothing
            for (int col = 0; col < 8; col++) {
                assertThat(embeddingGrad.get(r, col)).as("padding row %d gradient", r).isZero();
            }
        }
    }

    private static void check(String what, double analytic, FloatSetter set, float x0, DoubleSupplier loss) {
        float xp = (float) (x0 + H);
        float xm = (float) (x0 - H);
        set.set(xp);
        double lp = loss.getAsDouble();
        set.set(xm);
        double lm = loss.getAsDouble();
        set.set(x0);
        double numeric = (lp - lm) / ((double) xp - xm);
        assertThat(Math.abs(analytic - numeric)).as("%s: analytic %.6g vs finite difference %.6g", what, analytic, numeric)
                .isLessThanOrEqualTo(ATOL + RTOL * Math.abs(numeric));
    }

    @FunctionalInterface
    private interface FloatSetter {
        void set(float x);
    }
}
