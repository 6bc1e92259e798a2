package dev.lora4j.model.bert;

import dev.lora4j.model.ModelWeights;
import dev.lora4j.nn.ActivationMemory;
import dev.lora4j.nn.LayerNormLayer;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Tensor;

/**
 * Looks up BERT-family weights under the names the checkpoint uses. A bare {@code BertModel} /
 * {@code RobertaModel} stores {@code embeddings.*}, {@code encoder.*}; the task models
 * ({@code BertForSequenceClassification}, ...) store the same under {@code bert.} / {@code roberta.}.
 * Module paths handed to LoRA always carry the prefix, as in PEFT on the task model. Old BERT
 * checkpoints name LayerNorm parameters gamma/beta; transformers renames them on load, and so do we.
 */
final class BertWeights {
    private final ModelWeights weights;
    private final String weightPrefix;
    private final String modulePrefix;
    /** The activation policy of the encoder built over these weights: its layers place their buffers by it. */
    private final ActivationMemory memory = new ActivationMemory();

    BertWeights(ModelWeights weights, BertConfig config) {
        this.weights = weights;
        this.modulePrefix = config.modelType() + ".";
        this.weightPrefix = weights.contains(modulePrefix + "embeddings.word_embeddings.weight") ? modulePrefix : "";
    }

    ModelWeights weights() {
        return weights;
    }

    ActivationMemory memory() {
        return memory;
    }

    /** The module path of an encoder module, e.g. {@code bert.encoder.layer.0.attention.self.query}. */
    String module(String path) {
        return modulePrefix + path;
    }

    boolean contains(String path) {
        return weights.contains(weightPrefix + path);
    }

    Tensor require(String path, int... shape) {
        return weights.require(weightPrefix + path, shape);
    }

    /** A frozen Linear {@code path} with weight [out, in] and bias [out]. */
    Linear linear(String path, int in, int out) {
        return new Linear(module(path), require(path + ".weight", out, in), require(path + ".bias", out), false, memory);
    }

    /** A LayerNorm {@code path} with weight and bias [dim] (or the legacy gamma / beta). */
    LayerNormLayer layerNorm(String path, int dim, double eps) {
        boolean legacy = !contains(path + ".weight") && contains(path + ".gamma");
        Tensor w = require(path + (legacy ? ".gamma" : ".weight"), dim);
        Tensor b = require(path + (legacy ? ".beta" : ".bias"), dim);
        return new LayerNormLayer(module(path), w, b, (float) eps, memory);
    }
}
