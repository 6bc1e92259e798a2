package dev.lora4j.tokenizer;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The first stage of encoding: rewrites text (Unicode normal forms, case, accents, markers). */
@FunctionalInterface
interface Normalizer {
    String normalize(String text);

    Set<String> SUPPORTED = Set.of("Sequence", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip",
            "StripAccents", "Replace", "Prepend", "BertNormalizer");

    static Normalizer fromJson(JsonFields json) {
        return switch (json.type()) {
            case "Sequence" -> {
                List<Normalizer> parts = new ArrayList<>();
                for (var n : json.get("normalizers")) {
                    parts.add(fromJson(JsonFields.of(n, json.source(), "normalizer")));
                }
                yield text -> {
                    for (Normalizer part : parts) {
                        text = part.normalize(text);
                    }
                    return text;
                };
            }
            case "NFC" -> text -> java.text.Normalizer.normalize(text, Form.NFC);
            case "NFD" -> text -> java.text.Normalizer.normalize(text, Form.NFD);
            case "NFKC" -> text -> java.text.Normalizer.normalize(text, Form.NFKC);
            case "NFKD" -> text -> java.text.Normalizer.normalize(text, Form.NFKD);
            case "Lowercase" -> Normalizer::lowercase;
            case "Strip" -> {
                boolean left = json.bool("strip_left", true);
                boolean right = json.bool("strip_right", true);
                yield text -> strip(text, left, right);
            }
            case "StripAccents" -> Normalizer::removeNonspacingMarks;
            case "Replace" -> {
                TextPattern pattern = TextPattern.fromJson(json, "pattern");
                String content = json.text("content");
                yield text -> pattern.replaceAll(text, content);
            }
            case "Prepend" -> {
                String prefix = json.text("prepend");
                // Hugging Face prepends only to non-empty text.
                yield text -> text.isEmpty() ? text : prefix + text;
            }
            case "BertNormalizer" -> BertNormalizer.fromJson(json);
            default -> throw json.unsupported(SUPPORTED);
        };
    }

    /**
     * Lowercases character by character, as Hugging Face does (Rust's {@code char::to_lowercase}):
     * full mappings such as 'İ' to "i̇" apply, but not the context rule for a word-final sigma.
     */
    static String lowercase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp < 0x80) {
                out.append((char) Character.toLowerCase(cp));
            } else {
                out.append(Character.toString(cp).toLowerCase(Locale.ROOT));
            }
        });
        return out.toString();
    }

    /** Removes nonspacing marks (category Mn), e.g. the accents left separate by NFD. */
    static String removeNonspacingMarks(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK).forEach(out::appendCodePoint);
        return out.toString();
    }

    static String strip(String text, boolean left, boolean right) {
        int start = 0;
        int end = text.length();
        while (left && start < end && CharClasses.isWhitespace(text.codePointAt(start))) {
            start += Character.charCount(text.codePointAt(start));
        }
        while (right && end > start && CharClasses.isWhitespace(text.codePointBefore(end))) {
            end -= Character.charCount(text.codePointBefore(end));
        }
        return text.substring(start, end);
    }
}
