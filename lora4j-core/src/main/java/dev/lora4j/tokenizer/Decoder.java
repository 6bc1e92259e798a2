package dev.lora4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns token strings back into text. Each decoder maps the list of token strings to a new list
 * (some fuse everything into one string); the text is the concatenation of the final list.
 */
@FunctionalInterface
interface Decoder {
    List<String> decodeChain(List<String> tokens);

    Set<String> SUPPORTED = Set.of("Sequence", "ByteLevel", "Metaspace", "Replace", "ByteFallback", "Fuse", "Strip",
            "WordPiece", "BPEDecoder");

    static Decoder fromJson(JsonFields json) {
        return switch (json.type()) {
            case "Sequence" -> {
                List<Decoder> parts = new ArrayList<>();
                for (var d : json.get("decoders")) {
                    parts.add(fromJson(JsonFields.of(d, json.source(), "decoder")));
                }
                yield tokens -> {
                    for (Decoder part : parts) {
                        tokens = part.decodeChain(tokens);
                    }
                    return tokens;
                };
            }
            case "ByteLevel" -> tokens -> List.of(ByteLevel.decode(tokens));
            case "Metaspace" -> metaspace(json);
            case "Replace" -> {
                TextPattern pattern = TextPattern.fromJson(json, "pattern");
                String content = json.text("content");
                yield tokens -> tokens.stream().map(t -> pattern.replaceAll(t, content)).toList();
            }
            case "ByteFallback" -> Decoder::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> strip(json);
            case "WordPiece" -> wordPiece(json.text("prefix", "##"), json.bool("cleanup", true));
            case "BPEDecoder" -> {
                String suffix = json.text("suffix", "</w>");
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        out.add(tokens.get(i).replace(suffix, i == tokens.size() - 1 ? "" : " "));
                    }
                    return out;
                };
            }
            default -> throw json.unsupported(SUPPORTED);
        };
    }

    /**
     * The replacement character ("▁") becomes a space, except in the first token, where (unless
     * prepend_scheme is "never") it marks the prefix the encoder added and is dropped.
     */
    private static Decoder metaspace(JsonFields json) {
        String replacement = json.text("replacement", "\u2581");
        String scheme = json.has("prepend_scheme") ? json.text("prepend_scheme")
                : (json.bool("add_prefix_space", true) ? "always" : "never");
        boolean dropInFirst = !scheme.equals("never");
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                out.add(tokens.get(i).replace(replacement, i == 0 && dropInFirst ? "" : " "));
            }
            return out;
        };
    }

    /**
     * Runs of "<0xNN>" tokens become the text their bytes spell; if the bytes are not valid UTF-8,
     * each byte becomes one U+FFFD (Hugging Face's rule, which differs from a lossy UTF-8 decode).
     */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
        for (String token : tokens) {
            int b = byteOf(token);
            if (b >= 0) {
                pending.write(b);
                continue;
            }
            flushBytes(pending, out);
            out.add(token);
        }
        flushBytes(pending, out);
        return out;
    }

    private static void flushBytes(java.io.ByteArrayOutputStream pending, List<String> out) {
        if (pending.size() == 0) {
            return;
        }
        byte[] bytes = pending.toByteArray();
        pending.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString());
        } catch (java.nio.charset.CharacterCodingException e) {
            for (int i = 0; i < bytes.length; i++) {
                out.add("\uFFFD");
            }
        }
    }

    /** The byte of a "<0xNN>" token, or -1. */
    private static int byteOf(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(token.charAt(3), 16);
        int lo = Character.digit(token.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** Removes up to {@code start} leading and {@code stop} trailing copies of one character from each token. */
    private static Decoder strip(JsonFields json) {
        String content = json.text("content");
        if (content.codePointCount(0, content.length()) != 1) {
            throw json.error("content should be one character but is \"" + content + "\"");
        }
        int start = json.integer("start", 0);
        int stop = json.integer("stop", 0);
        return tokens -> tokens.stream().map(token -> {
            int from = 0;
            for (int k = 0; k < start && token.startsWith(content, from); k++) {
                from += content.length();
            }
            int to = token.length();
            for (int k = 0; k < stop && to - content.length() >= from && token.startsWith(content, to - content.length()); k++) {
                to -= content.length();
            }
            return token.substring(from, to);
        }).toList();
    }

    /** "##" continuations join the previous token, other tokens get a space before them; then optional cleanup. */
    private static Decoder wordPiece(String prefix, boolean cleanup) {
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String token = tokens.get(i);
                if (i > 0) {
                    token = token.startsWith(prefix) ? token.substring(prefix.length()) : " " + token;
                }
                out.add(cleanup ? cleanUpTokenization(token) : token);
            }
            return out;
        };
    }

    /** BERT's cleanup: no space before punctuation and English contractions. */
    private static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
