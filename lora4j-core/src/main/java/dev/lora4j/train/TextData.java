package dev.lora4j.train;

import dev.lora4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Plain-text corpora ({@code .txt}): the whole file is tokenized once and cut into consecutive
 * windows of {@code seqLen} tokens, each starting with the tokenizer's BOS when it has one (so each
 * window looks like the start of a document to the model).
 */
public final class TextData {
    private TextData() {}

    public static List<Example> windows(Path file, Tokenizer tokenizer, int seqLen) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": data file not found");
        }
        int[] ids = encodeByParagraph(tokenizer, text);
        int bos = tokenizer.bosId().orElse(-1);
        int body = bos >= 0 ? seqLen - 1 : seqLen;
        List<Example> out = new ArrayList<>();
        for (int start = 0; start + 1 < ids.length; start += body) {
            int n = Math.min(body, ids.length - start);
            if (n < 2 && !out.isEmpty()) {
                break;
            }
            int[] w = new int[n + (bos >= 0 ? 1 : 0)];
            int o = 0;
            if (bos >= 0) {
                w[o++] = bos;
            }
            System.arraycopy(ids, start, w, o, n);
            out.add(Example.allTokens(w));
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": too little text to make a training sequence");
        }
        return out;
    }

    /**
     * Tokenizes paragraph by paragraph (pieces ending at a blank line) and concatenates: BPE cost
     * grows faster than linearly with the length of one piece, and no merge crosses a blank line in
     * practice, so the result is the same tokens at a fraction of the cost.
     */
    static int[] encodeByParagraph(Tokenizer tokenizer, String text) {
        IntArray out = new IntArray();
        int start = 0;
        while (start < text.length()) {
            int blank = text.indexOf("\n\n", start);
            int end = blank < 0 ? text.length() : blank + 2;
            out.addAll(tokenizer.encode(text.substring(start, end), false));
            start = end;
        }
        return out.toArray();
    }

    private static final class IntArray {
        private int[] data = new int[1024];
        private int size;

        void addAll(int[] values) {
            if (size + values.length > data.length) {
                data = java.util.Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
            }
            System.arraycopy(values, 0, data, size, values.length);
            size += values.length;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }

    /** The tokenizer stored with a model: tokenizer.json, or a llama2.c tokenizer (*.bin other than weights). */
    public static Tokenizer modelTokenizer(Path modelDir) throws IOException {
        if (Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            return Tokenizer.fromFile(modelDir.resolve("tokenizer.json"));
        }
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith("tok") && name.endsWith(".bin")) {
                    return Tokenizer.fromFile(p);
                }
            }
        }
        return null;
    }
}
