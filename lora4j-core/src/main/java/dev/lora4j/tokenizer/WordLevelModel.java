package dev.lora4j.tokenizer;

import java.util.Map;

/** Whole words looked up in the vocabulary, unknown words becoming the unknown token. */
record WordLevelModel(Map<String, Integer> vocab, Integer unkId) implements TokenModel {

    static WordLevelModel fromJson(JsonFields json) {
        Map<String, Integer> vocab = TokenModel.readVocab(json);
        Integer unkId = null;
        if (json.has("unk_token")) {
            unkId = vocab.get(json.text("unk_token"));
            if (unkId == null) {
                throw json.error("unk_token \"" + json.text("unk_token") + "\" is not in the vocabulary");
            }
        }
        return new WordLevelModel(vocab, unkId);
    }

    @Override
    public void tokenize(String word, IdBuffer out) {
        Integer id = vocab.get(word);
        if (id != null) {
            out.add(id);
        } else if (unkId != null) {
            out.add(unkId);
        } else {
            throw new IllegalArgumentException("word \"" + word + "\" is not in the vocabulary and there is no unk_token");
        }
    }
}
