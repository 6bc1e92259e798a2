package dev.lora4j.model.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.model.ConfigException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads JSONL files whose lines are {@code {"input_ids": [int, ...]}}; blank lines are skipped. */
public final class TokenJsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenJsonl() {}

    /** Every line's token ids; errors name the file and the 1-based line. */
    public static List<int[]> read(Path file) throws IOException {
        return read(file, Integer.MAX_VALUE);
    }

    /** As {@link #read(Path)}, and every id must be below {@code vocabSize}. */
    public static List<int[]> read(Path file, int vocabSize) throws IOException {
        List<int[]> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(parseLine(file, number, line, vocabSize));
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": file not found");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new ConfigException(file + ": not UTF-8 text");
        }
        return out;
    }

    private static int[] parseLine(Path file, int number, String line, int vocabSize) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            throw new ConfigException(file + ":" + number + ": malformed JSON");
        }
        if (node == null || !node.isObject()) {
            throw new ConfigException(file + ":" + number + ": expected a JSON object like {\"input_ids\": [...]}");
        }
        JsonNode ids = node.get("input_ids");
        if (ids == null) {
            String hint = node.has("text") ? " (\"text\" lines need a tokenizer, which eval does not take yet)" : "";
            throw new ConfigException(file + ":" + number + ": missing field 'input_ids'" + hint);
        }
        if (!ids.isArray()) {
            throw new ConfigException(file + ":" + number + ": field 'input_ids' must be a list of token ids");
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = ids.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                throw new ConfigException(file + ":" + number + ": input_ids[" + i + "] = " + v
                        + " is not a non-negative integer token id");
            }
            out[i] = v.intValue();
            if (out[i] >= vocabSize) {
                throw new ConfigException(file + ":" + number + ": token id " + out[i] + " at index " + i
                        + " is outside the model's vocabulary of " + vocabSize);
            }
        }
        return out;
    }
}
