package dev.lora4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;

/**
 * llama2.c's tokenizer ({@code tokenizer.bin}, {@code tok512.bin}), with llama2.c's own encode and
 * decode rules (a SentencePiece BPE exported with scores, not a Hugging Face pipeline).
 *
 * <p>File format (little-endian): int max_token_length, then per token: float score, int length,
 * that many bytes. Ids 0, 1, 2 are &lt;unk&gt;, BOS and EOS; ids 3..258 are the byte tokens
 * "&lt;0x00&gt;".."&lt;0xFF&gt;"; word pieces spell spaces as ' ' (not '▁').
 *
 * <p>Encode: a space (the "dummy prefix") goes before non-empty text; each UTF-8 character is looked
 * up whole, falling back to one token per byte (id = byte + 3); then, repeatedly, the adjacent pair
 * whose concatenation is in the vocabulary with the highest score is merged (leftmost on ties).
 * Decode: a token's leading space is dropped right after BOS; "&lt;0xNN&gt;" tokens are raw bytes.
 */
public final class Llama2cTokenizer implements Tokenizer {
    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;

    private final byte[][] pieces;
    private final float[] scores;
    /** Pieces keyed by their bytes read as ISO-8859-1, which maps each byte to one char and back. */
    private final Map<String, Integer> idOfPiece = new HashMap<>();

    private Llama2cTokenizer(byte[][] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        for (int id = pieces.length - 1; id >= 0; id--) {
            idOfPiece.put(key(pieces[id]), id); // on duplicates the lowest id wins
        }
    }

    public static Llama2cTokenizer load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read llama2.c tokenizer " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) {
            throw new TokenizerFormatException(file, "too short for a llama2.c tokenizer (no max_token_length)");
        }
        int maxTokenLength = in.getInt();
        List<byte[]> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining()) {
            int id = pieces.size();
            if (in.remaining() < 8) {
                throw new TokenizerFormatException(file, "truncated at token " + id + " (expected float score, int length)");
            }
            float score = in.getFloat();
            int length = in.getInt();
            if (length < 0 || length > maxTokenLength || length > in.remaining()) {
                throw new TokenizerFormatException(file, "token " + id + " has length " + length
                        + " (max_token_length " + maxTokenLength + ", " + in.remaining() + " bytes left)");
            }
            byte[] piece = new byte[length];
            in.get(piece);
            pieces.add(piece);
            scores.add(score);
        }
        if (pieces.size() < 3 + 256) {
            throw new TokenizerFormatException(file, "has " + pieces.size()
                    + " tokens; a llama2.c tokenizer has at least <unk>, BOS, EOS and 256 byte tokens");
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new Llama2cTokenizer(pieces.toArray(byte[][]::new), s);
    }

    private static String key(byte[] piece) {
        return new String(piece, StandardCharsets.ISO_8859_1);
    }

    /** Encodes as llama2.c's {@code encode(text, bos=addSpecialTokens, eos=0)}. */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> tokens = new ArrayList<>();
        if (addSpecialTokens) {
            tokens.add(BOS);
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0) {
            Integer space = idOfPiece.get(" ");
            if (space == null) {
                throw new IllegalStateException("llama2.c tokenizer has no \" \" token for the dummy prefix");
            }
            tokens.add(space);
        }
        // One lookup per UTF-8 character: a start byte plus its continuation bytes (at most 4 bytes).
        int start = 0;
        while (start < utf8.length) {
            int end = start + 1;
            while (end < utf8.length && (utf8[end] & 0xC0) == 0x80 && end - start < 4) {
                end++;
            }
            Integer id = idOfPiece.get(new String(utf8, start, end - start, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tokens.add(id);
            } else {
                for (int k = start; k < end; k++) {
                    tokens.add((utf8[k] & 0xFF) + 3);
                }
            }
            start = end;
        }
        mergeBestPairs(tokens);
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Merges the adjacent pair whose concatenation has the highest score, until none is in the
     * vocabulary. llama2.c rescans all pairs per merge (quadratic); a heap ordered by score, then by
     * position, picks the same pair each time (the leftmost of the best), as entries for pairs that
     * changed since they were queued are recognised and skipped.
     */
    private void mergeBestPairs(List<Integer> tokens) {
        int n = tokens.size();
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Candidate: {position, merged id}; best score first, then leftmost position.
        PriorityQueue<int[]> queue = new PriorityQueue<>((a, b) -> {
            int byScore = Float.compare(scores[b[1]], scores[a[1]]);
            return byScore != 0 ? byScore : Integer.compare(a[0], b[0]);
        });
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, ids, i, i + 1);
        }
        while (!queue.isEmpty()) {
            int[] top = queue.poll();
            int pos = top[0];
            if (removed[pos] || next[pos] < 0 || mergedId(ids[pos], ids[next[pos]]) != top[1]) {
                continue; // stale: a side of this pair was merged since
            }
            if (scores[top[1]] <= -1e10f) {
                break; // llama2.c only merges pairs scoring above its starting best of -1e10
            }
            int right = next[pos];
            ids[pos] = top[1];
            removed[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                offer(queue, ids, prev[pos], pos);
            }
            if (next[pos] >= 0) {
                offer(queue, ids, pos, next[pos]);
            }
        }
        tokens.clear();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            tokens.add(ids[i]);
        }
    }

    private void offer(PriorityQueue<int[]> queue, int[] ids, int left, int right) {
        int merged = mergedId(ids[left], ids[right]);
        if (merged >= 0) {
            queue.add(new int[] {left, merged});
        }
    }

    /** The id of the concatenation of two tokens' pieces, or -1 if it is not in the vocabulary. */
    private int mergedId(int left, int right) {
        Integer id = idOfPiece.get(key(pieces[left]) + key(pieces[right]));
        return id == null ? -1 : id;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int previous = -1;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
            }
            if (!(skipSpecialTokens && isSpecial(id))) {
                out.writeBytes(pieceBytes(previous, id));
            }
            previous = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** llama2.c's {@code decode(prev_token, token)}. */
    private byte[] pieceBytes(int previous, int id) {
        byte[] piece = pieces[id];
        int from = previous == BOS && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        int rawByte = rawByte(piece);
        if (rawByte >= 0) {
            return new byte[] {(byte) rawByte};
        }
        return java.util.Arrays.copyOfRange(piece, from, piece.length);
    }

    /** The byte of a "<0xNN>" piece, or -1. */
    private static int rawByte(byte[] piece) {
        if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') {
            return -1;
        }
        int hi = Character.digit(piece[3], 16);
        int lo = Character.digit(piece[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = idOfPiece.get(key(token.getBytes(StandardCharsets.UTF_8)));
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Optional<String> token(int id) {
        return id >= 0 && id < pieces.length ? Optional.of(new String(pieces[id], StandardCharsets.UTF_8))
                : Optional.empty();
    }

    /** &lt;unk&gt;, BOS and EOS. */
    @Override
    public boolean isSpecial(int id) {
        return id == UNK || id == BOS || id == EOS;
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.of(BOS);
    }

    @Override
    public OptionalInt eosId() {
        return OptionalInt.of(EOS);
    }

    public float score(int id) {
        return scores[id];
    }
}
