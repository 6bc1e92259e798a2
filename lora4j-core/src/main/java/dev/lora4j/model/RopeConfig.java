package dev.lora4j.model;

/**
 * Rotary position embedding parameters, and the inverse frequencies derived from them exactly as
 * transformers computes them (in float32, operation by operation, so the tables agree to the last
 * bit or within an ulp of {@code pow}).
 *
 * <p>Two config styles describe the same thing: transformers 4.x writes {@code rope_theta} at the
 * top level and an optional {@code rope_scaling} object ({@code rope_type} or the older {@code type});
 * transformers 5.x writes one {@code rope_parameters} object that holds {@code rope_theta} too.
 * Supported types: {@code default}, {@code linear} (position interpolation: frequencies divided by
 * {@code factor}) and {@code llama3} (Llama 3.1's frequency-dependent scaling).
 *
 * @param type                 "default", "linear" or "llama3"
 * @param theta                base of the geometric frequency sequence
 * @param factor               scaling factor (linear, llama3); 1 for default
 * @param lowFreqFactor        llama3 only
 * @param highFreqFactor       llama3 only
 * @param originalMaxPositions llama3 only: the pre-training context length
 * @param partialRotaryFactor  fraction of each head's dimensions that is rotated (1 for Llama)
 */
public record RopeConfig(String type, double theta, double factor, double lowFreqFactor, double highFreqFactor,
                         int originalMaxPositions, double partialRotaryFactor) {

    public static RopeConfig defaultRope(double theta) {
        return new RopeConfig("default", theta, 1, 0, 0, 0, 1);
    }

    /**
     * Reads either config style from a Llama-family config.
     *
     * @param defaultTheta theta when the config gives none (transformers' default for the family)
     */
    public static RopeConfig parse(ConfigReader config, double defaultTheta) {
        int maxPositions = config.optPositiveInt("max_position_embeddings", 0);
        ConfigReader params = config.objectOrNull("rope_parameters");
        if (params == null) {
            params = config.objectOrNull("rope_scaling");  // transformers 4.x; null means plain RoPE
        }
        double topTheta = config.optPositiveDouble("rope_theta", defaultTheta);
        double topPartial = config.optPositiveDouble("partial_rotary_factor", 1.0);
        if (params == null) {
            return new RopeConfig("default", topTheta, 1, 0, 0, 0, checkPartial(config, "partial_rotary_factor", topPartial));
        }
        if (params.has("full_attention") || params.has("sliding_attention")) {
            throw config.error("per-layer-type rope parameters are not supported");
        }
        String type = params.optString("rope_type", params.optString("type", "default"));
        double theta = params.optPositiveDouble("rope_theta", topTheta);
        double partial = checkPartial(params, "partial_rotary_factor", params.optPositiveDouble("partial_rotary_factor", topPartial));
        return switch (type) {
            case "default" -> new RopeConfig("default", theta, 1, 0, 0, 0, partial);
            case "linear" -> new RopeConfig("linear", theta, params.requirePositiveDouble("factor"), 0, 0, 0, partial);
            case "llama3" -> {
                double low = params.requirePositiveDouble("low_freq_factor");
                double high = params.requirePositiveDouble("high_freq_factor");
                if (!(high > low)) {
                    throw params.invalid("high_freq_factor", "greater than low_freq_factor (" + low + ")", Double.toString(high));
                }
                // transformers falls back to max_position_embeddings when the original length is not given
                int original = params.has("original_max_position_embeddings")
                        ? params.requirePositiveInt("original_max_position_embeddings")
                        : (maxPositions > 0 ? maxPositions : config.requirePositiveInt("max_position_embeddings"));
                yield new RopeConfig("llama3", theta, params.requirePositiveDouble("factor"), low, high, original, partial);
            }
            default -> throw params.invalid("rope_type", "one of default, linear, llama3 (the RoPE variants lora4j supports)",
                    "'" + type + "'");
        };
    }

    private static double checkPartial(ConfigReader reader, String field, double value) {
        if (value > 1.0) {
            throw reader.invalid(field, "at most 1", Double.toString(value));
        }
        return value;
    }

    /** Number of dimensions of each head that are rotated: int(headDim * partialRotaryFactor). */
    public int rotaryDim(int headDim) {
        return (int) (headDim * partialRotaryFactor);
    }

    /** The factor transformers multiplies cos and sin by; 1 for every type supported here. */
    public float attentionScaling() {
        return 1.0f;
    }

    /**
     * inv_freq[i] = 1 / theta^(2i/dim) for i in [0, dim/2), then the type's scaling. Every step is
     * rounded to float32 as PyTorch does: the exponent, the power, the quotient.
     */
    public float[] inverseFrequencies(int headDim) {
        int dim = rotaryDim(headDim);
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            float power = (float) Math.pow((float) theta, exponent);
            inv[i] = 1.0f / power;
        }
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = inv[i] / (float) factor;
                }
            }
            case "llama3" -> scaleLlama3(inv);
            default -> { }
        }
        return inv;
    }

    /**
     * Llama 3.1: wavelengths shorter than originalMax/highFreqFactor keep their frequency, those longer
     * than originalMax/lowFreqFactor are slowed down by {@code factor}, and the band between is a
     * linear blend of the two, weighted by how many wavelengths fit in the original context.
     */
    private void scaleLlama3(float[] inv) {
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        float twoPi = (float) (2 * Math.PI);
        float f = (float) factor;
        for (int i = 0; i < inv.length; i++) {
            float wavelen = twoPi / inv[i];
            float scaled = wavelen > (float) lowFreqWavelen ? inv[i] / f : inv[i];
            boolean medium = !(wavelen < (float) highFreqWavelen) && !(wavelen > (float) lowFreqWavelen);
            if (medium) {
                float smooth = ((float) originalMaxPositions / wavelen - (float) lowFreqFactor)
                        / (float) (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * scaled / f + smooth * scaled;
            }
            inv[i] = scaled;
        }
    }
}
