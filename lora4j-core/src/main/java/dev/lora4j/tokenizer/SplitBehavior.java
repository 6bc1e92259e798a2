package dev.lora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a split does with the delimiters it finds (Hugging Face's SplitDelimiterBehavior): drop them,
 * keep each as its own piece, glue it to the piece before or after, or keep runs of adjacent
 * delimiters together as one piece.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior fromJson(JsonFields json, String field, SplitBehavior absent) {
        if (!json.has(field)) {
            return absent;
        }
        String name = json.text(field);
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw json.error("has unknown behavior \"" + name + "\" (expected Removed, Isolated, "
                    + "MergedWithPrevious, MergedWithNext or Contiguous)");
        };
    }

    /**
     * Splits {@code segment} at the given delimiter matches ([start, end) char offsets, sorted,
     * non-overlapping); {@code invert} makes the text between matches the delimiters instead.
     * Empty pieces are dropped.
     */
    List<Segment> split(Segment segment, List<int[]> matches, boolean invert) {
        String text = segment.text();
        // Every piece of the text, in order, flagged whether it is a delimiter.
        List<int[]> spans = new ArrayList<>();
        List<Boolean> isDelimiter = new ArrayList<>();
        int previous = 0;
        for (int[] m : matches) {
            if (m[0] > previous) {
                spans.add(new int[] {previous, m[0]});
                isDelimiter.add(invert);
            }
            spans.add(new int[] {m[0], m[1]});
            isDelimiter.add(!invert);
            previous = m[1];
        }
        if (previous < text.length()) {
            spans.add(new int[] {previous, text.length()});
            isDelimiter.add(invert);
        }
        List<int[]> pieces = switch (this) {
            case REMOVED -> {
                List<int[]> kept = new ArrayList<>();
                for (int i = 0; i < spans.size(); i++) {
                    if (!isDelimiter.get(i)) {
                        kept.add(spans.get(i));
                    }
                }
                yield kept;
            }
            case ISOLATED -> spans;
            case MERGED_WITH_PREVIOUS -> {
                List<int[]> out = new ArrayList<>();
                boolean previousWasDelimiter = false;
                for (int i = 0; i < spans.size(); i++) {
                    boolean delimiter = isDelimiter.get(i);
                    if (delimiter && !previousWasDelimiter && !out.isEmpty()) {
                        out.getLast()[1] = spans.get(i)[1];
                    } else {
                        out.add(spans.get(i).clone());
                    }
                    previousWasDelimiter = delimiter;
                }
                yield out;
            }
            case MERGED_WITH_NEXT -> {
                List<int[]> reversed = new ArrayList<>();
                boolean nextWasDelimiter = false;
                for (int i = spans.size() - 1; i >= 0; i--) {
                    boolean delimiter = isDelimiter.get(i);
                    if (delimiter && !nextWasDelimiter && !reversed.isEmpty()) {
                        reversed.getLast()[0] = spans.get(i)[0];
                    } else {
                        reversed.add(spans.get(i).clone());
                    }
                    nextWasDelimiter = delimiter;
                }
                yield reversed.reversed();
            }
            case CONTIGUOUS -> {
                List<int[]> out = new ArrayList<>();
                boolean previousWasDelimiter = false;
                for (int i = 0; i < spans.size(); i++) {
                    boolean delimiter = isDelimiter.get(i);
                    if (delimiter == previousWasDelimiter && !out.isEmpty()) {
                        out.getLast()[1] = spans.get(i)[1];
                    } else {
                        out.add(spans.get(i).clone());
                    }
                    previousWasDelimiter = delimiter;
                }
                yield out;
            }
        };
        List<Segment> out = new ArrayList<>(pieces.size());
        for (int[] p : pieces) {
            if (p[1] > p[0]) {
                out.add(new Segment(text.substring(p[0], p[1]), segment.atInputStart() && p[0] == 0));
            }
        }
        return out;
    }

    /** Each code point satisfying {@code isDelimiter} is one match. */
    static List<int[]> codePointMatches(String text, java.util.function.IntPredicate isDelimiter) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int n = Character.charCount(cp);
            if (isDelimiter.test(cp)) {
                out.add(new int[] {i, i + n});
            }
            i += n;
        }
        return out;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
