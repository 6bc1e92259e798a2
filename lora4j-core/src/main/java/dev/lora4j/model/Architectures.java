package dev.lora4j.model;

import dev.lora4j.model.gpt2.Gpt2Architecture;
import dev.lora4j.model.llama.LlamaArchitecture;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry from {@code model_type} to {@link Architecture}. */
public final class Architectures {
    private static final Map<String, Architecture> BY_TYPE = new LinkedHashMap<>();

    static {
        register(new LlamaArchitecture());
        register(new Gpt2Architecture());
    }

    private Architectures() {}

    private static void register(Architecture architecture) {
        for (String type : architecture.modelTypes()) {
            BY_TYPE.put(type, architecture);
        }
    }

    /** The architecture for {@code modelType}; the error names {@code source} and the supported types. */
    public static Architecture forModelType(String modelType, String source) {
        Architecture a = BY_TYPE.get(modelType);
        if (a == null) {
            throw new ConfigException(source + ": unknown model_type '" + modelType + "' (supported: "
                    + String.join(", ", supportedModelTypes()) + ")");
        }
        return a;
    }

    public static List<String> supportedModelTypes() {
        return List.copyOf(BY_TYPE.keySet());
    }
}
