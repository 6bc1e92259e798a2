package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.classify.LabeledDataset;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo and the classification paths of train/eval on the real MiniLM (imported once from the
 * Maven artifact) with a couple of steps, so the test stays fast; the demo's full run is in docs.
 */
class DemoCommandTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void importOnce() throws Exception {
        DemoCommand.miniLm(tmp.resolve("cache"), new PrintStream(new ByteArrayOutputStream()));
    }

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run(args)).as("exit code of %s", String.join(" ", args)).isZero();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoDataIsBalancedAndHeldOutSentencesAreNotInTraining() throws Exception {
        LabeledDataset train = DemoCommand.resource(DemoCommand.TRAIN);
        LabeledDataset held = DemoCommand.resource(DemoCommand.HELD_OUT);
        assertThat(train.classCounts()).containsExactly(128, 128);
        assertThat(held.classCounts()).containsExactly(24, 24);
        Set<String> seen = new HashSet<>(train.texts());
        assertThat(seen).hasSize(train.size());
        for (String s : held.texts()) {
            assertThat(seen).doesNotContain(s);
        }
        assertThat(DemoCommand.readResource(DemoCommand.NEW_SENTENCES).lines()).hasSize(6);
    }

    @Test
    void demoRunsEndToEndAndSavesALoadableAdapter() throws Exception {
        Path out = tmp.resolve("demo-adapter");
        String stdout = run("demo", "--steps", "2", "--cache", tmp.resolve("cache").toString(), "--output", out.toString());
        assertThat(stdout).contains("all-MiniLM-L6-v2 from").contains("Held-out accuracy:").contains("before fine-tuning")
                .contains("Adapter saved").contains("classified with the saved adapter");
        assertThat(stdout.lines().filter(l -> l.matches("\\s+(positive|negative)\\s+\\d+\\.\\d\\d%.*"))).hasSize(6);
        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(out.resolve("adapter_model.safetensors")).exists();
    }

    @Test
    void trainAndEvalClassificationAgreeOnHeldOutMetrics() throws Exception {
        Path train = tmp.resolve("train.tsv");
        Path held = tmp.resolve("held.tsv");
        Files.writeString(train, DemoCommand.readResource(DemoCommand.TRAIN));
        Files.writeString(held, DemoCommand.readResource(DemoCommand.HELD_OUT));
        Path model = tmp.resolve("cache/all-minilm-l6-v2");
        Path out = tmp.resolve("cli-adapter");
        String summary = run("train", "--task", "classification", "--model", model.toString(), "--data", train.toString(),
                "--eval-data", held.toString(), "--output", out.toString(), "--steps", "3", "--batch-size", "8",
                "--lr", "1e-3", "--class-weights", "balanced");
        JsonNode s = new ObjectMapper().readTree(summary);
        assertThat(s.get("labels").toString()).isEqualTo("[\"negative\",\"positive\"]");
        assertThat(s.get("trainable_parameters").asLong()).isEqualTo(12L * (8 * 384 + 384 * 8) + 2 * 384 + 2);
        String evalOut = run("eval", "--task", "classification", "--model", model.toString(), "--adapter", out.toString(),
                "--data", held.toString());
        JsonNode e = new ObjectMapper().readTree(evalOut);
        assertThat(e.get("accuracy").asDouble()).isEqualTo(s.get("eval_accuracy_after").asDouble());
        assertThat(e.get("examples").asInt()).isEqualTo(48);
        assertThat(e.get("confusion_matrix")).hasSize(2);
        // MiniLM has no pooler: --pooling auto chose mean pooling, and the adapter says so.
        assertThat(Files.readString(out.resolve("classifier.json"))).contains("\"pooling\" : \"mean\"");
    }
}
