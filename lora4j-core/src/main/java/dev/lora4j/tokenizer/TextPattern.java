package dev.lora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The pattern of a Split pre-tokenizer or a Replace normalizer/decoder: {"String": literal} or
 * {"Regex": regex}. Hugging Face compiles regexes with Oniguruma; the patterns model tokenizers use
 * (GPT-2, Llama 3, Qwen2: \p{L}, \p{N}, \s, (?i:...), lookahead) mean the same in java.util.regex
 * once \s, \w and \d are made Unicode-aware, as they are in Oniguruma for UTF-8 text.
 */
final class TextPattern {
    private final Pattern pattern;
    private final String literal;

    private TextPattern(Pattern pattern, String literal) {
        this.pattern = pattern;
        this.literal = literal;
    }

    static TextPattern fromJson(JsonFields owner, String field) {
        JsonFields p = owner.child(field, owner.component() + " pattern");
        if (p.has("String")) {
            return literal(p.text("String"));
        }
        if (p.has("Regex")) {
            String regex = p.text("Regex");
            try {
                return regex(regex);
            } catch (PatternSyntaxException e) {
                throw new TokenizerFormatException(p.source(), owner.component() + " regex " + regex
                        + " is not supported by java.util.regex: " + e.getDescription(), e);
            }
        }
        throw p.error("should be {\"String\": ...} or {\"Regex\": ...} but is " + p.node());
    }

    static TextPattern literal(String literal) {
        return new TextPattern(Pattern.compile(Pattern.quote(literal)), literal);
    }

    static TextPattern regex(String regex) {
        return new TextPattern(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS), null);
    }

    /** Non-empty matches as [start, end) char offsets, left to right, non-overlapping. */
    List<int[]> matches(String text) {
        List<int[]> out = new ArrayList<>();
        if (literal != null) {
            if (literal.isEmpty()) {
                return out;
            }
            for (int at = text.indexOf(literal); at >= 0; at = text.indexOf(literal, at + literal.length())) {
                out.add(new int[] {at, at + literal.length()});
            }
            return out;
        }
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            if (m.end() > m.start()) {
                out.add(new int[] {m.start(), m.end()});
            }
        }
        return out;
    }

    String replaceAll(String text, String replacement) {
        if (literal != null) {
            return literal.isEmpty() ? text : text.replace(literal, replacement);
        }
        return pattern.matcher(text).replaceAll(Matcher.quoteReplacement(replacement));
    }
}
