package dev.lora4j.lora;

/**
 * What target matching needs to know of one module of a model: its dotted path as in the Hugging
 * Face module tree (e.g. {@code model.layers.0.self_attn.q_proj}), what kind of layer it is, and
 * whether it is the output head ({@code lm_head}, a classifier), which {@code all-linear} leaves out.
 */
public record ModuleInfo(String path, Kind kind, boolean outputHead) {
    public enum Kind {
        LINEAR,
        EMBEDDING,
        OTHER
    }

    public static ModuleInfo linear(String path) {
        return new ModuleInfo(path, Kind.LINEAR, false);
    }
}
