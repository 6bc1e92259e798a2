package dev.lora4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lora4j.lora.PeftAdapterFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducibility of training: the same seed and data give the same adapter bit for bit, and a run
 * killed with SIGKILL after a checkpoint and then resumed ends with exactly the adapter (and the
 * loss curve) of the uninterrupted run. Dropout is on, so the dropout masks must be reproduced too.
 */
class TrainerResumeTest {
    @TempDir
    Path tmp;

    static Path model() throws Exception {
        return Path.of(TrainerResumeTest.class.getResource("/golden/models/llama_gqa_f32").toURI());
    }

    static Path data() throws Exception {
        return Path.of(TrainerResumeTest.class.getResource("/golden/lora_train/llama_gqa_f32/train.jsonl").toURI());
    }

    @Test
    void sameSeedGivesTheSameAdapterBitForBit() throws Exception {
        TrainHarness.run(model(), data(), tmp.resolve("a"), false, Integer.MAX_VALUE);
        TrainHarness.run(model(), data(), tmp.resolve("b"), false, Integer.MAX_VALUE);
        assertThat(Files.readAllBytes(tmp.resolve("a").resolve(PeftAdapterFiles.WEIGHTS_FILE)))
                .isEqualTo(Files.readAllBytes(tmp.resolve("b").resolve(PeftAdapterFiles.WEIGHTS_FILE)));
    }

    @Test
    void killedRunResumedFromItsCheckpointEndsWithTheSameAdapter() throws Exception {
        Path straight = tmp.resolve("straight");
        TrainHarness.run(model(), data(), straight, false, Integer.MAX_VALUE);

        Path interrupted = tmp.resolve("interrupted");
        // Steps from 7 on sleep, so the process is certainly killed after the step-6 checkpoint.
        Process p = new ProcessBuilder(javaCommand(interrupted.toString(), "false", "7"))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path state = interrupted.resolve("checkpoint").resolve("trainer_state.json");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(state) && Files.readString(state).contains("\"step\":6"))) {
            assertThat(p.isAlive()).as("training child died early: " + Files.readString(tmp.resolve("child.log"))).isTrue();
            assertThat(System.nanoTime()).as("no step-6 checkpoint within 120 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        p.destroyForcibly();  // SIGKILL: no shutdown hook, no chance to save anything more
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.exists(interrupted.resolve(PeftAdapterFiles.WEIGHTS_FILE))).isFalse();

        TrainHarness.run(model(), data(), interrupted, true, Integer.MAX_VALUE);
        assertThat(Files.readAllBytes(interrupted.resolve(PeftAdapterFiles.WEIGHTS_FILE)))
                .isEqualTo(Files.readAllBytes(straight.resolve(PeftAdapterFiles.WEIGHTS_FILE)));
        assertThat(withoutMemory(Files.readAllLines(interrupted.resolve(Trainer.METRICS_FILE))))
                .isEqualTo(withoutMemory(Files.readAllLines(straight.resolve(Trainer.METRICS_FILE))));
    }

    /** Metric lines without the resident-memory figure, which differs between processes. */
    private static List<String> withoutMemory(List<String> lines) {
        return lines.stream().map(l -> l.replaceAll(",\"rss_mib\":[0-9.]+", "")).toList();
    }

    private static List<String> javaCommand(String out, String resume, String slowAfter) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TrainHarness.class.getName());
        cmd.add(model().toString());
        cmd.add(data().toString());
        cmd.add(out);
        cmd.add(resume);
        cmd.add(slowAfter);
        return cmd;
    }
}
