package dev.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.model.eval.LanguageModelEval;
import dev.lora4j.model.eval.TokenJsonl;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints the token-weighted mean next-token cross-entropy of a model over a JSONL file of token id
 * lines, as one JSON object {@code {"loss": ..., "perplexity": ..., "tokens": ...}} on stdout.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model's next-token loss on a JSONL file of {\"input_ids\": [...]} lines.",
                "Prints {\"loss\", \"perplexity\", \"tokens\"}: the mean cross-entropy (nats) over every position",
                "but the first of each line, weighted by token."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "JSONL file with input_ids lines")
    Path data;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a LoRA adapter (PEFT layout) to evaluate with")
    Path adapter;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "lines per forward pass (default ${DEFAULT-VALUE})")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        try (CausalLM lm = Models.load(model)) {
            if (adapter != null) {
                PeftAdapterFiles.load(lm, adapter, w -> System.err.println("lora4j eval: warning: " + w));
            }
            List<int[]> sequences = TokenJsonl.read(data, lm.config().vocabSize());
            long started = System.nanoTime();
            boolean showProgress = sequences.size() > 4 * batchSize;
            LanguageModelEval.Result r = LanguageModelEval.evaluate(lm, sequences, batchSize, done -> {
                if (showProgress) {
                    double seconds = (System.nanoTime() - started) / 1e9;
                    System.err.printf("\reval: %d/%d lines, %.1f s", done, sequences.size(), seconds);
                    if (done == sequences.size()) {
                        System.err.println();
                    }
                }
            });
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("loss", r.loss());
            out.put("perplexity", r.perplexity());
            out.put("tokens", r.tokens());
            System.out.println(new ObjectMapper().writeValueAsString(out));
        }
        return 0;
    }
}
