package dev.lora4j.tokenizer;

/**
 * A token matched in the text before pre-tokenization (special tokens such as "<|im_start|>", or
 * user-added words). {@code lstrip}/{@code rstrip}: the match swallows whitespace on that side;
 * {@code singleWord}: matches only when not inside a word; {@code normalized}: matched against the
 * normalized text instead of the raw text; {@code special}: left out by decode with skipSpecialTokens.
 */
record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
                  boolean special) {

    static AddedToken fromJson(JsonFields json) {
        return new AddedToken(json.integer("id", -1), json.text("content"), json.bool("single_word", false),
                json.bool("lstrip", false), json.bool("rstrip", false), json.bool("normalized", true),
                json.bool("special", false));
    }
}
