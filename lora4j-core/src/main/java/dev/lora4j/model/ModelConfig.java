package dev.lora4j.model;

import java.nio.file.Path;
import java.util.List;

/**
 * The architecture hyper-parameters of a decoder-only transformer, read from a Hugging Face
 * {@code config.json}. Field names differ between families (GPT-2 says {@code n_embd}, Llama says
 * {@code hidden_size}); each {@link Architecture} maps its names onto this one record.
 *
 * @param source            the file it was read from, for error messages
 * @param modelType         {@code model_type}, which selects the {@link Architecture}
 * @param headDim           per-head width: {@code head_dim}, or hidden / heads when absent
 * @param numKvHeads        key/value heads (grouped-query attention); equals numHeads when absent
 * @param intermediateSize  MLP width (GPT-2: {@code n_inner}, default 4 × hidden)
 * @param maxPositions      {@code max_position_embeddings} / {@code n_positions}
 * @param normEps           {@code rms_norm_eps} or {@code layer_norm_epsilon}
 * @param hiddenAct         MLP activation ("silu", "gelu_new", ...)
 * @param qkvBias           bias on the q, k and v projections (Llama attention_bias, always for Qwen2)
 * @param outputBias        bias on the attention output projection (Llama attention_bias only)
 * @param mlpBias           bias on the MLP projections
 * @param rope              rotary embedding, or null for learned absolute positions (GPT-2)
 * @param slidingWindow     attention window, or null when every token sees the whole prefix
 * @param padTokenId        the token embedding's {@code padding_idx} ({@code pad_token_id} of the Llama
 *                          family; GPT-2 has none), or null: PyTorch gives that row no gradient
 */
public record ModelConfig(String source, String modelType, int vocabSize, int hiddenSize, int numLayers,
                          int numHeads, int numKvHeads, int headDim, int intermediateSize, int maxPositions,
                          double normEps, String hiddenAct, boolean tieWordEmbeddings, boolean qkvBias,
                          boolean outputBias, boolean mlpBias, RopeConfig rope, Integer slidingWindow,
                          Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        if (numHeads % numKvHeads != 0) {
            throw new ConfigException(source + ": num_attention_heads (" + numHeads
                    + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (rope != null && (rope.rotaryDim(headDim) < 2 || rope.rotaryDim(headDim) % 2 != 0)) {
            throw new ConfigException(source + ": rotary dimension " + rope.rotaryDim(headDim) + " of head_dim " + headDim
                    + " must be even and at least 2");
        }
    }

    /** Reads {@code config.json} (or any file with its content) and parses it for its model_type. */
    public static ModelConfig load(Path configFile) {
        return parse(ConfigReader.read(configFile));
    }

    /** Parses JSON text; {@code source} names it in error messages. */
    public static ModelConfig parse(String json, String source) {
        return parse(ConfigReader.parse(json, source));
    }

    private static ModelConfig parse(ConfigReader reader) {
        String type = reader.requireString("model_type");
        return Architectures.forModelType(type, reader.source()).parseConfig(reader);
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
