package dev.lora4j.tokenizer;

import java.util.Map;

/**
 * BERT's WordPiece: greedy longest-match-first. From the start of the word take the longest prefix
 * in the vocabulary, then the longest "##"-prefixed continuation, and so on; if some position has no
 * match, or the word is longer than max_input_chars_per_word characters, the whole word is [UNK].
 */
record WordPieceModel(Map<String, Integer> vocab, int unkId, String continuationPrefix, int maxInputCharsPerWord)
        implements TokenModel {

    static WordPieceModel fromJson(JsonFields json) {
        Map<String, Integer> vocab = TokenModel.readVocab(json);
        String unk = json.text("unk_token", "[UNK]");
        Integer unkId = vocab.get(unk);
        if (unkId == null) {
            throw json.error("unk_token \"" + unk + "\" is not in the vocabulary");
        }
        return new WordPieceModel(vocab, unkId, json.text("continuing_subword_prefix", "##"),
                json.integer("max_input_chars_per_word", 100));
    }

    @Override
    public void tokenize(String word, IdBuffer out) {
        if (word.codePointCount(0, word.length()) > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        int mark = out.size();
        IdBuffer pieces = new IdBuffer();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer match = null;
            while (start < end) {
                String piece = word.substring(start, end);
                match = vocab.get(start > 0 ? continuationPrefix + piece : piece);
                if (match != null) {
                    break;
                }
                end -= Character.charCount(word.codePointBefore(end));
            }
            if (match == null) {
                out.add(unkId);
                return;
            }
            pieces.add(match);
            start = end;
        }
        assert out.size() == mark;
        out.addAll(pieces.toArray());
    }
}
