package dev.lora4j.model;

/**
 * One model family: how to read its {@code config.json} fields, and how to build the model from
 * named weights. Registered by {@code model_type} in {@link Architectures}.
 */
public interface Architecture {
    /** The {@code model_type} values this architecture runs. */
    java.util.List<String> modelTypes();

    ModelConfig parseConfig(ConfigReader config);

    /** Builds the model over {@code weights}; the weights are used in place, never copied. */
    CausalLM build(ModelConfig config, ModelWeights weights);
}
