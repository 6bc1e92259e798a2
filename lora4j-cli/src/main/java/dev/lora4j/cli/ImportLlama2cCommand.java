package dev.lora4j.cli;

import dev.lora4j.model.llama2c.Llama2cImport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Converts a llama2.c checkpoint (e.g. stories260K.bin + tok512.bin) into a Hugging Face Llama directory. */
@Command(name = "import-llama2c", mixinStandardHelpOptions = true,
        description = {"Convert a llama2.c checkpoint (legacy float32 format) into a Hugging Face Llama directory:",
                "config.json, model.safetensors (wq/wk rows permuted for rotate-half RoPE) and the tokenizer file."})
final class ImportLlama2cCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "llama2.c checkpoint, e.g. stories260K.bin")
    Path checkpoint;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "llama2.c tokenizer, e.g. tok512.bin")
    Path tokenizer;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "new directory to create")
    Path output;

    @Override
    public Integer call() throws Exception {
        Llama2cImport.Result r = Llama2cImport.convert(checkpoint, tokenizer, output);
        System.out.printf("imported %s -> %s: llama, hidden %d, %d layers, %d heads (%d kv), vocab %d, "
                        + "%d positions, %s head, %,d parameters%n",
                checkpoint, r.output(), r.dim(), r.layers(), r.heads(), r.kvHeads(), r.vocab(), r.seqLen(),
                r.tied() ? "tied" : "separate", r.parameters());
        return 0;
    }
}
