package dev.lora4j.model.bert;

import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.Linear;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.DType;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An encoder with a sequence-classification head, as transformers builds it:
 * <ul>
 *   <li>BERT ({@code BertForSequenceClassification}): {@code classifier(tanh(pooler.dense(h[CLS])))}. The
 *       pooler belongs to the base model (frozen; a LoRA target like any other Linear), the
 *       {@code classifier} is the trainable head.</li>
 *   <li>RoBERTa ({@code RobertaForSequenceClassification}):
 *       {@code classifier.out_proj(tanh(classifier.dense(h[<s>])))}; both are the trainable head.</li>
 * </ul>
 * The trainable head is what PEFT's {@code modules_to_save} (task_type SEQ_CLS: "classifier") makes
 * trainable: {@link #headParameters()} are named {@code classifier.weight}, {@code classifier.bias}
 * (RoBERTa: {@code classifier.dense.*}, {@code classifier.out_proj.*}).
 *
 * <p>{@link Pooling#MEAN} replaces the first token by the mean of the real tokens; BERT then skips the
 * pooler (trained for the [CLS] token only) and classifies the mean directly, RoBERTa feeds it to its
 * usual two-layer head. Dropout is not applied (inference semantics in training too).
 */
public final class SequenceClassifier implements AutoCloseable {
    /** transformers' initializer_range default, the std of a freshly initialized head. */
    static final double INITIALIZER_RANGE = 0.02;

    private final BertEncoder encoder;
    private final Pooling pooling;
    private final Linear pooler;            // BERT only; frozen
    private final TrainableLinear dense;    // RoBERTa only
    private final TrainableLinear classifier;
    private final boolean headFromCheckpoint;

    private TokenBatch savedBatch;
    private Tensor savedTanh;

    private SequenceClassifier(BertEncoder encoder, Pooling pooling, Linear pooler, TrainableLinear dense,
                               TrainableLinear classifier, boolean headFromCheckpoint) {
        this.encoder = encoder;
        this.pooling = pooling;
        this.pooler = pooler;
        this.dense = dense;
        this.classifier = classifier;
        this.headFromCheckpoint = headFromCheckpoint;
    }

    /**
     * Loads {@code dir} with a classification head over {@code labelsOrNull} (null: the config's
     * labels). The head comes from the checkpoint when it has one for the same number of labels;
     * otherwise it is initialized as transformers does (N(0, 0.02²) weights, zero biases) from {@code seed}.
     */
    public static SequenceClassifier load(Path dir, Pooling pooling, List<String> labelsOrNull, long seed) {
        BertConfig config = Encoders.loadConfig(dir);
        if (labelsOrNull != null) {
            config = config.withLabels(labelsOrNull);
        }
        ModelWeights weights = Encoders.openWeights(dir);
        try {
            return build(config, weights, pooling, seed);
        } catch (RuntimeException e) {
            weights.source().close();
            throw e;
        }
    }

    /** Builds over {@code weights} (used in place); see {@link #load}. */
    public static SequenceClassifier build(BertConfig config, ModelWeights modelWeights, Pooling pooling, long seed) {
        BertWeights w = new BertWeights(modelWeights, config);
        BertEncoder encoder = new BertEncoder(config, w);
        int d = config.hiddenSize();
        int labels = config.numLabels();
        SplittableRandom rng = new SplittableRandom(seed);
        if (config.isRoberta()) {
            TrainableLinear dense = new TrainableLinear("classifier.dense", d, d);
            TrainableLinear outProj = new TrainableLinear("classifier.out_proj", d, labels);
            boolean fromCheckpoint = loadOrInit(modelWeights, dense, rng) & loadOrInit(modelWeights, outProj, rng);
            if (!fromCheckpoint) {   // a partial head is no head: start both afresh
                dense.initializeNormal(rng, INITIALIZER_RANGE);
                outProj.initializeNormal(rng, INITIALIZER_RANGE);
            }
            return new SequenceClassifier(encoder, pooling, null, dense, outProj, fromCheckpoint);
        }
        Linear pooler = w.contains("pooler.dense.weight") ? w.linear("pooler.dense", d, d) : freshPooler(w, d, rng);
        TrainableLinear classifier = new TrainableLinear("classifier", d, labels);
        boolean fromCheckpoint = loadOrInit(modelWeights, classifier, rng);
        return new SequenceClassifier(encoder, pooling, pooler, null, classifier, fromCheckpoint);
    }

    /** Loads {@code layer} from the checkpoint when it has it with matching shapes, else initializes it. */
    private static boolean loadOrInit(ModelWeights weights, TrainableLinear layer, SplittableRandom rng) {
        String wName = layer.name() + ".weight";
        String bName = layer.name() + ".bias";
        if (weights.contains(wName) && weights.contains(bName)) {
            Tensor w = tensor(weights, wName);
            Tensor b = tensor(weights, bName);
            if (w.rank() == 2 && w.dim(0) == layer.outFeatures() && w.dim(1) == layer.inFeatures()
                    && b.rank() == 1 && b.dim(0) == layer.outFeatures()) {
                layer.load(w, b);
                return true;
            }
        }
        layer.initializeNormal(rng, INITIALIZER_RANGE);
        return false;
    }

    private static Tensor tensor(ModelWeights weights, String name) {
        try {
            return weights.source().tensor(name);
        } catch (dev.lora4j.io.safetensors.SafetensorsException e) {
            throw new dev.lora4j.model.ConfigException(e.getMessage(), e);
        }
    }

    /**
     * A checkpoint without a pooler (e.g. sentence-transformers exports) gets one initialized as
     * transformers does when it builds BertForSequenceClassification from it; it stays frozen.
     */
    private static Linear freshPooler(BertWeights w, int d, SplittableRandom rng) {
        Tensor weight = Tensor.zeros(d, d);
        for (int i = 0; i < d * d; i++) {
            weight.setFlat(i, (float) (INITIALIZER_RANGE * rng.nextGaussian()));
        }
        return new Linear(w.module("pooler.dense"), weight, Tensor.zeros(d), false);
    }

    public BertConfig config() {
        return encoder.config();
    }

    public BertEncoder encoder() {
        return encoder;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** True when the head's weights were read from the checkpoint, false when freshly initialized. */
    public boolean headFromCheckpoint() {
        return headFromCheckpoint;
    }

    /** Logits [batch, numLabels]. */
    public Tensor forward(TokenBatch batch, int[] tokenTypeIdsOrNull) {
        Tensor hidden = encoder.forward(batch, tokenTypeIdsOrNull);
        Tensor pooled = pooling.forward(hidden, batch);
        savedBatch = batch;
        Tensor features = pooled;
        savedTanh = null;
        if (dense != null) {
            savedTanh = tanh(dense.forward(pooled));
            features = savedTanh;
        } else if (pooling == Pooling.CLS) {
            savedTanh = tanh(pooler.forward(pooled));
            features = savedTanh;
        }
        return classifier.forward(features);
    }

    public Tensor forward(TokenBatch batch) {
        return forward(batch, null);
    }

    /** Back from dLogits [batch, numLabels]: head gradients accumulate, then the encoder's backward runs. */
    public void backward(Tensor dLogits) {
        Tensor dFeatures = classifier.backward(dLogits);
        Tensor dPooled = dFeatures;
        if (savedTanh != null) {
            Tensor dPre = tanhBackward(savedTanh, dFeatures);
            if (dense != null) {
                dPooled = dense.backward(dPre);
            } else {
                dPooled = Buffers.f32(dPre.dim(0), pooler.inFeatures());
                pooler.backward(dPre, dPooled, false);
            }
        }
        encoder.backward(pooling.backward(dPooled, savedBatch));
    }

    /** The encoder's linear layers and (BERT) the pooler: everything LoRA may target. */
    public List<Linear> linears() {
        List<Linear> all = new ArrayList<>(encoder.linears());
        if (pooler != null) {
            all.add(pooler);
        }
        return all;
    }

    /** The trainable head layers in model order (RoBERTa: dense, out_proj; BERT: classifier). */
    public List<TrainableLinear> headLayers() {
        return dense != null ? List.of(dense, classifier) : List.of(classifier);
    }

    /** The head's parameters (PEFT modules_to_save), weight then bias of each head layer. */
    public List<Parameter> headParameters() {
        List<Parameter> ps = new ArrayList<>();
        for (TrainableLinear l : headLayers()) {
            ps.addAll(l.parameters());
        }
        return ps;
    }

    private static Tensor tanh(Tensor x) {
        Tensor y = Buffers.f32(x.dim(0), x.dim(1));
        for (int r = 0; r < x.dim(0); r++) {
            for (int c = 0; c < x.dim(1); c++) {
                y.set((float) Math.tanh(x.get(r, c)), r, c);
            }
        }
        return y;
    }

    /** d tanh(u)/du = 1 - tanh(u)². */
    private static Tensor tanhBackward(Tensor y, Tensor dy) {
        Tensor dx = Buffers.f32(y.dim(0), y.dim(1));
        for (int r = 0; r < y.dim(0); r++) {
            for (int c = 0; c < y.dim(1); c++) {
                float t = y.get(r, c);
                dx.set(dy.get(r, c) * (1 - t * t), r, c);
            }
        }
        return dx;
    }

    @Override
    public void close() {
        encoder.close();
    }
}
