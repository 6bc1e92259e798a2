package dev.lora4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Activation recomputation changes where activations live, never what is computed: from the same seed
 * and data, a run that recomputes every block's forward during backward ends with the same adapter bit
 * for bit, through the same losses and gradient norms, as a run that keeps every activation. Dropout is
 * on, so the recomputed forward must draw the very masks the first forward drew; gradient accumulation
 * is on, so several forward/backward pairs share a step; the data has sequences of different lengths,
 * so batches are padded. Exact equality, no tolerance: the two runs do the same float operations in
 * the same order on the same values.
 */
class RecomputeTest {
    @TempDir
    Path tmp;

    private static Path golden(String path) throws Exception {
        return Path.of(RecomputeTest.class.getResource("/golden/" + path).toURI());
    }

    @ParameterizedTest
    @CsvSource({
            "llama_gqa_f32, 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj'",
            "gpt2_f32, 'c_attn,c_proj,c_fc'"})
    void recomputingGivesBitIdenticalTraining(String model, String targets) throws Exception {
        Path keep = tmp.resolve("keep");
        Path recompute = tmp.resolve("recompute");
        train(model, targets, keep, false);
        train(model, targets, recompute, true);
        List<String> keptCurve = withoutMemory(Files.readAllLines(keep.resolve(Trainer.METRICS_FILE)));
        assertThat(keptCurve).hasSize(STEPS + 2);  // eval before, STEPS steps, eval after
        assertThat(withoutMemory(Files.readAllLines(recompute.resolve(Trainer.METRICS_FILE)))).isEqualTo(keptCurve);
        assertSameAdapter(recompute, keep);
        // The training moved the adapter: equality of two runs that did nothing would prove nothing.
        assertThat(keptCurve.get(1)).isNotEqualTo(keptCurve.get(STEPS));
    }

    @Test
    void aCheckpointResumesWithRecomputationSwitchedAndEndsTheSame() throws Exception {
        Path straight = tmp.resolve("straight");
        train("llama_gqa_f32", "q_proj,v_proj,down_proj", straight, false);
        // First part with recomputation, checkpointing every 2 steps, stopped after step 4 by a listener.
        Path resumed = tmp.resolve("resumed");
        try {
            train("llama_gqa_f32", "q_proj,v_proj,down_proj", resumed, true, 2, step -> {
                if (step == 4) {
                    throw new StopHere();
                }
            }, System.err);
        } catch (StopHere expected) {
            // the step-4 checkpoint is on disk
        }
        assertThat(Files.readString(resumed.resolve("checkpoint/trainer_state.json"))).contains("\"recompute\":true");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        runResumed(resumed, log);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("at step 4/").contains("results are the same");
        assertSameAdapter(resumed, straight);
    }

    private static void assertSameAdapter(Path a, Path b) throws Exception {
        byte[] x = Files.readAllBytes(a.resolve(PeftAdapterFiles.WEIGHTS_FILE));
        byte[] y = Files.readAllBytes(b.resolve(PeftAdapterFiles.WEIGHTS_FILE));
        assertThat(java.util.Arrays.equals(x, y)).as("%s and %s are the same bytes", a, b).isTrue();
    }

    private static final class StopHere extends RuntimeException {}

    private static final int STEPS = 6;

    private void runResumed(Path out, ByteArrayOutputStream log) throws Exception {
        try (CausalLM base = Models.load(golden("models/llama_gqa_f32"))) {
            LoraModel lora = LoraModel.attach(base, loraConfig("q_proj,v_proj,down_proj"), 7);
            List<Example> examples = JsonlDataset.read(golden("lora_train/llama_gqa_f32/train.jsonl"),
                    base.config().vocabSize());
            new Trainer(lora, examples, examples.subList(0, 2), options(false, 2), out,
                    new PrintStream(log, true, StandardCharsets.UTF_8)).run(true);
        }
    }

    private void train(String model, String targets, Path out, boolean recompute) throws Exception {
        train(model, targets, out, recompute, 0, step -> {}, new PrintStream(OutputStream.nullOutputStream()));
    }

    private void train(String model, String targets, Path out, boolean recompute, int checkpointEvery,
                       java.util.function.LongConsumer onStep, PrintStream log) throws Exception {
        try (CausalLM base = Models.load(golden("models/" + model))) {
            LoraModel lora = LoraModel.attach(base, loraConfig(targets), 7);
            List<Example> examples = JsonlDataset.read(golden("lora_train/" + model + "/train.jsonl"),
                    base.config().vocabSize());
            new Trainer(lora, examples, examples.subList(0, 2), options(recompute, checkpointEvery), out, log)
                    .onStep(onStep).run(false);
            assertThat(base.activationMemory().recomputes()).isEqualTo(recompute);
        }
    }

    private static LoraConfig loraConfig(String targets) {
        return LoraConfig.of(4, 8, ModuleSelector.parseCli(targets)).withDropout(0.1).withInit(InitLoraWeights.RANDOM);
    }

    private static TrainOptions options(boolean recompute, int checkpointEvery) {
        // 2 sequences per micro-batch, 2 micro-batches per step (gradient accumulation), cosine with warmup.
        return new TrainOptions(STEPS, 0, 2, 2, 64, 5e-3, LrSchedule.COSINE, 2, 0.01, 1.0, 7, 0, checkpointEvery)
                .withRecompute(recompute);
    }

    /** Metric lines without the resident-memory figure, which is what recomputation changes. */
    private static List<String> withoutMemory(List<String> lines) {
        return lines.stream().map(l -> l.replaceAll(",\"rss_mib\":[0-9.]+", "")).toList();
    }
}
