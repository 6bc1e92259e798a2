package dev.lora4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Encodings and decodings checked id for id against Hugging Face tokenizers 0.23 (goldens written by
 * tools/golden/make_tokenizer_goldens.py): tokenizers of each kind trained on the shared text data,
 * plus the real all-MiniLM-L6-v2 WordPiece tokenizer read from its Maven artifact.
 */
class HfTokenizerGoldenTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String DIR = "/golden/tokenizers/";

    @ParameterizedTest
    @ValueSource(strings = {"gpt2_bytelevel", "roberta_bytelevel", "llama3_bytelevel", "qwen2_bytelevel",
            "llama2_sentencepiece", "mistral_metaspace", "bert_wordpiece", "bert_cased_wordpiece", "minilm_wordpiece"})
    void matchesHuggingFace(String name) throws IOException {
        JsonNode golden = MAPPER.readTree(resource(DIR + name + ".golden.json"));
        HfTokenizer tokenizer = load(name);

        assertThat(tokenizer.vocabSize()).as("vocab size").isEqualTo(golden.get("max_id").asInt() + 1);
        golden.get("token_ids").properties().forEach(e ->
                assertThat(tokenizer.tokenId(e.getKey())).as("id of %s", e.getKey()).hasValue(e.getValue().asInt()));

        for (JsonNode c : golden.get("cases")) {
            String text = c.get("text").asText();
            int[] withSpecial = ints(c.get("ids_with_special"));
            assertThat(tokenizer.encode(text, false)).as("%s encode %s", name, quoted(text)).containsExactly(ints(c.get("ids")));
            assertThat(tokenizer.encode(text, true)).as("%s encode with specials %s", name, quoted(text))
                    .containsExactly(withSpecial);
            assertThat(tokenizer.decode(withSpecial, false)).as("%s decode of %s", name, quoted(text))
                    .isEqualTo(c.get("decoded").asText());
            assertThat(tokenizer.decode(withSpecial, true)).as("%s decode skipping specials of %s", name, quoted(text))
                    .isEqualTo(c.get("decoded_skip_special").asText());
        }
        for (JsonNode c : golden.get("decode_cases")) {
            int[] ids = ints(c.get("ids"));
            boolean skip = c.get("skip_special").asBoolean();
            assertThat(tokenizer.decode(ids, skip)).as("%s decode %s skip=%s", name, c.get("ids"), skip)
                    .isEqualTo(c.get("text").asText());
        }
    }

    /** The normalizer and pre-tokenizer alone, against Hugging Face's normalize_str and pre_tokenize_str. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2_bytelevel", "roberta_bytelevel", "llama3_bytelevel", "qwen2_bytelevel",
            "llama2_sentencepiece", "mistral_metaspace", "bert_wordpiece", "bert_cased_wordpiece", "minilm_wordpiece"})
    void normalizerAndPreTokenizerMatchHuggingFace(String name) throws IOException {
        JsonNode golden = MAPPER.readTree(resource(DIR + name + ".golden.json"));
        JsonNode root = MAPPER.readTree(name.equals("minilm_wordpiece")
                ? resource("/all-minilm-l6-v2-tokenizer.json") : resource(DIR + name + ".json"));
        Normalizer normalizer = root.get("normalizer").isNull() ? null
                : Normalizer.fromJson(JsonFields.of(root.get("normalizer"), name, "normalizer"));
        PreTokenizer preTokenizer = root.get("pre_tokenizer").isNull() ? null
                : PreTokenizer.fromJson(JsonFields.of(root.get("pre_tokenizer"), name, "pre_tokenizer"));
        for (JsonNode c : golden.get("cases")) {
            String text = c.get("text").asText();
            if (normalizer != null) {
                assertThat(normalizer.normalize(text)).as("%s normalize %s", name, quoted(text))
                        .isEqualTo(c.get("normalized").asText());
            }
            if (preTokenizer != null) {
                List<String> expected = StreamSupport.stream(c.get("pre_tokenized").spliterator(), false)
                        .map(JsonNode::asText).toList();
                assertThat(preTokenizer.splitAll(List.of(new Segment(text, true)))).extracting(Segment::text)
                        .as("%s pre-tokenize %s", name, quoted(text)).containsExactlyElementsOf(expected);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2_bytelevel", "llama3_bytelevel", "llama2_sentencepiece", "mistral_metaspace",
            "bert_wordpiece"})
    void streamingDecodeConcatenatesToFullDecodeWithoutSplittingCharacters(String name) throws IOException {
        JsonNode golden = MAPPER.readTree(resource(DIR + name + ".golden.json"));
        HfTokenizer tokenizer = load(name);
        for (JsonNode c : golden.get("cases")) {
            int[] ids = ints(c.get("ids_with_special"));
            String full = tokenizer.decode(ids, true);
            StreamingDecoder stream = tokenizer.streamingDecoder(true);
            List<String> pieces = new ArrayList<>();
            for (int id : ids) {
                pieces.add(stream.next(id));
            }
            pieces.add(stream.flush());
            assertThat(String.join("", pieces)).as("%s streamed %s", name, quoted(c.get("text").asText())).isEqualTo(full);
            for (String piece : pieces) {
                // A piece never ends inside a surrogate pair nor in a replacement char for a partial byte sequence.
                assertThat(piece.isEmpty() || !Character.isHighSurrogate(piece.charAt(piece.length() - 1))).isTrue();
                if (!full.contains("\uFFFD")) {
                    assertThat(piece).doesNotContain("\uFFFD");
                }
            }
        }
    }

    static HfTokenizer load(String name) throws IOException {
        if (name.equals("minilm_wordpiece")) {
            // Read from the langchain4j MiniLM jar on the test classpath (not copied into the repository).
            return HfTokenizer.fromJson(resource("/all-minilm-l6-v2-tokenizer.json"), "all-minilm-l6-v2-tokenizer.json", null);
        }
        return HfTokenizer.fromJson(resource(DIR + name + ".json"), name + ".json", null);
    }

    static String resource(String path) throws IOException {
        try (InputStream in = HfTokenizerGoldenTest.class.getResourceAsStream(path)) {
            assertThat(in).as("test resource %s", path).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    private static String quoted(String text) {
        return "\"" + text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }
}
