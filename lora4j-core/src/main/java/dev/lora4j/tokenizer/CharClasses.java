package dev.lora4j.tokenizer;

/**
 * Character classes with the definitions Hugging Face tokenizers uses (Rust's {@code char} methods
 * and the {@code unicode_categories} crate), which differ from Java's {@code Character.isWhitespace}.
 */
final class CharClasses {
    private CharClasses() {}

    /** Rust's {@code char::is_whitespace}: the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Rust's {@code char::is_alphanumeric}: Alphabetic or Numeric (Nd, Nl, No). */
    static boolean isAlphanumeric(int cp) {
        if (Character.isAlphabetic(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    /** Unicode punctuation (Pc, Pd, Ps, Pe, Pi, Pf, Po). */
    static boolean isUnicodePunctuation(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** BERT's punctuation: any ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) or Unicode P*. */
    static boolean isBertPunctuation(int cp) {
        boolean asciiPunctuation = (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96)
                || (cp >= 123 && cp <= 126);
        return asciiPunctuation || isUnicodePunctuation(cp);
    }

    /** BERT's control characters: categories Cc, Cf, Co, Cs except tab, newline and carriage return. */
    static boolean isBertControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** BERT's "Chinese character": the CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul). */
    static boolean isCjkIdeograph(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
