package dev.lora4j.tokenizer;

import java.util.Map;
import java.util.Set;

/** The model stage: turns one pre-tokenized word into vocabulary ids. */
interface TokenModel {
    void tokenize(String word, IdBuffer out);

    /** Token string to id, for every token of the model's vocabulary. */
    Map<String, Integer> vocab();

    Set<String> SUPPORTED = Set.of("BPE", "WordPiece", "WordLevel");

    static TokenModel fromJson(JsonFields json) {
        String type = json.has("type") ? json.type() : inferType(json);
        return switch (type) {
            case "BPE" -> BpeModel.fromJson(json);
            case "WordPiece" -> WordPieceModel.fromJson(json);
            case "WordLevel" -> WordLevelModel.fromJson(json);
            default -> throw json.unsupported(SUPPORTED);
        };
    }

    /** Older tokenizer.json files omit the model type; the fields tell which model it is. */
    private static String inferType(JsonFields json) {
        if (json.has("merges")) {
            return "BPE";
        }
        if (json.has("continuing_subword_prefix") && json.has("max_input_chars_per_word")) {
            return "WordPiece";
        }
        if (json.has("vocab") && json.get("vocab").isArray()) {
            throw json.error("looks like a Unigram model, which is not supported (supported: "
                    + String.join(", ", SUPPORTED) + ")");
        }
        return "WordLevel";
    }

    /** Reads {"token": id, ...}, checking that ids are non-negative integers. */
    static Map<String, Integer> readVocab(JsonFields json) {
        var node = json.get("vocab");
        if (!node.isObject()) {
            throw json.error("vocab should be an object of token to id but is " + node.getNodeType());
        }
        Map<String, Integer> vocab = new java.util.HashMap<>(node.size() * 2);
        for (var e : node.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw json.error("vocab entry \"" + e.getKey() + "\" has id " + e.getValue()
                        + ", expected a non-negative integer");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }
}
