package dev.lora4j.model.bert;

import dev.lora4j.io.safetensors.SafetensorsException;
import dev.lora4j.io.safetensors.TensorInfo;
import dev.lora4j.io.safetensors.WeightSource;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/** Heap F32 weights by name, for tests that build tiny models in memory (and may perturb them). */
final class InMemoryWeights implements WeightSource {
    final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** A tiny random BERT or RoBERTa: LayerNorm weights 1 + N(0, 0.2²), biases N(0, 0.1²), the rest N(0, 0.3²). */
    static InMemoryWeights random(BertConfig c, RandomGenerator rng) {
        InMemoryWeights w = new InMemoryWeights();
        String p = c.modelType() + ".";
        int d = c.hiddenSize();
        w.put(p + "embeddings.word_embeddings.weight", rng, 0.3, 0, c.vocabSize(), d);
        w.put(p + "embeddings.position_embeddings.weight", rng, 0.3, 0, c.maxPositions(), d);
        w.put(p + "embeddings.token_type_embeddings.weight", rng, 0.3, 0, c.typeVocabSize(), d);
        w.layerNorm(p + "embeddings.LayerNorm", rng, d);
        for (int i = 0; i < c.numLayers(); i++) {
            String l = p + "encoder.layer." + i + ".";
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                w.linear(l + m, rng, d, d);
            }
            w.layerNorm(l + "attention.output.LayerNorm", rng, d);
            w.linear(l + "intermediate.dense", rng, d, c.intermediateSize());
            w.linear(l + "output.dense", rng, c.intermediateSize(), d);
            w.layerNorm(l + "output.LayerNorm", rng, d);
        }
        if (!c.isRoberta()) {
            w.linear(p + "pooler.dense", rng, d, d);
        }
        return w;
    }

    void linear(String name, RandomGenerator rng, int in, int out) {
        put(name + ".weight", rng, 0.3, 0, out, in);
        put(name + ".bias", rng, 0.1, 0, out);
    }

    void layerNorm(String name, RandomGenerator rng, int d) {
        put(name + ".weight", rng, 0.2, 1, d);
        put(name + ".bias", rng, 0.1, 0, d);
    }

    void put(String name, RandomGenerator rng, double std, double mean, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFlat(i, (float) (mean + std * rng.nextGaussian()));
        }
        tensors.put(name, t);
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) throws SafetensorsException {
        Tensor t = tensor(name);
        return new TensorInfo(name, "F32", t.shape(), 0, t.numel() * 4);
    }

    @Override
    public Tensor tensor(String name) throws SafetensorsException {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(Path.of("in-memory"), "no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public List<Path> files() {
        return List.of(Path.of("in-memory"));
    }

    @Override
    public void close() {}
}
