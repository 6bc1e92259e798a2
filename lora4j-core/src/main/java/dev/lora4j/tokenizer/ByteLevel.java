package dev.lora4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * GPT-2's byte-level alphabet: every byte of the UTF-8 text is written as one printable character,
 * so that BPE works on bytes while vocabularies stay valid strings. Printable Latin-1 bytes stand
 * for themselves; the other 68 bytes (controls, space, ...) map to U+0100 upwards, in byte order
 * (space becomes 'Ġ', newline 'Ċ').
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The byte-level spelling of {@code text}'s UTF-8 bytes. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * Decodes byte-level tokens to text. A token with a character outside the alphabet (an added
     * token such as "<|im_start|>" spelled with ordinary characters would be inside it, but e.g. a
     * CJK added token is not) contributes its own UTF-8 bytes, as Hugging Face's ByteLevel decoder does.
     * Invalid UTF-8 becomes U+FFFD.
     */
    static String decode(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String token : tokens) {
            byte[] own = bytesOf(token);
            bytes.writeBytes(own != null ? own : token.getBytes(StandardCharsets.UTF_8));
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    /** The bytes a token spells, or null if it has a character outside the byte-level alphabet. */
    private static byte[] bytesOf(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
