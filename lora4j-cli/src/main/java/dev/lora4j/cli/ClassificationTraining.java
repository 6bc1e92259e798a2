package dev.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lora4j.classify.ClassWeights;
import dev.lora4j.classify.ClassificationData;
import dev.lora4j.classify.ClassificationMetrics;
import dev.lora4j.classify.ClassifierFiles;
import dev.lora4j.classify.ClassifierTrainOptions;
import dev.lora4j.classify.ClassifierTrainer;
import dev.lora4j.classify.FullTuning;
import dev.lora4j.classify.LabeledDataset;
import dev.lora4j.classify.LoraTuning;
import dev.lora4j.classify.ResourceUsage;
import dev.lora4j.classify.TextClassifier;
import dev.lora4j.classify.Tuning;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.bert.Pooling;
import dev.lora4j.train.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code lora4j train --task classification} and {@code lora4j eval --task classification}: a BERT-family
 * encoder with a classification head, trained with LoRA (+ head as modules_to_save) or fully, on TSV,
 * CSV or JSONL text/label data. The causal-LM paths of the two commands are not involved.
 */
final class ClassificationTraining {
    static final String DEFAULT_TARGETS = "query,value";
    private final TrainCommand a;

    ClassificationTraining(TrainCommand args) {
        this.a = args;
    }

    int run() throws Exception {
        if (a.evalData != null && a.evalSplit > 0) {
            throw new IllegalArgumentException("give --eval-data or --eval-split, not both");
        }
        if (a.initAdapter != null || a.resume || a.checkpointEvery > 0 || a.gradAccum != 1) {
            throw new IllegalArgumentException("--init-adapter, --resume, --checkpoint-every and --grad-accum are not "
                    + "supported with --task classification yet");
        }
        List<String> names = ClassificationData.parseLabelList(a.labels);
        LabeledDataset train = ClassificationData.read(a.data, a.textColumn, a.labelColumn, names);
        names = train.labelNames();
        LabeledDataset eval = a.evalData != null ? ClassificationData.read(a.evalData, a.textColumn, a.labelColumn, names) : null;
        if (a.evalSplit > 0) {
            LabeledDataset shuffled = train.sample(train.size(), a.seed);
            int held = (int) Math.max(1, Math.round(train.size() * a.evalSplit));
            eval = shuffled.head(held);
            train = new LabeledDataset(shuffled.source(), shuffled.texts().subList(held, shuffled.size()),
                    java.util.Arrays.copyOfRange(shuffled.labels(), held, shuffled.size()),
                    java.util.Arrays.copyOfRange(shuffled.lines(), held, shuffled.size()), names);
        }
        if (a.maxTrainExamples > 0) {
            train = train.sample(a.maxTrainExamples, a.seed);
        }
        float[] weights = ClassWeights.parse(a.classWeights, train.classCounts());
        Pooling pooling = a.pooling.equals("auto") ? TextClassifier.defaultPooling(a.model)
                : Pooling.valueOf(a.pooling.toUpperCase(Locale.ROOT));
        ClassifierTrainOptions options = new ClassifierTrainOptions(a.steps, a.epochs, a.batchSize, a.lr,
                LrSchedule.parse(a.schedule), a.warmup, a.weightDecay, a.maxGradNorm, a.seed, a.evalEvery, weights);
        Files.createDirectories(a.output);
        long started = System.nanoTime();
        try (TextClassifier classifier = TextClassifier.load(a.model, pooling, names, a.seqLen, a.seed)) {
            classifier.model().encoder().activationMemory().setRecompute(a.recompute);
            Tuning tuning = switch (a.method) {
                case "lora" -> LoraTuning.attach(classifier, loraConfig(), a.seed);
                case "full" -> FullTuning.attach(classifier);
                default -> throw new IllegalArgumentException("unknown --method '" + a.method + "' (lora or full)");
            };
            long base = ResourceUsage.checkpointParameters(a.model);
            long headParams = classifier.model().headParameters().stream().mapToLong(p -> p.size()).sum();
            long trainable = tuning.trainableParameterCount();
            long total = base + headParams;
            System.err.printf(Locale.ROOT, "lora4j train: %s %s on %s, %s pooling, classes %s; %,d of %,d parameters "
                            + "trainable (%.3f%%); %d training / %d held-out examples; %d steps%n",
                    a.method, classifier.model().config().modelType(), a.model, pooling.name().toLowerCase(Locale.ROOT),
                    names, trainable, total, 100.0 * trainable / total, train.size(), eval == null ? 0 : eval.size(),
                    options.totalSteps(train.size()));
            ClassifierTrainer.Result r = new ClassifierTrainer(tuning, train, eval, options, a.output, System.err).run();
            tuning.save(a.output);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("task", "classification");
            summary.put("method", a.method);
            summary.put("labels", names);
            summary.put("train_examples", train.size());
            summary.put("trainable_parameters", trainable);
            summary.put("total_parameters", total);
            summary.put("trainable_percent", 100.0 * trainable / total);
            summary.put("steps", r.steps());
            summary.put("train_loss_first", r.firstLoss());
            summary.put("train_loss_last", r.lastLoss());
            if (r.before() != null) {
                summary.put("eval_accuracy_before", r.before().accuracy());
                summary.put("eval_accuracy_after", r.after().accuracy());
                summary.put("eval_macro_f1_after", r.after().macroF1());
                System.err.print(r.after().table());
            }
            summary.put("recompute", a.recompute);
            summary.put("seconds", (System.nanoTime() - started) / 1e9);
            summary.put("peak_rss_mib", ResourceUsage.peakResidentBytes() / (1024.0 * 1024.0));
            summary.put("output", a.output.toAbsolutePath().toString());
            Files.writeString(a.output.resolve("train_summary.json"),
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary));
            System.out.println(new ObjectMapper().writeValueAsString(summary));
        }
        return 0;
    }

    private LoraConfig loraConfig() {
        String targets = a.targetModules != null ? a.targetModules : DEFAULT_TARGETS;
        return LoraConfig.of(a.rank, a.alpha, ModuleSelector.parseCli(targets))
                .withDropout(a.dropout)
                .withRslora(a.rslora)
                .withInit(InitLoraWeights.KAIMING)
                .withModulesToSave(LoraTuning.HEAD_MODULES)
                .withTask("SEQ_CLS", a.model.toAbsolutePath().toString(), false);
    }

    /** eval --task classification: JSON metrics on stdout, the confusion matrix as a table on stderr. */
    static int evaluate(Path model, Path adapter, Path data, String textColumn, String labelColumn, Integer seqLen,
                        int batchSize) throws Exception {
        try (TextClassifier c = ClassifierFiles.open(model, adapter, seqLen,
                w -> System.err.println("lora4j eval: warning: " + w))) {
            LabeledDataset d = ClassificationData.read(data, textColumn, labelColumn, c.labels());
            long started = System.nanoTime();
            ClassificationMetrics m = c.evaluate(d, batchSize, done -> {
                if (d.size() > 4 * batchSize) {
                    System.err.printf(Locale.ROOT, "\reval: %d/%d examples, %.1f s", done, d.size(),
                            (System.nanoTime() - started) / 1e9);
                    if (done == d.size()) {
                        System.err.println();
                    }
                }
            });
            System.err.print(m.table());
            System.out.println(new ObjectMapper().writeValueAsString(m.toMap()));
        }
        return 0;
    }
}
