package dev.lora4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.kernels.Parallel;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.train.AdamW;
import dev.lora4j.train.LanguageModelLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The lora4j side of the LoRA training-step benchmark against PyTorch + PEFT (docs/benchmarks.md,
 * tools/bench-train). One step is what {@code peft_train_step.py} times: forward, the mean next-token
 * cross-entropy (fused with its gradient), backward, an AdamW step and zeroing the gradients.
 *
 * <pre>
 *   LoraTrainStep MODEL_DIR [--warmup N] [--reps N] [--recompute]
 *   LoraTrainStep MODEL_DIR --long 200 [--report-at 20] [--recompute]   resident memory over a long run
 * </pre>
 * {@code --recompute} turns on activation recomputation (each block's forward re-run in backward): the
 * step takes longer and needs far less heap, so run it with a smaller {@code -Xmx} to see the peak RSS gain.
 * The model directory is written by tools/bench/make_bench_model.py (config.json, model.safetensors,
 * tokens.json with the batch). Prints one JSON line: median and min step seconds, every step's time,
 * and peak resident memory (VmHWM from /proc/self/status, MiB) of this process.
 */
public final class LoraTrainStep {
    private LoraTrainStep() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: LoraTrainStep MODEL_DIR [--warmup N] [--reps N] [--long STEPS [--report-at N]] [--recompute]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int warmup = 3;
        int reps = 10;
        int longSteps = 0;
        int reportAt = 20;
        boolean recompute = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--long" -> longSteps = Integer.parseInt(args[++i]);
                case "--report-at" -> reportAt = Integer.parseInt(args[++i]);
                case "--recompute" -> recompute = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        JsonNode tok = new ObjectMapper().readTree(Files.readString(dir.resolve("tokens.json")));
        int batch = tok.get("batch").asInt();
        int seqLen = tok.get("seq_len").asInt();
        int[] ids = new int[batch * seqLen];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tok.get("input_ids").get(i).asInt();
        }
        // Row b·T + t predicts token t + 1 of sequence b; the last position of each sequence has none
        // (-100), as transformers' shifted labels: the loss is the mean over B·(T − 1) targets.
        int[] targets = new int[ids.length];
        for (int r = 0; r < ids.length; r++) {
            targets[r] = (r % seqLen == seqLen - 1) ? -100 : ids[r + 1];
        }
        int targetCount = batch * (seqLen - 1);
        TokenBatch tokens = TokenBatch.of(batch, seqLen, ids, null, null);

        try (CausalLM base = Models.load(dir)) {
            base.activationMemory().setRecompute(recompute);
            LoraConfig config = LoraConfig.of(8, 16, new ModuleSelector.Names(List.of("q_proj", "v_proj")));
            LoraModel model = LoraModel.attach(base, config, 0);
            AdamW optimizer = new AdamW(model.parameters(), 0.01);
            model.setTraining(true, 0, 0);
            Step step = () -> {
                // the Trainer's loss: the head and the fused cross-entropy run a slice of rows at a time
                double loss = LanguageModelLoss.forwardBackward(base, tokens, targets, 1f / targetCount);
                optimizer.step(1e-4);
                model.zeroGrad();
                return loss / targetCount;
            };
            if (longSteps > 0) {
                runLong(step, longSteps, reportAt, recompute);
            } else {
                runTimed(step, warmup, reps, recompute);
            }
        }
    }

    private interface Step {
        double run();
    }

    private static void runTimed(Step step, int warmup, int reps, boolean recompute) {
        List<Double> times = new ArrayList<>();
        double loss = Double.NaN;
        for (int i = 0; i < warmup + reps; i++) {
            long allocatedBefore = allocatedBytes();
            long t0 = System.nanoTime();
            loss = step.run();
            double t = (System.nanoTime() - t0) / 1e9;
            double allocatedMb = (allocatedBytes() - allocatedBefore) / 1e6;
            if (i >= warmup) {
                times.add(t);
            }
            if (Boolean.getBoolean("lora4j.bench.verbose")) {
                // garbage per step should be near zero: the activations are reused, and a kernel that
                // boxes vectors shows up here long before it shows up in the step time
                System.err.printf(Locale.ROOT, "step %d: %.3f s, loss %.5f, allocated %.1f MB%n", i, t, loss, allocatedMb);
            }
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        StringBuilder ts = new StringBuilder();
        for (double t : times) {
            ts.append(ts.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", t));
        }
        System.out.printf(Locale.ROOT,
                "{\"side\": \"lora4j\", \"recompute\": %b, \"threads\": %d, \"median_s\": %.5f, \"min_s\": %.5f, \"times_s\": [%s], "
                        + "\"last_loss\": %.6f, \"peak_rss_mib\": %.1f, \"max_heap_mib\": %d}%n",
                recompute, Parallel.threads(), median, sorted[0], ts, loss, procStatusMib("VmHWM"),
                Runtime.getRuntime().maxMemory() >> 20);
    }

    /** Resident memory after {@code reportAt} steps and every so often until {@code steps}. */
    private static void runLong(Step step, int steps, int reportAt, boolean recompute) {
        double atReport = Double.NaN;
        long t0 = System.nanoTime();
        for (int i = 1; i <= steps; i++) {
            double loss = step.run();
            if (i == reportAt || i % 20 == 0 || i == steps) {
                double rss = procStatusMib("VmRSS");
                if (i == reportAt) {
                    atReport = rss;
                }
                System.err.printf(Locale.ROOT, "step %d: loss %.5f, rss %.1f MiB, peak %.1f MiB, %.1f s%n", i, loss, rss,
                        procStatusMib("VmHWM"), (System.nanoTime() - t0) / 1e9);
            }
        }
        double end = procStatusMib("VmRSS");
        System.out.printf(Locale.ROOT,
                "{\"side\": \"lora4j\", \"recompute\": %b, \"long_steps\": %d, \"rss_at_%d_mib\": %.1f, \"rss_at_%d_mib\": %.1f, "
                        + "\"growth_pct\": %.2f, \"peak_rss_mib\": %.1f}%n",
                recompute, steps, reportAt, atReport, steps, end, 100 * (end - atReport) / atReport, procStatusMib("VmHWM"));
    }

    /** Bytes allocated on the heap so far by all live threads (the caller and the kernel helpers). */
    static long allocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long id : threads.getAllThreadIds()) {
            total += Math.max(0, threads.getThreadAllocatedBytes(id));
        }
        return total;
    }

    /** A field of /proc/self/status in MiB (VmHWM: peak resident set; VmRSS: current). */
    static double procStatusMib(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.split("\\s+");
                    return Long.parseLong(parts[1]) / 1024.0;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Double.NaN;
    }
}
