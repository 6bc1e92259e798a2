package dev.lora4j.generate;

import dev.lora4j.tokenizer.StreamingDecoder;
import dev.lora4j.tokenizer.Tokenizer;
import java.util.List;

/**
 * One sequence's generated text as it grows: decodes ids into complete characters, finds stop
 * strings in the text (wherever token boundaries fall), and releases only text that cannot be part
 * of a stop string still to be completed.
 */
public final class TextStream {
    private final StreamingDecoder decoder;
    private final List<String> stopStrings;
    private final StringBuilder text = new StringBuilder();
    private int released;
    private boolean stopped;

    /**
     * The prompt primes the decoder as left context without becoming output: how the first
     * generated token reads depends on what precedes it (SentencePiece-style decoders drop the
     * leading space of the text's first word, llama2.c's after BOS; a byte token may complete a
     * character the prompt began).
     */
    public TextStream(Tokenizer tokenizer, int[] prompt, List<String> stopStrings) {
        this.decoder = tokenizer.streamingDecoder(true);
        this.stopStrings = stopStrings;
        for (int id : prompt) {
            decoder.next(id);
        }
    }

    /** Adds a generated id; returns the text that can be released now ("" if none). */
    public String add(int id) {
        return append(decoder.next(id), false);
    }

    /** End of generation: whatever was held back, up to a stop string. */
    public String finish() {
        return stopped ? "" : append(decoder.flush(), true);
    }

    /** Whether the text now contains a stop string. */
    public boolean stopped() {
        return stopped;
    }

    /** The final text: everything released. */
    public String text() {
        return text.substring(0, released);
    }

    private String append(String piece, boolean end) {
        text.append(piece);
        int stopAt = firstStop();
        int releaseTo;
        if (stopAt >= 0) {
            stopped = true;
            releaseTo = stopAt;
        } else {
            releaseTo = end ? text.length() : text.length() - heldBack();
        }
        String out = text.substring(released, Math.max(released, releaseTo));
        released = Math.max(released, releaseTo);
        return out;
    }

    /** Where the first stop string starts, or −1. Released text holds none, so a match ends after it. */
    private int firstStop() {
        int first = -1;
        for (String s : stopStrings) {
            int from = Math.max(0, released - s.length() + 1);
            int at = text.indexOf(s, from);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /** Length of the longest unreleased suffix that begins some stop string. */
    private int heldBack() {
        int longest = 0;
        int unreleased = text.length() - released;
        for (String s : stopStrings) {
            for (int n = Math.min(s.length() - 1, unreleased); n > longest; n--) {
                if (endsWithPrefix(s, n)) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    /** Whether the text ends with the first n characters of s. */
    private boolean endsWithPrefix(String s, int n) {
        int start = text.length() - n;
        for (int i = 0; i < n; i++) {
            if (text.charAt(start + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
