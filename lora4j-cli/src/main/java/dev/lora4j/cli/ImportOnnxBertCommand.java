package dev.lora4j.cli;

import dev.lora4j.io.onnx.OnnxBertImport;
import dev.lora4j.io.onnx.OnnxModel;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Converts a BERT exported to ONNX into a Hugging Face directory (config.json + model.safetensors
 * [+ tokenizer.json]) that every other lora4j command loads. Without {@code --onnx} it imports
 * all-MiniLM-L6-v2 from the langchain4j Maven artifact on the classpath.
 */
@Command(name = "import-onnx-bert", mixinStandardHelpOptions = true,
        description = "Import a BERT ONNX export (default: all-MiniLM-L6-v2 from Maven) as a Hugging Face checkpoint.")
final class ImportOnnxBertCommand implements Callable<Integer> {
    @Option(names = "--output", required = true, description = "Directory to write config.json, model.safetensors, tokenizer.json")
    Path output;

    @Option(names = "--onnx", description = "A BERT .onnx file (default: all-MiniLM-L6-v2 from the classpath)")
    Path onnx;

    @Option(names = "--tokenizer", description = "tokenizer.json to copy next to the weights (with --onnx)")
    Path tokenizer;

    @Override
    public Integer call() throws Exception {
        if (onnx == null) {
            OnnxBertImport.importMiniLmFromClasspath(output);
        } else {
            try (Arena arena = Arena.ofConfined()) {
                OnnxBertImport.writeHfDirectory(OnnxBertImport.convert(OnnxModel.read(onnx, arena)), output, tokenizer);
            }
        }
        System.out.println("wrote " + output.resolve("config.json") + ", " + output.resolve("model.safetensors")
                + (onnx == null || tokenizer != null ? ", " + output.resolve("tokenizer.json") : ""));
        return 0;
    }
}
