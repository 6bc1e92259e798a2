package dev.lora4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json}, run through the same pipeline as the {@code tokenizers}
 * library: added tokens are cut out of the raw text (those marked normalized are looked for after
 * normalization), the rest is normalized, pre-tokenized into words, each word is tokenized by the
 * model (BPE, WordPiece or WordLevel), and the post-processor adds BOS/CLS/SEP when asked.
 * Decoding maps ids to token strings and runs the decoder chain.
 *
 * <p>Truncation and padding settings in the file are ignored: encode returns every token.
 */
public final class HfTokenizer implements Tokenizer {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Used for EOS when no tokenizer_config.json names it: end-of-text tokens of common model families. */
    private static final List<String> COMMON_EOS = List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");

    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final AddedTokenMatcher rawAddedTokens = new AddedTokenMatcher();
    private final AddedTokenMatcher normalizedAddedTokens = new AddedTokenMatcher();
    private final Map<String, Integer> tokenToId = new HashMap<>();
    private final String[] idToToken;
    private final boolean[] special;
    private final OptionalInt bosId;
    private final OptionalInt eosId;

    private HfTokenizer(JsonNode root, String source, JsonNode config) {
        if (!root.isObject()) {
            throw new TokenizerFormatException(source, "is not a JSON object");
        }
        this.normalizer = component(root, source, "normalizer") == null ? null
                : Normalizer.fromJson(component(root, source, "normalizer"));
        this.preTokenizer = component(root, source, "pre_tokenizer") == null ? null
                : PreTokenizer.fromJson(component(root, source, "pre_tokenizer"));
        JsonFields modelJson = component(root, source, "model");
        if (modelJson == null) {
            throw new TokenizerFormatException(source, "has no model");
        }
        this.model = TokenModel.fromJson(modelJson);
        this.postProcessor = component(root, source, "post_processor") == null ? null
                : PostProcessor.fromJson(component(root, source, "post_processor"));
        this.decoder = component(root, source, "decoder") == null ? null
                : Decoder.fromJson(component(root, source, "decoder"));

        tokenToId.putAll(model.vocab());
        List<AddedToken> added = new ArrayList<>();
        JsonNode addedJson = root.get("added_tokens");
        if (addedJson != null && !addedJson.isNull()) {
            for (JsonNode t : addedJson) {
                AddedToken token = AddedToken.fromJson(JsonFields.of(t, source, "added token"));
                if (token.id() < 0) {
                    throw new TokenizerFormatException(source, "added token \"" + token.content() + "\" has no id");
                }
                added.add(token);
                tokenToId.put(token.content(), token.id());
            }
        }
        int size = tokenToId.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.idToToken = new String[size];
        this.special = new boolean[size];
        model.vocab().forEach((token, id) -> idToToken[id] = token);
        for (AddedToken token : added) {
            idToToken[token.id()] = token.content();
            special[token.id()] = token.special();
            if (token.normalized()) {
                normalizedAddedTokens.add(normalizer == null ? token.content() : normalizer.normalize(token.content()),
                        token);
            } else {
                rawAddedTokens.add(token.content(), token);
            }
        }
        OptionalInt configuredBos = configuredToken(config, "bos_token");
        OptionalInt configuredEos = configuredToken(config, "eos_token");
        this.bosId = configuredBos.isPresent() ? configuredBos : templateBos();
        this.eosId = configuredEos.isPresent() ? configuredEos : commonEos();
    }

    /** Reads a tokenizer.json file, and the tokenizer_config.json beside it if there is one (for BOS/EOS). */
    public static HfTokenizer load(Path file) {
        try {
            String json = Files.readString(file);
            Path configFile = file.resolveSibling("tokenizer_config.json");
            String config = Files.isRegularFile(configFile) ? Files.readString(configFile) : null;
            return fromJson(json, file.toString(), config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses tokenizer.json text; {@code source} names it in errors; {@code tokenizerConfigJson}
     * (may be null) is the tokenizer_config.json text, read for bos_token and eos_token.
     */
    public static HfTokenizer fromJson(String json, String source, String tokenizerConfigJson) {
        JsonNode root;
        JsonNode config = null;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new TokenizerFormatException(source, "is not valid JSON: " + e.getMessage(), e);
        }
        if (tokenizerConfigJson != null) {
            try {
                config = MAPPER.readTree(tokenizerConfigJson);
            } catch (IOException e) {
                throw new TokenizerFormatException(source, "its tokenizer_config.json is not valid JSON: " + e.getMessage(), e);
            }
        }
        return new HfTokenizer(root, source, config);
    }

    private static JsonFields component(JsonNode root, String source, String name) {
        JsonNode node = root.get(name);
        return node == null || node.isNull() ? null : JsonFields.of(node, source, name);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IdBuffer ids = new IdBuffer();
        int previousEnd = 0;
        for (AddedTokenMatcher.Match m : rawAddedTokens.find(text)) {
            encodeUnmatched(text.substring(previousEnd, m.start()), previousEnd == 0, ids);
            ids.add(m.token().id());
            previousEnd = m.end();
        }
        encodeUnmatched(text.substring(previousEnd), previousEnd == 0, ids);
        int[] out = ids.toArray();
        return addSpecialTokens && postProcessor != null ? postProcessor.addSpecialTokens(out) : out;
    }

    /** Normalizes text between raw added tokens, cuts out normalized added tokens, and tokenizes the rest. */
    private void encodeUnmatched(String raw, boolean atInputStart, IdBuffer ids) {
        if (raw.isEmpty()) {
            return;
        }
        String text = normalizer == null ? raw : normalizer.normalize(raw);
        int previousEnd = 0;
        for (AddedTokenMatcher.Match m : normalizedAddedTokens.find(text)) {
            tokenizeWords(new Segment(text.substring(previousEnd, m.start()), atInputStart && previousEnd == 0), ids);
            ids.add(m.token().id());
            previousEnd = m.end();
        }
        tokenizeWords(new Segment(text.substring(previousEnd), atInputStart && previousEnd == 0), ids);
    }

    private void tokenizeWords(Segment segment, IdBuffer ids) {
        if (segment.text().isEmpty()) {
            return;
        }
        List<Segment> words = preTokenizer == null ? List.of(segment) : preTokenizer.splitAll(List.of(segment));
        for (Segment word : words) {
            model.tokenize(word.text(), ids);
        }
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            // Ids outside the vocabulary are skipped, as Hugging Face does.
            if (id >= 0 && id < idToToken.length && idToToken[id] != null && !(skipSpecialTokens && special[id])) {
                tokens.add(idToToken[id]);
            }
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Optional<String> token(int id) {
        return id >= 0 && id < idToToken.length ? Optional.ofNullable(idToToken[id]) : Optional.empty();
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public OptionalInt bosId() {
        return bosId;
    }

    @Override
    public OptionalInt eosId() {
        return eosId;
    }

    /** tokenizer_config.json writes a token as "text", as {"content": "text", ...}, or null. */
    private OptionalInt configuredToken(JsonNode config, String field) {
        if (config == null || config.get(field) == null || config.get(field).isNull()) {
            return OptionalInt.empty();
        }
        JsonNode value = config.get(field);
        String content = value.isTextual() ? value.asText() : value.path("content").asText(null);
        return content == null ? OptionalInt.empty() : tokenId(content);
    }

    /**
     * BOS is the one special token a BOS-style template puts before the sequence (Llama "<s> $A"),
     * not the [CLS] of a "[CLS] $A [SEP]" template.
     */
    private OptionalInt templateBos() {
        if (postProcessor == null) {
            return OptionalInt.empty();
        }
        int[] withOne = postProcessor.addSpecialTokens(new int[] {-1});
        return withOne.length == 2 && withOne[0] != -1 && withOne[1] == -1
                ? OptionalInt.of(withOne[0]) : OptionalInt.empty();
    }

    private OptionalInt commonEos() {
        for (String name : COMMON_EOS) {
            Integer id = tokenToId.get(name);
            if (id != null && isSpecial(id)) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }
}
