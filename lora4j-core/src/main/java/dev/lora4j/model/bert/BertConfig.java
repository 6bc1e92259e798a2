package dev.lora4j.model.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.model.ConfigException;
import dev.lora4j.model.ConfigReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The hyper-parameters of a BERT-family encoder, read from a Hugging Face {@code config.json}
 * ({@code model_type} "bert" or "roberta").
 *
 * @param source          the file it was read from, for error messages
 * @param modelType       "bert" or "roberta"
 * @param typeVocabSize   token types (segments); RoBERTa checkpoints usually have 1
 * @param layerNormEps    {@code layer_norm_eps}, BERT's default 1e-12
 * @param hiddenAct       "gelu" (exact, erf) or one of the tanh approximations
 * @param padTokenId      {@code pad_token_id}; RoBERTa counts positions from it (padding_idx)
 * @param labels          the class names by index ({@code id2label}, or LABEL_0.. from {@code num_labels})
 */
public record BertConfig(String source, String modelType, int vocabSize, int hiddenSize, int numLayers, int numHeads,
                         int intermediateSize, int maxPositions, int typeVocabSize, double layerNormEps,
                         String hiddenAct, int padTokenId, List<String> labels) {

    public BertConfig {
        labels = List.copyOf(labels);
        if (hiddenSize % numHeads != 0) {
            throw new ConfigException(source + ": hidden_size (" + hiddenSize
                    + ") must be a multiple of num_attention_heads (" + numHeads + ")");
        }
        if (!modelType.equals("bert") && !modelType.equals("roberta")) {
            throw new ConfigException(source + ": model_type '" + modelType + "' is not a BERT-family encoder");
        }
        if (modelType.equals("roberta") && maxPositions <= padTokenId + 1) {
            throw new ConfigException(source + ": max_position_embeddings (" + maxPositions
                    + ") leaves no position after padding_idx " + padTokenId);
        }
    }

    /** The {@code model_type} values this record describes. */
    public static final List<String> MODEL_TYPES = List.of("bert", "roberta");

    public boolean isRoberta() {
        return modelType.equals("roberta");
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int numLabels() {
        return labels.size();
    }

    /** Reads {@code config.json}. */
    public static BertConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": file not found");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses config JSON text; {@code source} names it in error messages. */
    public static BertConfig parse(String json, String source) {
        ConfigReader c = ConfigReader.parse(json, source);
        String type = c.requireString("model_type");
        if (!MODEL_TYPES.contains(type)) {
            throw c.invalid("model_type", "one of " + MODEL_TYPES, "'" + type + "'");
        }
        String positionType = c.optString("position_embedding_type", "absolute");
        if (!positionType.equals("absolute")) {
            throw c.invalid("position_embedding_type", "'absolute' (relative positions are not supported)",
                    "'" + positionType + "'");
        }
        if (c.optBoolean("is_decoder", false) || c.optBoolean("add_cross_attention", false)) {
            throw c.error(source + ": is_decoder / add_cross_attention: only encoders are supported");
        }
        String act = c.optString("hidden_act", "gelu");
        if (!List.of("gelu", "gelu_new", "gelu_pytorch_tanh").contains(act)) {
            throw c.invalid("hidden_act", "one of gelu, gelu_new, gelu_pytorch_tanh", "'" + act + "'");
        }
        boolean roberta = type.equals("roberta");
        return new BertConfig(source, type,
                c.requirePositiveInt("vocab_size"),
                c.requirePositiveInt("hidden_size"),
                c.requirePositiveInt("num_hidden_layers"),
                c.requirePositiveInt("num_attention_heads"),
                c.requirePositiveInt("intermediate_size"),
                c.optPositiveInt("max_position_embeddings", 512),
                c.optPositiveInt("type_vocab_size", 2),
                c.optPositiveDouble("layer_norm_eps", 1e-12),
                act,
                c.has("pad_token_id") ? c.requireInt("pad_token_id") : (roberta ? 1 : 0),
                labels(json, source, c));
    }

    /** id2label in index order; else num_labels generic names; else transformers' default of 2. */
    private static List<String> labels(String json, String source, ConfigReader c) {
        JsonNode id2label;
        try {
            id2label = new ObjectMapper().readTree(json).get("id2label");
        } catch (IOException e) {
            throw new ConfigException(source + ": malformed JSON", e);
        }
        if (id2label != null && id2label.isObject() && !id2label.isEmpty()) {
            Map<Integer, String> byIndex = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : id2label.properties()) {
                int index;
                try {
                    index = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw c.invalid("id2label", "integer keys", "'" + e.getKey() + "'");
                }
                byIndex.put(index, e.getValue().asText());
            }
            List<String> names = new ArrayList<>(byIndex.values());
            for (int i = 0; i < names.size(); i++) {
                if (!byIndex.containsKey(i)) {
                    throw c.invalid("id2label", "keys 0.." + (names.size() - 1), byIndex.keySet().toString());
                }
            }
            return names;
        }
        int n = c.optPositiveInt("num_labels", 2);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("LABEL_" + i);
        }
        return names;
    }

    /** The same architecture with other class labels (a fresh classification head). */
    public BertConfig withLabels(List<String> newLabels) {
        return new BertConfig(source, modelType, vocabSize, hiddenSize, numLayers, numHeads, intermediateSize,
                maxPositions, typeVocabSize, layerNormEps, hiddenAct, padTokenId, newLabels);
    }
}
