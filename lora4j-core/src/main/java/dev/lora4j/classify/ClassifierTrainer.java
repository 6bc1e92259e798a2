package dev.lora4j.classify;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.nn.Buffers;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Parameter;
import dev.lora4j.tensor.Tensor;
import dev.lora4j.train.AdamW;
import dev.lora4j.train.GradClip;
import dev.lora4j.train.ProgressBar;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Trains a {@link Tuning} on labelled texts: mini-batches from {@link BatchOrder} (every example once
 * per epoch, batches of similar length), right-padded to the batch's longest text; mean (optionally
 * class-weighted) cross-entropy; gradient-norm clipping; AdamW with the learning-rate schedule;
 * evaluation (accuracy, macro-F1) before, every {@code evalEvery} steps and after. Writes
 * {@code metrics.jsonl} into the output directory when one is given.
 */
public final class ClassifierTrainer {
    /** Held-out metrics before and after, and the training losses. */
    public record Result(int steps, double firstLoss, double lastLoss, ClassificationMetrics before,
                         ClassificationMetrics after, double seconds) {}

    private final Tuning tuning;
    private final LabeledDataset train;
    private final LabeledDataset evalOrNull;
    private final ClassifierTrainOptions options;
    private final Path outputOrNull;
    private final PrintStream log;
    private final ObjectMapper json = new ObjectMapper();

    public ClassifierTrainer(Tuning tuning, LabeledDataset train, LabeledDataset evalOrNull,
                             ClassifierTrainOptions options, Path outputOrNull, PrintStream log) {
        this.tuning = tuning;
        this.train = train;
        this.evalOrNull = evalOrNull;
        this.options = options;
        this.outputOrNull = outputOrNull;
        this.log = log;
        tuning.classifier().checkLabels(train);
        if (evalOrNull != null) {
            tuning.classifier().checkLabels(evalOrNull);
        }
    }

    public Result run() throws IOException {
        TextClassifier classifier = tuning.classifier();
        int[][] encoded = classifier.encodeAll(train.texts());
        int[] labels = train.labels();
        int total = options.totalSteps(encoded.length);
        List<Parameter> params = tuning.parameters();
        AdamW adamw = new AdamW(params, options.weightDecay());
        int batchSize = Math.min(options.batchSize(), encoded.length);
        BatchOrder batches = new BatchOrder(encoded, batchSize, options.seed());
        BufferedWriter metrics = outputOrNull == null ? null
                : Files.newBufferedWriter(outputOrNull.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        long started = System.nanoTime();
        try {
            ClassificationMetrics before = evaluate(0, metrics);
            ProgressBar bar = new ProgressBar(log, total);
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            double smoothed = Double.NaN;
            long tokens = 0;
            long trainNanos = 0;
            for (int step = 0; step < total; step++) {
                long t0 = System.nanoTime();
                int[] members = batches.next();
                List<int[]> seqs = new ArrayList<>(members.length);
                int[] targets = new int[members.length];
                for (int i = 0; i < members.length; i++) {
                    seqs.add(encoded[members[i]]);
                    targets[i] = labels[members[i]];
                    tokens += encoded[members[i]].length;
                }
                tuning.setTraining(true, options.seed(), step);
                TokenBatch batch = classifier.batch(seqs);
                Tensor logits = classifier.model().forward(batch);
                Tensor dLogits = Buffers.f32(logits.dim(0), logits.dim(1));
                double loss = WeightedCrossEntropy.forwardBackward(logits, targets, options.classWeightsOrNull(), dLogits);
                classifier.model().backward(dLogits);
                double norm = GradClip.clip(params, options.maxGradNorm());
                double lr = options.lr() * options.schedule().multiplier(step, options.warmup(), total);
                adamw.step(lr);
                for (Parameter p : params) {
                    p.zeroGrad();
                }
                trainNanos += System.nanoTime() - t0;
                firstLoss = step == 0 ? loss : firstLoss;
                lastLoss = loss;
                smoothed = Double.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
                if (metrics != null) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("step", step + 1);
                    m.put("loss", loss);
                    m.put("lr", lr);
                    m.put("grad_norm", norm);
                    metrics.write(json.writeValueAsString(m));
                    metrics.newLine();
                }
                bar.update(step + 1, 0, String.format(Locale.ROOT, "loss %.4f", smoothed), tokens / (trainNanos / 1e9));
                if (options.evalEvery() > 0 && (step + 1) % options.evalEvery() == 0 && step + 1 < total) {
                    evaluate(step + 1, metrics);
                }
            }
            tuning.setTraining(false, options.seed(), total);
            ClassificationMetrics after = evaluate(total, metrics);
            return new Result(total, firstLoss, lastLoss, before, after, (System.nanoTime() - started) / 1e9);
        } finally {
            if (metrics != null) {
                metrics.close();
            }
        }
    }

    private ClassificationMetrics evaluate(int step, BufferedWriter metrics) throws IOException {
        if (evalOrNull == null) {
            return null;
        }
        tuning.setTraining(false, options.seed(), step);
        ClassificationMetrics m = tuning.classifier().evaluate(evalOrNull, Math.max(options.batchSize(), 32), null);
        log.printf(Locale.ROOT, "eval @ step %d: accuracy %.4f, macro-F1 %.4f (%d examples)%n", step, m.accuracy(),
                m.macroF1(), m.total());
        if (metrics != null) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("step", step);
            out.put("eval_accuracy", m.accuracy());
            out.put("eval_macro_f1", m.macroF1());
            metrics.write(json.writeValueAsString(out));
            metrics.newLine();
            metrics.flush();
        }
        return m;
    }

    /** A seeded permutation of 0..n-1 for one epoch. */
    static int[] shuffled(int n, long seed, int epoch) {
        List<Integer> idx = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, new Random(new SplittableRandom(seed).split().nextLong() + epoch));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = idx.get(i);
        }
        return out;
    }
}
