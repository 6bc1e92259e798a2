package dev.lora4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.tensor.Parameter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The LoRA training loop for causal language models.
 *
 * <p>One optimizer step: draw {@code gradAccum} micro-batches, run forward, the fused cross-entropy
 * and backward on each (gradients accumulate in the adapters), scale so the loss is the mean over
 * every target token of the step, clip, and take an AdamW step at the scheduled learning rate.
 * Data order, initialization and dropout all derive from the seed and the step number, so a run is
 * reproducible bit for bit and a resumed run continues the same curve.
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String METRICS_FILE = "metrics.jsonl";

    private final LoraModel model;
    private final List<Example> train;
    private final List<Example> eval;
    private final TrainOptions options;
    private final Path outputDir;
    private final PrintStream log;
    private java.util.function.LongConsumer stepListener = step -> {};

    /** What a run ends with. */
    public record Result(int steps, double firstLoss, double lastLoss, Evaluation.Result evalBefore,
                         Evaluation.Result evalAfter) {}

    public Trainer(LoraModel model, List<Example> train, List<Example> evalOrNull, TrainOptions options,
                   Path outputDir, PrintStream log) {
        this.model = model;
        this.train = train.stream().map(e -> e.truncate(options.seqLen())).filter(e -> e.targetCount() > 0).toList();
        if (this.train.isEmpty()) {
            throw new IllegalArgumentException("no training example has a token to predict");
        }
        this.eval = evalOrNull == null ? List.of() : evalOrNull;
        this.options = options;
        this.outputDir = outputDir;
        this.log = log;
    }

    /** Called after every optimizer step with the number of steps done (for progress displays and tests). */
    public Trainer onStep(java.util.function.LongConsumer listener) {
        this.stepListener = listener;
        return this;
    }

    public Result run(boolean resume) throws IOException {
        Files.createDirectories(outputDir);
        CausalLM base = model.base();
        base.activationMemory().setRecompute(options.recompute());
        List<Parameter> params = model.parameters();
        AdamW optimizer = new AdamW(params, options.weightDecay());
        int total = options.totalSteps(train.size());
        long start = 0;
        if (resume) {
            Path ckpt = TrainingCheckpoint.find(outputDir);
            if (ckpt == null) {
                log.println("lora4j train: no checkpoint in " + outputDir + ", starting from step 0");
            } else {
                start = TrainingCheckpoint.restore(ckpt, model, optimizer, options.seed());
                log.println("lora4j train: resuming from " + ckpt + " at step " + start + "/" + total);
                if (TrainingCheckpoint.writtenWithRecompute(ckpt) != options.recompute()) {
                    log.println("lora4j train: the checkpoint was written " + (options.recompute() ? "without" : "with")
                            + " activation recomputation and this run is " + (options.recompute() ? "with" : "without")
                            + " it; that changes memory and time only, the results are the same");
                }
            }
        }
        Path metrics = outputDir.resolve(METRICS_FILE);
        truncateMetrics(metrics, start);

        Evaluation.Result before = evaluate();
        if (before != null && start == 0) {
            writeMetric(metrics, evalRecord(0, before));
        }
        DataOrder order = new DataOrder(train, options.seed());
        ProgressBar progress = new ProgressBar(log, total);
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        long tokensSeen = 0;
        long t0 = System.nanoTime();
        for (long step = start; step < total; step++) {
            double loss = trainStep(base, order, optimizer, step, total, metrics);
            tokensSeen += lastStepTokens;
            if (Double.isNaN(firstLoss)) {
                firstLoss = loss;
            }
            lastLoss = loss;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            progress.update(step + 1, start, String.format(Locale.ROOT, "loss %.4f", loss), tokensSeen / elapsed);
            boolean last = step + 1 == total;
            if (options.evalEvery() > 0 && (step + 1) % options.evalEvery() == 0 && !last) {
                Evaluation.Result r = evaluate();
                if (r != null) {
                    writeMetric(metrics, evalRecord(step + 1, r));
                }
            }
            if (options.checkpointEvery() > 0 && (step + 1) % options.checkpointEvery() == 0 && !last) {
                TrainingCheckpoint.save(outputDir, model, optimizer, step + 1, options.seed(), options.recompute());
            }
            stepListener.accept(step + 1);
        }
        Evaluation.Result after = evaluate();
        if (after != null) {
            writeMetric(metrics, evalRecord(total, after));
        }
        PeftAdapterFiles.save(model, outputDir);
        TrainingCheckpoint.deleteRecursively(outputDir.resolve(TrainingCheckpoint.DIR_NAME));
        return new Result(total, firstLoss, lastLoss, before, after);
    }

    private long lastStepTokens;

    private double trainStep(CausalLM base, DataOrder order, AdamW optimizer, long step, int total, Path metrics)
            throws IOException {
        model.setTraining(true, options.seed(), step);
        List<Batch> batches = new ArrayList<>();
        int targets = 0;
        for (int m = 0; m < options.gradAccum(); m++) {
            Batch b = Batch.of(order.microBatch(step * options.gradAccum() + m, options.batchSize()), 0);
            batches.add(b);
            targets += b.targetCount();
        }
        double lossSum = 0;
        float gradScale = 1f / targets;
        for (Batch b : batches) {
            lossSum += LanguageModelLoss.forwardBackward(base, b.tokens(), b.targets(), gradScale);
        }
        double gradNorm = GradClip.clip(model.parameters(), options.maxGradNorm());
        double lr = options.lr() * options.schedule().multiplier(step, options.warmupSteps(), total);
        optimizer.step(lr);
        model.zeroGrad();
        model.setTraining(false, options.seed(), step);
        lastStepTokens = targets;
        double loss = lossSum / targets;
        ObjectNode rec = JSON.createObjectNode();
        rec.put("step", step + 1);
        rec.put("loss", loss);
        rec.put("lr", lr);
        rec.put("grad_norm", gradNorm);
        rec.put("tokens", targets);
        long rss = residentMemoryKib();
        if (rss > 0) {
            rec.put("rss_mib", Math.round(rss / 102.4) / 10.0);
        }
        writeMetric(metrics, rec);
        return loss;
    }

    /** This process's resident memory (VmRSS) in KiB, or -1 where /proc is not available. */
    static long residentMemoryKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private Evaluation.Result evaluate() {
        if (eval.isEmpty()) {
            return null;
        }
        model.setTraining(false, options.seed(), 0);
        return Evaluation.loss(model.base(), eval, options.batchSize(), options.seqLen());
    }

    private static ObjectNode evalRecord(long step, Evaluation.Result r) {
        ObjectNode rec = JSON.createObjectNode();
        rec.put("step", step);
        rec.put("eval_loss", r.loss());
        rec.put("eval_perplexity", r.perplexity());
        rec.put("eval_tokens", r.tokens());
        return rec;
    }

    private static void writeMetric(Path file, ObjectNode record) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(record) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** On resume, drops metric lines logged after the checkpoint so the curve is not duplicated. */
    private static void truncateMetrics(Path file, long step) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        if (step == 0) {
            Files.delete(file);
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && JSON.readTree(line).path("step").asLong() <= step) {
                kept.add(line);
            }
        }
        Files.write(file, kept, StandardCharsets.UTF_8);
    }
}
