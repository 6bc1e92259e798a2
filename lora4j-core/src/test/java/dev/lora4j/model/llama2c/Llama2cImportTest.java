package dev.lora4j.model.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.ConfigException;
import dev.lora4j.model.Models;
import dev.lora4j.train.Evaluation;
import dev.lora4j.train.JsonlDataset;
import dev.lora4j.nn.TokenBatch;
import dev.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The llama2.c import against tools/golden/llama2c_reference.py, a numpy re-implementation of
 * llama2.c's own forward pass (original weight layout, interleaved RoPE, float64). Agreement means the
 * row permutation of wq/wk, the renaming and the config are right: lora4j runs the converted weights
 * through its Hugging Face Llama (rotate-half RoPE) in float32.
 */
class Llama2cImportTest {
    private static final Path GOLDEN = Paths.get("src/test/resources/golden/llama2c");
    private static final Path STORIES = Paths.get("../../shared/models/stories260K");

    /**
     * Tiny random checkpoint (untied classifier, GQA 4/2 heads, weights N(0, 0.3)): logits within
     * 1e-4 absolute (float32 vs float64 arithmetic over widths ≤ 40 and two layers, logits of
     * magnitude ~5); loss within 1e-5.
     */
    @Test
    void tinyCheckpointMatchesLlama2cReference(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("tiny-hf");
        var result = Llama2cImport.convert(GOLDEN.resolve("tiny/tiny.bin"), GOLDEN.resolve("tiny/tok32.bin"), out);
        assertThat(result.tied()).isFalse();
        assertThat(Files.list(out).map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder("config.json", "model.safetensors", "tok32.bin");
        JsonNode ref = new ObjectMapper().readTree(GOLDEN.resolve("tiny/reference.json").toFile());
        try (CausalLM model = Models.load(out)) {
            assertThat(model.config().tieWordEmbeddings()).isFalse();
            assertThat(model.config().numKvHeads()).isEqualTo(2);
            compareLogits(model, ref, 1e-4);
            var eval = Evaluation.loss(model, JsonlDataset.read(GOLDEN.resolve("tiny/tiny.jsonl"), model.config().vocabSize()), 2, 1 << 20);
            assertThat(eval.tokens()).isEqualTo(ref.get("tokens").asLong());
            assertThat(eval.loss()).isCloseTo(ref.get("loss").asDouble(), org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    /**
     * stories260K (from ../shared, skipped where it is absent): logits of the first 12 positions of two
     * TinyStories paragraphs within 1e-4 (reference rounded to 6 decimals), and the eval loss over 40
     * paragraphs (4062 predicted tokens) within 1e-5 of the reference's 1.51385.
     */
    @Test
    void stories260KMatchesLlama2cReference(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isRegularFile(STORIES.resolve("stories260K.bin")), "needs ../shared/models/stories260K");
        Path out = tmp.resolve("stories260K");
        var result = Llama2cImport.convert(STORIES.resolve("stories260K.bin"), STORIES.resolve("tok512.bin"), out);
        assertThat(result.tied()).isTrue();
        JsonNode ref = new ObjectMapper().readTree(GOLDEN.resolve("stories260K/reference.json").toFile());
        try (CausalLM model = Models.load(out)) {
            assertThat(model.config().maxPositions()).isEqualTo(512);
            compareLogits(model, ref, 1e-4);
            var data = JsonlDataset.read(GOLDEN.resolve("stories260K/tinystories_sample.jsonl"), model.config().vocabSize());
            var eval = Evaluation.loss(model, data, 8, 1 << 20);
            assertThat(eval.tokens()).isEqualTo(4062);
            assertThat(eval.loss()).isCloseTo(ref.get("loss").asDouble(), org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    private static void compareLogits(CausalLM model, JsonNode ref, double tolerance) {
        JsonNode inputs = ref.get("logits_input_ids");
        double worst = 0;
        for (int s = 0; s < inputs.size(); s++) {
            int[] ids = new int[inputs.get(s).size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = inputs.get(s).get(i).asInt();
            }
            Tensor logits = model.forward(TokenBatch.of(1, ids.length, ids, null, null));
            JsonNode expected = ref.get("logits").get(s);
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < model.config().vocabSize(); v++) {
                    worst = Math.max(worst, Math.abs(logits.get(t, v) - expected.get(t).get(v).asDouble()));
                }
            }
        }
        assertThat(worst).as("max |logit difference|").isLessThan(tolerance);
    }

    @Test
    void permutationMovesInterleavedPairsToHalves() {
        // one head of size 4: rows (pair0.re, pair0.im, pair1.re, pair1.im) -> (pair0.re, pair1.re, pair0.im, pair1.im)
        Tensor w = Tensor.of(new float[] {0, 1, 2, 3}, 4, 1);
        assertThat(Llama2cImport.interleavedToRotateHalf(w, 1).toFloatArray()).containsExactly(0, 2, 1, 3);
    }

    @Test
    void badInputsFailClearly(@TempDir Path tmp) throws Exception {
        Path tiny = GOLDEN.resolve("tiny/tiny.bin");
        Path tok = GOLDEN.resolve("tiny/tok32.bin");
        byte[] bytes = Files.readAllBytes(tiny);
        Path truncated = tmp.resolve("truncated.bin");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertThatThrownBy(() -> Llama2cImport.convert(truncated, tok, tmp.resolve("a")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(truncated + ": not a legacy llama2.c checkpoint: file has " + (bytes.length - 4)
                        + " bytes but the header");
        Path shortFile = tmp.resolve("short.bin");
        Files.write(shortFile, new byte[10]);
        assertThatThrownBy(() -> Llama2cImport.convert(shortFile, tok, tmp.resolve("b")))
                .hasMessageContaining("shorter than the 28-byte header");
        assertThatThrownBy(() -> Llama2cImport.convert(tmp.resolve("missing.bin"), tok, tmp.resolve("c")))
                .hasMessage(tmp.resolve("missing.bin") + ": llama2.c checkpoint not found");
        Path shortTok = tmp.resolve("tok.bin");
        Files.write(shortTok, java.util.Arrays.copyOf(Files.readAllBytes(tok), 40));
        assertThatThrownBy(() -> Llama2cImport.convert(tiny, shortTok, tmp.resolve("d")))
                .hasMessageContaining(shortTok + ": ");
        Files.createDirectory(tmp.resolve("exists"));
        assertThatThrownBy(() -> Llama2cImport.convert(tiny, tok, tmp.resolve("exists")))
                .hasMessageContaining("already exists");
        // nothing half-written is left behind by the failures above
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("truncated.bin", "short.bin", "tok.bin", "exists");
        }
    }
}
