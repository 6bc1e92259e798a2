package dev.lora4j.classify;

import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraLinear;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.nn.Linear;
import dev.lora4j.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LoRA on a sequence classifier as PEFT does with {@code task_type="SEQ_CLS"}: adapters on the linear
 * layers {@code target_modules} selects (default {@code query}, {@code value}), and the head
 * ({@code classifier}) trained whole as a {@code modules_to_save} copy. The frozen encoder is untouched.
 */
public final class LoraTuning implements Tuning {
    /** PEFT's SEQ_CLS default for modules_to_save. */
    public static final List<String> HEAD_MODULES = List.of("classifier");

    private final TextClassifier classifier;
    private final LoraConfig config;
    private final Map<String, LoraLinear> adapters;

    private LoraTuning(TextClassifier classifier, LoraConfig config, Map<String, LoraLinear> adapters) {
        this.classifier = classifier;
        this.config = config;
        this.adapters = adapters;
    }

    /** Attaches fresh adapters (PEFT's initialization from {@code seed}); the head is the classifier's own. */
    public static LoraTuning attach(TextClassifier classifier, LoraConfig config, long seed) {
        LoraTuning t = attachUninitialized(classifier, config);
        SplittableRandom rng = new SplittableRandom(seed);
        for (LoraLinear a : t.adapters.values()) {
            a.initialize(config.initLoraWeights(), rng.split());
        }
        return t;
    }

    /** Attaches adapters with zero weights, to be loaded from a file. */
    public static LoraTuning attachUninitialized(TextClassifier classifier, LoraConfig config) {
        if (!config.modulesToSave().containsAll(HEAD_MODULES)) {
            config = config.withModulesToSave(union(config.modulesToSave(), HEAD_MODULES));
        }
        Map<String, LoraLinear> adapters = LoraModel.adaptersFor(classifier.model().linears(), config);
        for (Linear l : classifier.model().linears()) {
            LoraLinear a = adapters.get(l.name());
            if (a != null) {
                l.setAdapter(a);
            }
        }
        return new LoraTuning(classifier, config, adapters);
    }

    private static List<String> union(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        for (String s : b) {
            if (!out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public String method() {
        return "lora";
    }

    @Override
    public TextClassifier classifier() {
        return classifier;
    }

    public LoraConfig config() {
        return config;
    }

    public Map<String, LoraLinear> adapters() {
        return java.util.Collections.unmodifiableMap(adapters);
    }

    /** LoRA A and B of every adapter in model order, then the head's weights and biases. */
    @Override
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (LoraLinear a : adapters.values()) {
            ps.addAll(a.parameters());
        }
        ps.addAll(classifier.model().headParameters());
        return ps;
    }

    @Override
    public void setTraining(boolean training, long seed, long step) {
        for (LoraLinear a : adapters.values()) {
            a.setTraining(training, seed, step);
        }
    }

    @Override
    public void save(Path dir) throws IOException {
        ClassifierFiles.saveLora(this, dir);
    }
}
