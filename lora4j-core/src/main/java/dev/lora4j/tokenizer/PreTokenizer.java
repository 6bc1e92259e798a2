package dev.lora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The second stage of encoding: cuts normalized text into words that the model tokenizes separately. */
@FunctionalInterface
interface PreTokenizer {
    List<Segment> split(Segment segment);

    Set<String> SUPPORTED = Set.of("Sequence", "ByteLevel", "Split", "Metaspace", "BertPreTokenizer", "Whitespace",
            "WhitespaceSplit", "Punctuation", "Digits");

    /** GPT-2's word pattern, used by the ByteLevel pre-tokenizer when use_regex is set. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Splits each segment; empty segments yield no words (Hugging Face never pre-tokenizes empty text). */
    default List<Segment> splitAll(List<Segment> segments) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : segments) {
            if (!s.text().isEmpty()) {
                out.addAll(split(s));
            }
        }
        return out;
    }

    static PreTokenizer fromJson(JsonFields json) {
        return switch (json.type()) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (var p : json.get("pretokenizers")) {
                    parts.add(fromJson(JsonFields.of(p, json.source(), "pre_tokenizer")));
                }
                yield segment -> {
                    List<Segment> segments = List.of(segment);
                    for (PreTokenizer part : parts) {
                        segments = part.splitAll(segments);
                    }
                    return segments;
                };
            }
            case "ByteLevel" -> byteLevel(json.bool("add_prefix_space", true), json.bool("use_regex", true));
            case "Split" -> {
                TextPattern pattern = TextPattern.fromJson(json, "pattern");
                SplitBehavior behavior = SplitBehavior.fromJson(json, "behavior", SplitBehavior.ISOLATED);
                boolean invert = json.bool("invert", false);
                yield segment -> behavior.split(segment, pattern.matches(segment.text()), invert);
            }
            case "Metaspace" -> metaspace(json);
            case "BertPreTokenizer" -> segment -> {
                List<Segment> words = SplitBehavior.REMOVED.split(segment,
                        SplitBehavior.codePointMatches(segment.text(), CharClasses::isWhitespace), false);
                List<Segment> out = new ArrayList<>();
                for (Segment w : words) {
                    out.addAll(SplitBehavior.ISOLATED.split(w,
                            SplitBehavior.codePointMatches(w.text(), CharClasses::isBertPunctuation), false));
                }
                return out;
            };
            case "Whitespace" -> {
                TextPattern words = TextPattern.regex("\\w+|[^\\w\\s]+");
                // Keeps the runs of word characters and of other non-space characters; drops spaces.
                yield segment -> SplitBehavior.REMOVED.split(segment, words.matches(segment.text()), true);
            }
            case "WhitespaceSplit" -> segment -> SplitBehavior.REMOVED.split(segment,
                    SplitBehavior.codePointMatches(segment.text(), CharClasses::isWhitespace), false);
            case "Punctuation" -> {
                SplitBehavior behavior = SplitBehavior.fromJson(json, "behavior", SplitBehavior.ISOLATED);
                yield segment -> behavior.split(segment,
                        SplitBehavior.codePointMatches(segment.text(), CharClasses::isBertPunctuation), false);
            }
            case "Digits" -> {
                SplitBehavior behavior = json.bool("individual_digits", false)
                        ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
                yield segment -> behavior.split(segment,
                        SplitBehavior.codePointMatches(segment.text(), PreTokenizer::isNumeric), false);
            }
            default -> throw json.unsupported(SUPPORTED);
        };
    }

    /** Rust's {@code char::is_numeric}: Nd, Nl or No. */
    private static boolean isNumeric(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /**
     * Optionally prefixes a space (so a first word looks like the words after a space), splits with
     * GPT-2's pattern, then spells each word's UTF-8 bytes in the byte-level alphabet.
     */
    private static PreTokenizer byteLevel(boolean addPrefixSpace, boolean useRegex) {
        TextPattern words = TextPattern.regex(GPT2_PATTERN);
        return segment -> {
            String text = segment.text();
            if (addPrefixSpace && !text.startsWith(" ")) {
                text = " " + text;
            }
            Segment prefixed = new Segment(text, segment.atInputStart());
            List<Segment> pieces = useRegex
                    ? SplitBehavior.ISOLATED.split(prefixed, words.matches(text), false)
                    : (text.isEmpty() ? List.of() : List.of(prefixed));
            List<Segment> out = new ArrayList<>(pieces.size());
            for (Segment p : pieces) {
                out.add(new Segment(ByteLevel.encode(p.text()), p.atInputStart()));
            }
            return out;
        };
    }

    /**
     * SentencePiece's word marker: spaces become the replacement character ("▁"), which is also
     * prepended always, never, or only to the segment at the start of the input ("first"); with
     * split set, each word starts at a "▁".
     */
    private static PreTokenizer metaspace(JsonFields json) {
        String replacement = json.text("replacement", "\u2581");
        String scheme = json.has("prepend_scheme") ? json.text("prepend_scheme")
                : (json.bool("add_prefix_space", true) ? "always" : "never");
        if (!Set.of("always", "never", "first").contains(scheme)) {
            throw json.error("has unknown prepend_scheme \"" + scheme + "\" (expected always, never or first)");
        }
        boolean split = json.bool("split", true);
        TextPattern marker = TextPattern.literal(replacement);
        return segment -> {
            String text = segment.text().replace(" ", replacement);
            boolean prepend = switch (scheme) {
                case "always" -> true;
                case "first" -> segment.atInputStart();
                default -> false;
            };
            if (prepend && !text.startsWith(replacement)) {
                text = replacement + text;
            }
            Segment replaced = new Segment(text, segment.atInputStart());
            if (split) {
                return SplitBehavior.MERGED_WITH_NEXT.split(replaced, marker.matches(text), false);
            }
            return text.isEmpty() ? List.of() : List.of(replaced);
        };
    }
}
