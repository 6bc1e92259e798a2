package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** import-llama2c then eval through the CLI, on the tiny llama2.c checkpoint of lora4j-core's goldens. */
class EvalCommandTest {
    private static final Path GOLDEN = Paths.get("../lora4j-core/src/test/resources/golden/llama2c/tiny");

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static Path importTiny(Path tmp) {
        Path model = tmp.resolve("model");
        Run r = run("import-llama2c", "--checkpoint", GOLDEN.resolve("tiny.bin").toString(),
                "--tokenizer", GOLDEN.resolve("tok32.bin").toString(), "--output", model.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("vocab 32").contains("separate head");
        return model;
    }

    @Test
    void evalPrintsLossPerplexityAndTokens(@TempDir Path tmp) throws Exception {
        Path model = importTiny(tmp);
        Run r = run("eval", "--model", model.toString(), "--data", GOLDEN.resolve("tiny.jsonl").toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode result = new ObjectMapper().readTree(r.out());
        JsonNode ref = new ObjectMapper().readTree(GOLDEN.resolve("reference.json").toFile());
        // float32 forward vs the float64 numpy reference of llama2.c: 1e-5 on a loss of ~4
        assertThat(result.get("loss").asDouble()).isCloseTo(ref.get("loss").asDouble(), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(result.get("perplexity").asDouble()).isCloseTo(Math.exp(ref.get("loss").asDouble()),
                org.assertj.core.data.Offset.offset(1e-3));
        assertThat(result.get("tokens").asLong()).isEqualTo(12);
        assertThat(result.size()).isEqualTo(3);
    }

    @Test
    void badDataGivesOneClearLine(@TempDir Path tmp) throws Exception {
        Path model = importTiny(tmp);
        Path missing = tmp.resolve("missing.jsonl");
        // the model is opened first, so a missing model is reported before the data is read
        Run r = run("eval", "--model", model.toString(), "--data", missing.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("lora4j eval: error: " + missing + ": data file not found");

        Path malformed = Files.writeString(tmp.resolve("bad.jsonl"), "{\"input_ids\": [1, 2]}\n{\"input_ids\": [1,\n");
        r = run("eval", "--model", model.toString(), "--data", malformed.toString());
        assertThat(r.err().strip()).isEqualTo("lora4j eval: error: " + malformed + ":2: not valid JSON");

        Path text = Files.writeString(tmp.resolve("text.jsonl"), "{\"text\": \"hello\"}\n");
        r = run("eval", "--model", model.toString(), "--data", text.toString());
        assertThat(r.err()).contains("tok32.bin");  // text needs the tokenizer, and this one is not loadable

        Path outOfVocab = Files.writeString(tmp.resolve("oov.jsonl"), "{\"input_ids\": [1, 2]}\n{\"input_ids\": [1, 32]}\n");
        r = run("eval", "--model", model.toString(), "--data", outOfVocab.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo(
                "lora4j eval: error: " + outOfVocab + ":2: \"input_ids\"[1] = 32 is outside the model's vocabulary [0, 32)");

        r = run("eval", "--model", tmp.resolve("nomodel").toString(), "--data", outOfVocab.toString());
        assertThat(r.err()).contains("nomodel: not a model directory");
    }
}
