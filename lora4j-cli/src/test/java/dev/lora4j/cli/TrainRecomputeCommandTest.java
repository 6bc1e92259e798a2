package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora4j train --recompute} through the CLI: the same command with and without the flag writes
 * the same adapter, byte for byte, and the same losses; train_args.json records which was used.
 */
class TrainRecomputeCommandTest {
    private static final Path GOLDEN = Paths.get("../lora4j-core/src/test/resources/golden/llama2c/tiny");

    @Test
    void recomputeFlagChangesNothingButIsRecorded(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("model");
        EvalCommandTest.Run imported = EvalCommandTest.run("import-llama2c", "--checkpoint",
                GOLDEN.resolve("tiny.bin").toString(), "--tokenizer", GOLDEN.resolve("tok32.bin").toString(),
                "--output", model.toString());
        assertThat(imported.code()).as(imported.err()).isZero();
        JsonNode keep = train(model, tmp.resolve("keep"), false);
        JsonNode recompute = train(model, tmp.resolve("recompute"), true);
        assertThat(recompute.get("train_loss_last").asDouble()).isEqualTo(keep.get("train_loss_last").asDouble());
        assertThat(Arrays.equals(Files.readAllBytes(tmp.resolve("keep/adapter_model.safetensors")),
                Files.readAllBytes(tmp.resolve("recompute/adapter_model.safetensors")))).isTrue();
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(tmp.resolve("recompute/train_args.json").toFile()).get("recompute").asBoolean()).isTrue();
        assertThat(json.readTree(tmp.resolve("keep/train_args.json").toFile()).get("recompute").asBoolean()).isFalse();
    }

    private static JsonNode train(Path model, Path out, boolean recompute) throws Exception {
        String[] args = {"train", "--model", model.toString(), "--data", GOLDEN.resolve("tiny.jsonl").toString(),
                "--output", out.toString(), "--steps", "3", "--batch-size", "2", "--seq-len", "16", "--lr", "1e-2",
                "--dropout", "0.1", "--target-modules", "all-linear", "--seed", "3"};
        if (recompute) {
            args = Arrays.copyOf(args, args.length + 1);
            args[args.length - 1] = "--recompute";
        }
        EvalCommandTest.Run r = EvalCommandTest.run(args);
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }
}
