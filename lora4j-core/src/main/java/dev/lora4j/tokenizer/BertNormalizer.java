package dev.lora4j.tokenizer;

import java.text.Normalizer.Form;

/**
 * BERT's normalizer, in Hugging Face's order: clean text (drop NUL, U+FFFD and control characters,
 * turn every whitespace character into a space), put spaces around CJK ideographs so each becomes
 * its own word, strip accents (NFD, then drop nonspacing marks), lowercase. Accent stripping
 * defaults to the lowercase setting, as in uncased BERT.
 */
record BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase)
        implements Normalizer {

    static BertNormalizer fromJson(JsonFields json) {
        boolean lowercase = json.bool("lowercase", true);
        return new BertNormalizer(json.bool("clean_text", true), json.bool("handle_chinese_chars", true),
                json.bool("strip_accents", lowercase), lowercase);
    }

    @Override
    public String normalize(String text) {
        if (cleanText) {
            text = cleanText(text);
        }
        if (handleChineseChars) {
            text = spaceAroundIdeographs(text);
        }
        if (stripAccents) {
            text = Normalizer.removeNonspacingMarks(java.text.Normalizer.normalize(text, Form.NFD));
        }
        if (lowercase) {
            text = Normalizer.lowercase(text);
        }
        return text;
    }

    private static String cleanText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || CharClasses.isBertControl(cp)) {
                return;
            }
            out.appendCodePoint(CharClasses.isWhitespace(cp) ? ' ' : cp);
        });
        return out.toString();
    }

    private static String spaceAroundIdeographs(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (CharClasses.isCjkIdeograph(cp)) {
                out.append(' ').appendCodePoint(cp).append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }
}
