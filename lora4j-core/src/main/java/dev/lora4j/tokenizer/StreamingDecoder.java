package dev.lora4j.tokenizer;

import java.util.Arrays;

/**
 * Turns a stream of generated token ids into text pieces, emitting only complete characters.
 *
 * <p>Decoders are not compositional token by token: Metaspace and Strip drop a space at the start of
 * the decoded text, WordPiece joins "##" pieces, and a byte-level or byte-fallback token may carry
 * only part of a character's UTF-8 bytes. So, like Hugging Face's {@code DecodeStream}, each step
 * decodes a small window of recent ids twice: with and without the new ids. The text the new ids
 * add is emitted once it no longer ends in U+FFFD, the replacement character a partial UTF-8
 * sequence decodes to. A UTF-8 character has at most 4 bytes, and each id adds at least one, so
 * if the text still ends in U+FFFD after the 4th id since it started to, the replacement character
 * is genuine (invalid bytes) and is emitted rather than waiting forever.
 */
public final class StreamingDecoder {
    private static final int MAX_HELD_BACK = 4;

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] window = new int[0];
    /** Ids of {@code window} before this index were already emitted and serve as left context. */
    private int contextLength;
    /** Decoded text of the context ids. */
    private String contextText = "";
    /** Index in {@code window} of the id since which the text ends in U+FFFD, or -1. */
    private int incompleteSince = -1;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the newly completed text, or "" while characters are still incomplete. */
    public String next(int id) {
        window = Arrays.copyOf(window, window.length + 1);
        window[window.length - 1] = id;
        String text = tokenizer.decode(window, skipSpecialTokens);
        if (!text.endsWith("\uFFFD")) {
            incompleteSince = -1;
        } else if (incompleteSince < 0) {
            incompleteSince = window.length - 1;
        }
        boolean incomplete = incompleteSince >= 0 && window.length - incompleteSince < MAX_HELD_BACK;
        if (text.length() <= contextText.length() || incomplete) {
            return "";
        }
        return emit(text);
    }

    /** Emits whatever is held back (at the end of generation), even an incomplete character. */
    public String flush() {
        if (window.length == contextLength) {
            return "";
        }
        String text = tokenizer.decode(window, skipSpecialTokens);
        return text.length() > contextText.length() ? emit(text) : "";
    }

    private String emit(String text) {
        // The window's text normally extends the context's text; if a decoder rewrote the context
        // (it should not), emit only what follows the common prefix rather than repeating text.
        int common = text.startsWith(contextText) ? contextText.length() : commonPrefixLength(text, contextText);
        String added = text.substring(common);
        // The ids just emitted become the next window's left context.
        window = Arrays.copyOfRange(window, contextLength, window.length);
        contextLength = window.length;
        contextText = tokenizer.decode(window, skipSpecialTokens);
        incompleteSince = -1;
        return added;
    }

    private static int commonPrefixLength(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }
}
