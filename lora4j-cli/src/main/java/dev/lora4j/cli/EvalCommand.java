package dev.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.train.Evaluation;
import dev.lora4j.train.Example;
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
        description = {"Evaluate a model's next-token loss on the data formats lora4j train reads: a .txt corpus, or",
                "JSON lines of {\"input_ids\": [...]}, {\"text\": ...}, {\"prompt\": ..., \"completion\": ...} or {\"messages\": [...]}.",
                "Prints {\"loss\", \"perplexity\", \"tokens\"}: the mean cross-entropy (nats) over every predicted token",
                "(every position but the first; the completion or the assistant turns only where the data says so).",
                "With --task classification: accuracy, macro-F1 and the confusion matrix of a classifier trained by",
                "lora4j train --task classification (--adapter DIR, or --model DIR of a full fine-tuning) on labelled",
                "TSV/CSV/JSONL data, as JSON on stdout and a table on stderr."})
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "evaluation data (.txt, or JSONL as for train)")
    Path data;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a LoRA adapter (PEFT layout) to evaluate with")
    Path adapter;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "lines per forward pass (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--task", defaultValue = "causal-lm", paramLabel = "T",
            description = "causal-lm, or classification: accuracy, macro-F1 and confusion matrix (default ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--text-column", paramLabel = "C", description = "classification: text column (default: auto)")
    String textColumn;

    @Option(names = "--label-column", paramLabel = "C", description = "classification: label column (default: auto)")
    String labelColumn;

    @Option(names = "--seq-len", paramLabel = "T", description = "longer sequences are cut to T tokens (default: the model's maximum; classification: as trained)")
    Integer seqLen;

    @Override
    public Integer call() throws Exception {
        if (task.equals("classification")) {
            return ClassificationTraining.evaluate(model, adapter, data, textColumn, labelColumn, seqLen, batchSize);
        }
        if (!task.equals("causal-lm")) {
            throw new IllegalArgumentException("unknown --task '" + task + "' (causal-lm or classification)");
        }
        try (CausalLM lm = Models.load(model)) {
            if (adapter != null) {
                PeftAdapterFiles.load(lm, adapter, w -> System.err.println("lora4j eval: warning: " + w));
            }
            int maxLen = seqLen != null ? seqLen : lm.config().maxPositions();
            List<Example> examples = TrainCommand.readData(data, model, lm.config().vocabSize(), maxLen);
            long started = System.nanoTime();
            boolean showProgress = examples.size() > 4 * batchSize;
            Evaluation.Result r = Evaluation.loss(lm, examples, batchSize, maxLen, done -> {
                if (showProgress) {
                    double seconds = (System.nanoTime() - started) / 1e9;
                    System.err.printf("\reval: %d/%d lines, %.1f s", done, examples.size(), seconds);
                    if (done == examples.size()) {
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
