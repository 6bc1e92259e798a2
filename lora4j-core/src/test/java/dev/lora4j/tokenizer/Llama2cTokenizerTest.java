package dev.lora4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama2.c's tok512.bin from ../shared, against a Python transcription of llama2.c's encode/decode
 * (tools/golden/make_llama2c_tokenizer_goldens.py) and against ids worked out by hand from the file.
 */
class Llama2cTokenizerTest {
    private static final Path TOK512 = Path.of("..", "..", "shared", "models", "stories260K", "tok512.bin");
    private static Llama2cTokenizer tokenizer;

    @BeforeAll
    static void load() {
        assumeTrue(Files.isRegularFile(TOK512), "../shared/models/stories260K/tok512.bin is absent; skipping");
        tokenizer = (Llama2cTokenizer) Tokenizer.fromFile(TOK512);
    }

    @Test
    void matchesLlama2cGoldens() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(HfTokenizerGoldenTest.resource("/golden/tokenizers/llama2c_tok512.golden.json"));
        for (JsonNode c : golden.get("cases")) {
            String text = c.get("text").asText();
            int[] ids = HfTokenizerGoldenTest.ints(c.get("ids_with_bos"));
            assertThat(tokenizer.encode(text, true)).as("encode %s", text).containsExactly(ids);
            assertThat(tokenizer.decode(ids, false)).as("decode %s", text).isEqualTo(c.get("decoded").asText());
            assertThat(tokenizer.decode(ids, true)).as("decode skipping BOS %s", text).isEqualTo(text);
            assertThat(tokenizer.decode(ids, true)).isEqualTo(c.get("decoded_skip_special").asText());
        }
    }

    @Test
    void handCheckedIds() {
        // The file's first tokens: <unk>, "\n<s>\n", "\n</s>\n", then <0x00>..<0xFF> at ids 3..258,
        // then merges by decreasing score: " t" (259), "he" (260), " a" (261), ...
        assertThat(tokenizer.vocabSize()).isEqualTo(512);
        assertThat(tokenizer.token(261)).hasValue(" a");
        assertThat(tokenizer.tokenId("<0x41>")).hasValue(0x41 + 3);
        int space = tokenizer.tokenId(" ").orElseThrow();
        // "a": the dummy prefix " " and "a" merge into " a".
        assertThat(tokenizer.encode("a", true)).containsExactly(Llama2cTokenizer.BOS, 261);
        assertThat(tokenizer.encode("a", false)).containsExactly(261);
        // "😀" (F0 9F 98 80) is not in the vocabulary: one token per byte, id = byte + 3; no merge applies.
        assertThat(tokenizer.encode("😀", false)).containsExactly(space, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3);
        // No dummy prefix for empty text.
        assertThat(tokenizer.encode("", true)).containsExactly(Llama2cTokenizer.BOS);
        // Decoding strips the space of the token right after BOS only.
        assertThat(tokenizer.decode(new int[] {Llama2cTokenizer.BOS, 261, 261}, true)).isEqualTo("a a");
        assertThat(tokenizer.decode(new int[] {261, 261}, true)).isEqualTo(" a a");
        assertThat(tokenizer.bosId()).hasValue(1);
        assertThat(tokenizer.eosId()).hasValue(2);
    }

    @Test
    void streamingEmitsAnEmojiOnlyWhenAllFourBytesArrived() {
        int[] ids = tokenizer.encode("hi 😀!", true);
        StreamingDecoder stream = tokenizer.streamingDecoder(true);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(stream.next(id));
        }
        pieces.add(stream.flush());
        assertThat(String.join("", pieces)).isEqualTo("hi 😀!");
        assertThat(pieces).contains("😀").allSatisfy(p -> assertThat(p).doesNotContain("\uFFFD"));
    }

    @Test
    void truncatedFileIsAClearError(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("tok.bin");
        byte[] all = Files.readAllBytes(TOK512);
        Files.write(bad, java.util.Arrays.copyOf(all, 100));
        assertThatThrownBy(() -> Tokenizer.fromFile(bad)).isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining(bad.toString());
    }
}
