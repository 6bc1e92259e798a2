package dev.lora4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import dev.lora4j.tokenizer.Tokenizer;

/**
 * Reads training data from JSON Lines: one object per line, either {@code {"input_ids": [...]}}
 * (every token after the first is a target) or {@code {"prompt": [...], "completion": [...]}} as
 * token ids (loss only on the completion). Blank lines are skipped. Errors name the file, the line
 * and what was expected.
 */
public final class JsonlDataset {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonlDataset() {}

    public static List<Example> read(Path file, int vocabSize) throws IOException {
        return read(file, vocabSize, null);
    }

    /**
     * As {@link #read(Path, int)}, also accepting text: {@code {"text": "..."}} lines, and
     * {@code prompt}/{@code completion} given as strings. Text is tokenized with {@code tokenizer}
     * (BOS added when the tokenizer has one; an EOS closes each completion).
     */
    public static List<Example> read(Path file, int vocabSize, Tokenizer tokenizer) throws IOException {
        return read(file, vocabSize, tokenizer, null);
    }

    /**
     * As above, also accepting chat lines {@code {"messages": [{"role": ..., "content": ...}, ...]}},
     * rendered with {@code chat} (the model's chat template) and trained on the assistant turns only.
     */
    public static List<Example> read(Path file, int vocabSize, Tokenizer tokenizer, ChatRenderer chat)
            throws IOException {
        return read(file, vocabSize, () -> tokenizer, chat);
    }

    /**
     * As above with the tokenizer loaded only when a line needs it, so token-id data works beside a
     * tokenizer that cannot be loaded (or none).
     */
    public static List<Example> read(Path file, int vocabSize, java.util.function.Supplier<Tokenizer> tokenizerSource,
                                     ChatRenderer chat) throws IOException {
        Tokenizer[] loaded = new Tokenizer[1];
        boolean[] tried = new boolean[1];
        java.util.function.Supplier<Tokenizer> lazy = () -> {
            if (!tried[0]) {
                tried[0] = true;
                loaded[0] = tokenizerSource.get();
            }
            return loaded[0];
        };
        List<Example> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(parse(file, lineNo, line, vocabSize, lazy, chat));
            }
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": data file not found");
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": no examples (expected JSON lines with \"input_ids\" or \"prompt\"+\"completion\")");
        }
        return out;
    }

    static Example parse(Path file, int lineNo, String line, int vocabSize, java.util.function.Supplier<Tokenizer> tokenizers,
                         ChatRenderer chat) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            throw new IOException(file + ":" + lineNo + ": not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IOException(file + ":" + lineNo + ": expected a JSON object");
        }
        if (node.has("input_ids")) {
            int[] ids = ids(file, lineNo, node.get("input_ids"), "input_ids", vocabSize);
            if (ids.length < 2) {
                throw new IOException(file + ":" + lineNo + ": \"input_ids\" needs at least 2 tokens to predict one");
            }
            return Example.allTokens(ids);
        }
        boolean needsText = node.has("messages") || node.has("text") || node.path("prompt").isTextual();
        Tokenizer tokenizer = needsText && !node.has("input_ids") ? tokenizers.get() : null;
        if (node.has("messages") && tokenizer != null && chat != null) {
            List<ChatRenderer.Message> messages = new ArrayList<>();
            JsonNode arr = node.get("messages");
            if (!arr.isArray()) {
                throw new IOException(file + ":" + lineNo + ": \"messages\" must be an array of {role, content}");
            }
            for (JsonNode m : arr) {
                if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                    throw new IOException(file + ":" + lineNo + ": every message needs string \"role\" and \"content\"");
                }
                messages.add(new ChatRenderer.Message(m.get("role").asText(), m.get("content").asText()));
            }
            try {
                Example e = ChatExamples.of(messages, chat, tokenizer);
                checkVocab(file, lineNo, e.ids(), vocabSize);
                return e;
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ":" + lineNo + ": " + e.getMessage(), e);
            }
        }
        if (node.has("messages")) {
            throw new IOException(file + ":" + lineNo + ": chat \"messages\" need the model's chat template "
                    + "(chat_template in tokenizer_config.json) and tokenizer; none was found beside the model");
        }
        if (node.has("text") && tokenizer != null) {
            int[] ids = tokenizer.encode(node.get("text").asText(), true);
            if (ids.length < 2) {
                throw new IOException(file + ":" + lineNo + ": \"text\" is too short to predict a token");
            }
            checkVocab(file, lineNo, ids, vocabSize);
            return Example.allTokens(ids);
        }
        if (node.path("prompt").isTextual() && node.path("completion").isTextual() && tokenizer != null) {
            int[] prompt = tokenizer.encode(node.get("prompt").asText(), true);
            int[] completion = tokenizer.encode(node.get("completion").asText(), false);
            if (tokenizer.eosId().isPresent()) {
                completion = java.util.Arrays.copyOf(completion, completion.length + 1);
                completion[completion.length - 1] = tokenizer.eosId().getAsInt();
            }
            checkVocab(file, lineNo, prompt, vocabSize);
            checkVocab(file, lineNo, completion, vocabSize);
            return Example.promptCompletion(prompt, completion);
        }
        if (node.has("prompt") && node.has("completion")) {
            int[] prompt = ids(file, lineNo, node.get("prompt"), "prompt", vocabSize);
            int[] completion = ids(file, lineNo, node.get("completion"), "completion", vocabSize);
            if (completion.length == 0) {
                throw new IOException(file + ":" + lineNo + ": \"completion\" is empty");
            }
            return Example.promptCompletion(prompt, completion);
        }
        if (node.has("text")) {
            throw new IOException(file + ":" + lineNo + ": text data needs a tokenizer, and none was found beside the "
                    + "model (tokenizer.json or a llama2.c tok*.bin); give token ids as \"input_ids\" instead");
        }
        throw new IOException(file + ":" + lineNo + ": expected \"input_ids\", or \"prompt\" and \"completion\"; found "
                + fieldNames(node));
    }

    private static int[] ids(Path file, int lineNo, JsonNode arr, String field, int vocabSize) throws IOException {
        if (arr == null || !arr.isArray()) {
            throw new IOException(file + ":" + lineNo + ": \"" + field + "\" must be an array of token ids");
        }
        int[] ids = new int[arr.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = arr.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber()) {
                throw new IOException(file + ":" + lineNo + ": \"" + field + "\"[" + i + "] is not an integer: " + v);
            }
            ids[i] = v.asInt();
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IOException(file + ":" + lineNo + ": \"" + field + "\"[" + i + "] = " + ids[i]
                        + " is outside the model's vocabulary [0, " + vocabSize + ")");
            }
        }
        return ids;
    }

    private static void checkVocab(Path file, int lineNo, int[] ids, int vocabSize) throws IOException {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IOException(file + ":" + lineNo + ": token " + i + " has id " + ids[i]
                        + ", outside the model's vocabulary [0, " + vocabSize + ") (tokenizer and model disagree)");
            }
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
