package dev.lora4j.classify;

import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Full fine-tuning for comparison with LoRA: every linear layer of the encoder (query, key, value,
 * attention output, intermediate and output dense of every layer; the pooler too when the model
 * uses it) is trained through a {@link DenseDelta} on its weight and bias, and the head is trained
 * whole. Not trained: the embedding tables and the LayerNorm scales and shifts (lora4j's
 * embedding and LayerNorm layers have no parameter gradients); see docs/sst2.md for their share.
 */
public final class FullTuning implements Tuning {
    private final TextClassifier classifier;
    private final Map<String, DenseDelta> deltas;

    private FullTuning(TextClassifier classifier, Map<String, DenseDelta> deltas) {
        this.classifier = classifier;
        this.deltas = deltas;
    }

    public static FullTuning attach(TextClassifier classifier) {
        Map<String, DenseDelta> deltas = new LinkedHashMap<>();
        var model = classifier.model();
        for (Linear l : model.linears()) {
            if (l.name().endsWith("pooler.dense") && model.pooling() == dev.lora4j.model.bert.Pooling.MEAN) {
                continue;   // BERT with mean pooling never runs its pooler
            }
            DenseDelta d = new DenseDelta(l.name(), l.inFeatures(), l.outFeatures());
            l.setAdapter(d);
            deltas.put(l.name(), d);
        }
        return new FullTuning(classifier, deltas);
    }

    @Override
    public String method() {
        return "full";
    }

    @Override
    public TextClassifier classifier() {
        return classifier;
    }

    /** ΔW, Δb per linear layer by module path, in model order. */
    public Map<String, DenseDelta> deltas() {
        return java.util.Collections.unmodifiableMap(deltas);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (DenseDelta d : deltas.values()) {
            ps.addAll(d.parameters());
        }
        ps.addAll(classifier.model().headParameters());
        return ps;
    }

    @Override
    public void save(Path dir) throws IOException {
        ClassifierFiles.saveFull(this, dir);
    }
}
