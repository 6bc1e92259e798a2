package dev.lora4j.cli;

import dev.lora4j.warmup.JitWarmup;
import java.nio.file.Path;

/**
 * Starts the kernels' JIT warm-up ({@link JitWarmup}) for the commands whose first result waits on
 * the kernels (generate, chat, train), before picocli even parses the arguments: the warm-up then
 * overlaps the JVM's class loading, the tokenizer and the model mapping. The weight dtype is taken
 * from the {@code --model} directory's safetensors header so that the warm-up compiles the same
 * widening paths the real weights need. {@code -Dlora4j.warmup=false} turns it off.
 */
final class Warmup {
    /** Upper bound of a warm-up: long enough for C2 to compile every kernel on a busy 2-core machine. */
    private static final long MAX_MILLIS = Long.getLong("lora4j.warmup.maxMillis", 4000);

    private Warmup() {}

    static void startFor(String[] args) {
        if (args.length == 0 || !Boolean.parseBoolean(System.getProperty("lora4j.warmup", "true"))) {
            return;
        }
        JitWarmup.Workload workload = switch (args[0]) {
            case "generate", "chat" -> JitWarmup.Workload.GENERATE;
            case "train" -> JitWarmup.Workload.TRAIN;
            default -> null;
        };
        if (workload == null) {
            return;
        }
        Path model = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--model") && i + 1 < args.length) {
                model = Path.of(args[i + 1]);
            } else if (args[i].startsWith("--model=")) {
                model = Path.of(args[i].substring("--model=".length()));
            }
        }
        JitWarmup.start(workload, model == null ? dev.lora4j.tensor.DType.F32 : JitWarmup.weightDtype(model), MAX_MILLIS);
    }
}
