package dev.lora4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text the way Hugging Face does: leftmost-longest, non-overlapping matches
 * of the token strings, then each match adjusted by its token's flags (lstrip/rstrip take in
 * adjacent whitespace, single_word rejects matches that touch a word character).
 */
final class AddedTokenMatcher {
    /** A match: the token, and the [start, end) char range it covers in the text. */
    record Match(AddedToken token, int start, int end) {}

    /** Patterns by their first char, longest first, so the first hit at a position is the longest. */
    private final Map<Character, List<Pattern>> byFirstChar = new HashMap<>();

    private record Pattern(String text, AddedToken token) {}

    /** {@code patternText} is the string searched for (the content, normalized for normalized tokens). */
    void add(String patternText, AddedToken token) {
        if (patternText.isEmpty()) {
            return;
        }
        List<Pattern> list = byFirstChar.computeIfAbsent(patternText.charAt(0), c -> new ArrayList<>());
        list.add(new Pattern(patternText, token));
        list.sort(Comparator.comparingInt((Pattern p) -> p.text.length()).reversed());
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    List<Match> find(String text) {
        List<Match> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            return out;
        }
        int consumed = 0; // end of the previous accepted match, in text
        int at = 0;
        while (at < text.length()) {
            Pattern hit = longestAt(text, at);
            if (hit == null) {
                at++;
                continue;
            }
            int start = at;
            int end = at + hit.text.length();
            at = end; // the scan continues after this match even if its flags reject it
            AddedToken token = hit.token;
            if (token.singleWord() && (endsWithWordChar(text, start) || startsWithWordChar(text, end))) {
                continue;
            }
            if (token.lstrip()) {
                int s = start;
                while (s > 0 && CharClasses.isWhitespace(text.codePointBefore(s))) {
                    s -= Character.charCount(text.codePointBefore(s));
                }
                // Whitespace already taken by the previous match stays with it.
                start = Math.max(s, consumed);
            }
            if (token.rstrip()) {
                while (end < text.length() && CharClasses.isWhitespace(text.codePointAt(end))) {
                    end += Character.charCount(text.codePointAt(end));
                }
            }
            out.add(new Match(token, start, end));
            consumed = end;
        }
        return out;
    }

    private Pattern longestAt(String text, int at) {
        List<Pattern> candidates = byFirstChar.get(text.charAt(at));
        if (candidates != null) {
            for (Pattern p : candidates) {
                if (text.startsWith(p.text, at)) {
                    return p;
                }
            }
        }
        return null;
    }

    private static boolean isWordChar(int cp) {
        return CharClasses.isAlphanumeric(cp) || cp == '_';
    }

    private static boolean endsWithWordChar(String text, int end) {
        return end > 0 && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWordChar(String text, int start) {
        return start < text.length() && isWordChar(text.codePointAt(start));
    }
}
