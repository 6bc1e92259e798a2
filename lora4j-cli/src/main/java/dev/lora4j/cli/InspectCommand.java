package dev.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lora4j.lora.Inspection;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.ModuleSelector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lora4j inspect DIR}: what a model or adapter directory holds, as JSON. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Describe a model or adapter directory as JSON: architecture, parameter counts by kind and dtype;",
                "for an adapter r, alpha, targets and the modules it adapts per layer; with --model, the trainable",
                "share and an estimate of the memory a training run needs at --batch-size x --seq-len."})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "model or adapter directory")
    Path dir;

    @Option(names = "--model", paramLabel = "DIR", description = "base model of an adapter (for share and memory)")
    Path model;

    @Option(names = "--batch-size", defaultValue = "4", paramLabel = "N", description = "for the memory estimate (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "T", description = "for the memory estimate (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--rank", defaultValue = "8", paramLabel = "R", description = "assumed adapter rank for a model's estimate (default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--target-modules", defaultValue = "all-linear", paramLabel = "LIST",
            description = "assumed adapter targets for a model's estimate (default ${DEFAULT-VALUE})")
    String targetModules;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": not a directory");
        }
        if (batchSize <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("--batch-size and --seq-len must be positive");
        }
        Map<String, Object> out = Inspection.isAdapter(dir)
                ? Inspection.adapter(dir, model, batchSize, seqLen)
                : Inspection.model(dir, LoraConfig.of(rank, 2.0 * rank, ModuleSelector.parseCli(targetModules)),
                        batchSize, seqLen);
        System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        return 0;
    }
}
