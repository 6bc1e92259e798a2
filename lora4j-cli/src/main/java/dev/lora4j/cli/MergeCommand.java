package dev.lora4j.cli;

import dev.lora4j.lora.CheckpointMerge;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lora4j merge}: base model + adapter → a plain Hugging Face checkpoint. */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Merge a LoRA adapter into its base model: W' = W + s·B·A, rounded once into the stored dtype.",
                "Writes a Hugging Face checkpoint (config.json and tokenizer files copied, safetensors sharded like",
                "the source). A head tied to the embeddings is untied when the adapter changes it. The output is",
                "built in a temporary directory and renamed: a failed merge leaves nothing behind."})
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "base model directory")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "adapter directory (PEFT layout)")
    Path adapter;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "new directory for the merged model (must not exist)")
    Path output;

    @Override
    public Integer call() throws Exception {
        CheckpointMerge.Result r = CheckpointMerge.merge(model, adapter, output,
                w -> System.err.println("lora4j merge: warning: " + w));
        System.out.println("merged " + r.mergedTensors().size() + " tensors into " + r.output());
        for (String u : r.untiedTensors()) {
            System.out.println("untied " + u + "; config.json now has tie_word_embeddings: false");
        }
        for (Path f : r.weightFiles()) {
            System.out.println("  " + f.getFileName());
        }
        return 0;
    }
}
