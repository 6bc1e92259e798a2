package dev.lora4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding. A word starts as one symbol per character (characters missing from the
 * vocabulary become byte tokens "<0xNN>" with byte_fallback, else the unknown token, consecutive
 * unknowns fused into one with fuse_unk). Then, repeatedly, the adjacent pair with the best
 * (lowest) merge rank is merged, the leftmost one on ties, until no adjacent pair has a merge.
 * With ignore_merges, a word that is itself in the vocabulary is taken whole (Llama 3).
 */
final class BpeModel implements TokenModel {
    private final Map<String, Integer> vocab;
    /** (left id, right id) packed in a long, to (rank, merged id) packed in a long. */
    private final Map<Long, Long> merges;
    private final Integer unkId;
    private final String continuationPrefix;
    private final String endOfWordSuffix;
    private final boolean fuseUnknown;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    /** Word to ids, since natural text repeats words; cleared when it grows past CACHE_LIMIT. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 100_000;
    /** Words longer than this are not cached (e.g. a whole text in one SentencePiece-style word). */
    private static final int CACHED_WORD_MAX_LENGTH = 256;

    private BpeModel(Map<String, Integer> vocab, Map<Long, Long> merges, Integer unkId, String continuationPrefix,
                     String endOfWordSuffix, boolean fuseUnknown, boolean byteFallback, boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.continuationPrefix = continuationPrefix;
        this.endOfWordSuffix = endOfWordSuffix;
        this.fuseUnknown = fuseUnknown;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
    }

    static BpeModel fromJson(JsonFields json) {
        Map<String, Integer> vocab = TokenModel.readVocab(json);
        if (json.has("dropout") && json.get("dropout").asDouble() > 0) {
            throw json.error("has dropout " + json.get("dropout") + "; BPE dropout (random merges) is not supported");
        }
        String prefix = json.text("continuing_subword_prefix", null);
        Map<Long, Long> merges = new HashMap<>();
        JsonNode list = json.get("merges");
        for (int rank = 0; rank < list.size(); rank++) {
            String[] pair = mergePair(json, list.get(rank), rank);
            int left = idOf(json, vocab, pair[0], rank);
            int right = idOf(json, vocab, pair[1], rank);
            String rightPart = prefix != null && pair[1].startsWith(prefix) ? pair[1].substring(prefix.length()) : pair[1];
            int merged = idOf(json, vocab, pair[0] + rightPart, rank);
            merges.put(pack(left, right), pack(rank, merged));
        }
        Integer unkId = null;
        if (json.has("unk_token")) {
            unkId = vocab.get(json.text("unk_token"));
            if (unkId == null) {
                throw json.error("unk_token \"" + json.text("unk_token") + "\" is not in the vocabulary");
            }
        }
        return new BpeModel(vocab, merges, unkId, prefix, json.text("end_of_word_suffix", null),
                json.bool("fuse_unk", false), json.bool("byte_fallback", false), json.bool("ignore_merges", false));
    }

    /** A merge is written either "left right" (older files, GPT-2) or ["left", "right"]. */
    private static String[] mergePair(JsonFields json, JsonNode merge, int rank) {
        if (merge.isTextual()) {
            String[] parts = merge.asText().split(" ", -1);
            if (parts.length != 2) {
                throw json.error("merge " + rank + " \"" + merge.asText() + "\" should be two tokens separated by one space");
            }
            return parts;
        }
        if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual() && merge.get(1).isTextual()) {
            return new String[] {merge.get(0).asText(), merge.get(1).asText()};
        }
        throw json.error("merge " + rank + " should be \"a b\" or [\"a\", \"b\"] but is " + merge);
    }

    private static int idOf(JsonFields json, Map<String, Integer> vocab, String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw json.error("merge " + rank + " uses or makes \"" + token + "\", which is not in the vocabulary");
        }
        return id;
    }

    private static long pack(int high, int low) {
        return ((long) high << 32) | (low & 0xFFFFFFFFL);
    }

    @Override
    public Map<String, Integer> vocab() {
        return vocab;
    }

    @Override
    public void tokenize(String word, IdBuffer out) {
        if (word.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = mergeAll(initialSymbols(word).toArray());
            if (word.length() <= CACHED_WORD_MAX_LENGTH) {
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, cached);
            }
        }
        out.addAll(cached);
    }

    /** One symbol per character, with byte fallback and unknown-token handling. */
    private IdBuffer initialSymbols(String word) {
        IdBuffer symbols = new IdBuffer();
        boolean unknownPending = false;
        for (int i = 0; i < word.length(); ) {
            int next = i + Character.charCount(word.codePointAt(i));
            String c = word.substring(i, next);
            if (i > 0 && continuationPrefix != null) {
                c = continuationPrefix + c;
            }
            if (next == word.length() && endOfWordSuffix != null) {
                c = c + endOfWordSuffix;
            }
            i = next;
            Integer id = vocab.get(c);
            if (id != null) {
                if (unknownPending) {
                    symbols.add(unkId);
                    unknownPending = false;
                }
                symbols.add(id);
                continue;
            }
            if (byteFallback) {
                int[] bytes = byteTokens(c);
                if (bytes != null) {
                    // As in Hugging Face, a pending unknown is not flushed before the byte tokens.
                    symbols.addAll(bytes);
                    continue;
                }
            }
            if (unkId != null) {
                if (unknownPending && !fuseUnknown) {
                    symbols.add(unkId);
                }
                unknownPending = true;
            }
            // Without an unknown token, a character missing from the vocabulary is dropped, as in Hugging Face.
        }
        if (unknownPending) {
            symbols.add(unkId);
        }
        return symbols;
    }

    /** The "<0xNN>" tokens of the UTF-8 bytes of {@code c}, or null if any is missing from the vocabulary. */
    private int[] byteTokens(String c) {
        byte[] bytes = c.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int k = 0; k < bytes.length; k++) {
            Integer id = vocab.get(String.format("<0x%02X>", bytes[k] & 0xFF));
            if (id == null) {
                return null;
            }
            ids[k] = id;
        }
        return ids;
    }

    /**
     * Applies merges best rank first, leftmost on ties, over a linked list of symbols. The queue may
     * hold stale entries (a side of the pair was merged since); those are recognised and skipped.
     */
    private int[] mergeAll(int[] ids) {
        int n = ids.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Entries are (rank << 32 | position): ordering by the long orders by rank, then position.
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            Long m = merges.get(pack(ids[i], ids[i + 1]));
            if (m != null) {
                queue.add(pack((int) (m >>> 32), i));
            }
        }
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (removed[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            Long m = merges.get(pack(ids[pos], ids[right]));
            if (m == null || (int) (m >>> 32) != rank) {
                continue; // stale: this pair changed since the entry was queued
            }
            ids[pos] = (int) (long) m;
            removed[right] = true;
            next[pos] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                Long before = merges.get(pack(ids[prev[pos]], ids[pos]));
                if (before != null) {
                    queue.add(pack((int) (before >>> 32), prev[pos]));
                }
            }
            if (next[pos] >= 0) {
                Long after = merges.get(pack(ids[pos], ids[next[pos]]));
                if (after != null) {
                    queue.add(pack((int) (after >>> 32), pos));
                }
            }
        }
        IdBuffer out = new IdBuffer();
        for (int i = 0; i >= 0 && i < n; i = next[i]) {
            out.add(ids[i]);
        }
        return out.toArray();
    }
}
