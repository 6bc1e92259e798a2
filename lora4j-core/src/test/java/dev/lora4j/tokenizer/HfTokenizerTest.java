package dev.lora4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading, errors, BOS/EOS and streaming of tokenizer.json tokenizers (encodings are in the golden test). */
class HfTokenizerTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static ObjectNode json(String name) throws IOException {
        return (ObjectNode) MAPPER.readTree(HfTokenizerGoldenTest.resource("/golden/tokenizers/" + name + ".json"));
    }

    @Test
    void unsupportedComponentNamesTheFileAndTheType() throws IOException {
        ObjectNode root = json("llama2_sentencepiece");
        root.set("normalizer", MAPPER.readTree("{\"type\": \"Precompiled\", \"precompiled_charsmap\": null}"));
        assertThatThrownBy(() -> HfTokenizer.fromJson(root.toString(), "models/t5/tokenizer.json", null))
                .isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining("models/t5/tokenizer.json")
                .hasMessageContaining("unsupported normalizer type \"Precompiled\"");

        ObjectNode unigram = json("llama2_sentencepiece");
        ((ObjectNode) unigram.get("model")).put("type", "Unigram");
        assertThatThrownBy(() -> HfTokenizer.fromJson(unigram.toString(), "x/tokenizer.json", null))
                .hasMessageContaining("x/tokenizer.json").hasMessageContaining("unsupported model type \"Unigram\"");

        ObjectNode decoder = json("gpt2_bytelevel");
        decoder.set("decoder", MAPPER.readTree("{\"type\": \"CTC\"}"));
        assertThatThrownBy(() -> HfTokenizer.fromJson(decoder.toString(), "y.json", null))
                .hasMessageContaining("y.json").hasMessageContaining("unsupported decoder type \"CTC\"");
    }

    @Test
    void mergeOfUnknownTokenIsAClearError() throws IOException {
        ObjectNode root = json("llama3_bytelevel");
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("model").get("merges"))
                .add(MAPPER.readTree("[\"no-such\", \"token\"]"));
        assertThatThrownBy(() -> HfTokenizer.fromJson(root.toString(), "z.json", null))
                .isInstanceOf(TokenizerFormatException.class)
                .hasMessageContaining("z.json").hasMessageContaining("\"no-such\", which is not in the vocabulary");
    }

    @Test
    void bosAndEosFromTemplateAndCommonNames() throws IOException {
        HfTokenizer llama2 = HfTokenizerGoldenTest.load("llama2_sentencepiece");
        assertThat(llama2.bosId()).hasValue(llama2.tokenId("<s>").orElseThrow());
        assertThat(llama2.eosId()).hasValue(llama2.tokenId("</s>").orElseThrow());
        assertThat(llama2.isSpecial(llama2.tokenId("<s>").orElseThrow())).isTrue();
        HfTokenizer bert = HfTokenizerGoldenTest.load("bert_wordpiece");
        assertThat(bert.bosId()).isEmpty(); // [CLS] ... [SEP] is not a BOS template
    }

    @Test
    void directoryWithTokenizerConfigNamesBosAndEos(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), json("llama3_bytelevel").toString());
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<|begin_of_text|>\", \"eos_token\": {\"content\": \"<|eot_id|>\", \"special\": true}}");
        Tokenizer tokenizer = Tokenizer.fromFile(dir);
        assertThat(tokenizer.bosId()).hasValue(tokenizer.tokenId("<|begin_of_text|>").orElseThrow());
        assertThat(tokenizer.eosId()).hasValue(tokenizer.tokenId("<|eot_id|>").orElseThrow());
        assertThat(tokenizer.encode("Hi", true)[0]).isEqualTo(tokenizer.bosId().orElseThrow());
    }

    @Test
    void streamingHoldsByteFallbackTokensUntilTheCharacterIsComplete() throws IOException {
        HfTokenizer tokenizer = HfTokenizerGoldenTest.load("llama2_sentencepiece");
        int[] ids = tokenizer.encode("😀", false);
        // "▁" then the four byte tokens <0xF0> <0x9F> <0x98> <0x80> (the training text has no emoji).
        assertThat(ids).hasSize(5);
        assertThat(tokenizer.token(ids[1])).hasValue("<0xF0>");
        StreamingDecoder stream = tokenizer.streamingDecoder(true);
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            seen.append(stream.next(ids[i]));
        }
        assertThat(seen.toString()).isEmpty();
        assertThat(stream.next(ids[4])).isEqualTo("😀");
        assertThat(stream.flush()).isEmpty();
    }

    @Test
    void streamingEmitsGenuinelyInvalidBytesAfterFourTokens() throws IOException {
        HfTokenizer tokenizer = HfTokenizerGoldenTest.load("llama2_sentencepiece");
        int lone = tokenizer.tokenId("<0xF0>").orElseThrow();
        int a = tokenizer.tokenId("a").orElseThrow();
        StreamingDecoder stream = tokenizer.streamingDecoder(true);
        StringBuilder out = new StringBuilder();
        for (int id : new int[] {lone, lone, lone, lone, a}) {
            out.append(stream.next(id));
        }
        out.append(stream.flush());
        assertThat(out.toString()).isEqualTo(tokenizer.decode(new int[] {lone, lone, lone, lone, a}, true))
                .isEqualTo("\uFFFD\uFFFD\uFFFD\uFFFDa");
    }
}
