package dev.lora4j.classify;

import dev.lora4j.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** What is trained on top of a {@link TextClassifier}: LoRA adapters or every linear layer, plus the head. */
public interface Tuning {
    /** "lora" or "full". */
    String method();

    TextClassifier classifier();

    /** Every trainable tensor (the optimizer's parameter list). */
    List<Parameter> parameters();

    default long trainableParameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.size();
        }
        return n;
    }

    /** Writes what was trained into {@code dir} so {@link ClassifierFiles#open} gives the same classifier. */
    void save(Path dir) throws IOException;

    /** Training mode (LoRA dropout on) for optimizer step {@code step}, or inference mode. */
    default void setTraining(boolean training, long seed, long step) {}
}
