package dev.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import dev.lora4j.train.Example;
import dev.lora4j.train.JsonlDataset;
import dev.lora4j.train.TextData;
import dev.lora4j.tokenizer.Tokenizer;
import dev.lora4j.train.LrSchedule;
import dev.lora4j.train.TrainOptions;
import dev.lora4j.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lora4j train}: LoRA fine-tuning of a causal language model on JSONL token data. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune a causal language model with LoRA and save the adapter in PEFT's layout.",
                "Data: a .txt corpus (cut into --seq-len windows), or JSON lines: {\"text\": \"...\"} or",
                "{\"input_ids\": [...]} (loss on every token after the first), or {\"prompt\": ..., \"completion\": ...}",
                "as strings or token ids (loss on the completion only), or {\"messages\": [{\"role\", \"content\"}, ...]}",
                "rendered with the model's chat template (loss on the assistant turns only).",
                "Writes adapter_config.json, adapter_model.safetensors, metrics.jsonl and train_args.json",
                "into --output; with --checkpoint-every, a resumable checkpoint/ too (continue with --resume)."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory (config.json + *.safetensors)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training data, JSONL")
    Path data;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "where the adapter and logs go")
    Path output;

    @Option(names = "--rank", defaultValue = "8", paramLabel = "R", description = "LoRA rank r (default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--alpha", defaultValue = "16", paramLabel = "A", description = "LoRA alpha; scale = alpha/r (default ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--dropout", defaultValue = "0.05", paramLabel = "P", description = "dropout on the LoRA input (default ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--target-modules", paramLabel = "LIST",
            description = "comma-separated module names (q_proj,v_proj; embed_tokens or wte for the token embeddings), all-linear (no embeddings), or re:REGEX; default q_proj,v_proj for Llama-family, c_attn for GPT-2")
    String targetModules;

    @Option(names = "--rslora", description = "scale by alpha/sqrt(r) instead of alpha/r")
    boolean rslora;

    @Option(names = "--lr", defaultValue = "2e-4", paramLabel = "LR", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--steps", defaultValue = "0", paramLabel = "N", description = "optimizer steps (default: from --epochs)")
    int steps;

    @Option(names = "--epochs", defaultValue = "1", paramLabel = "E", description = "passes over the data when --steps is not given (default ${DEFAULT-VALUE})")
    double epochs;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "sequences per micro-batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "N", description = "micro-batches per optimizer step (default ${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "T", description = "longer sequences are cut to T tokens (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--schedule", defaultValue = "linear", paramLabel = "S", description = "constant, linear or cosine (default ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "N", description = "warmup steps (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0.01", paramLabel = "W", description = "AdamW decoupled weight decay (default ${DEFAULT-VALUE}, PyTorch's)")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", paramLabel = "N", description = "clip the gradient norm; 0 = off (default ${DEFAULT-VALUE})")
    double maxGradNorm;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "seed for init, data order, dropout (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--eval-data", paramLabel = "FILE", description = "held-out JSONL to evaluate on")
    Path evalData;

    @Option(names = "--eval-split", defaultValue = "0", paramLabel = "F", description = "hold out this fraction of --data instead (e.g. 0.1)")
    double evalSplit;

    @Option(names = "--eval-every", defaultValue = "0", paramLabel = "N", description = "evaluate every N steps (always before and after)")
    int evalEvery;

    @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N", description = "save a resumable checkpoint every N steps")
    int checkpointEvery;

    @Option(names = "--resume", description = "continue from the checkpoint in --output")
    boolean resume;

    @Option(names = "--recompute", description = "activation recomputation (gradient checkpointing): keep only each "
            + "layer's input and re-run the layer's forward during backward; about one extra forward per step "
            + "(+14%% time on the 8-layer benchmark model) for much less activation memory, with bit-identical results")
    boolean recompute;

    @Option(names = "--init-adapter", paramLabel = "DIR", description = "start from this PEFT adapter instead of a fresh one")
    Path initAdapter;

    @Option(names = "--task", defaultValue = "causal-lm", paramLabel = "T",
            description = "causal-lm, or classification: a BERT-family encoder + head on TSV/CSV/JSONL text and label data (default ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--method", defaultValue = "lora", paramLabel = "M",
            description = "classification: lora (adapters + head) or full (every linear layer + head) (default ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--labels", paramLabel = "LIST", description = "classification: class names in index order, e.g. negative,positive")
    String labels;

    @Option(names = "--text-column", paramLabel = "C", description = "classification: text column (header name, JSON key or 0-based index; default: auto)")
    String textColumn;

    @Option(names = "--label-column", paramLabel = "C", description = "classification: label column (default: auto)")
    String labelColumn;

    @Option(names = "--class-weights", paramLabel = "W", description = "classification: balanced, or w0,w1,... per class (default: none)")
    String classWeights;

    @Option(names = "--pooling", defaultValue = "auto", paramLabel = "P", description = "classification: cls, mean or auto (mean without a pooler) (default ${DEFAULT-VALUE})")
    String pooling;

    @Option(names = "--max-train-examples", defaultValue = "0", paramLabel = "N", description = "classification: train on a seeded sample of N examples (0 = all)")
    int maxTrainExamples;

    @Override
    public Integer call() throws Exception {
        if (task.equals("classification")) {
            return new ClassificationTraining(this).run();
        }
        if (!task.equals("causal-lm")) {
            throw new IllegalArgumentException("unknown --task '" + task + "' (causal-lm or classification)");
        }
        if (evalData != null && evalSplit > 0) {
            throw new IllegalArgumentException("give --eval-data or --eval-split, not both");
        }
        if (evalSplit < 0 || evalSplit >= 1) {
            throw new IllegalArgumentException("--eval-split must be in [0, 1), got " + evalSplit);
        }
        try (CausalLM lm = Models.load(model)) {
            int vocab = lm.config().vocabSize();
            List<Example> train = readData(data, model, vocab, seqLen);
            List<Example> eval = evalData != null ? readData(evalData, model, vocab, seqLen) : List.of();
            if (evalSplit > 0) {
                List<List<Example>> parts = split(train, evalSplit, seed);
                train = parts.get(0);
                eval = parts.get(1);
            }
            LoraModel lora = initAdapter != null
                    ? PeftAdapterFiles.load(lm, initAdapter, w -> System.err.println("lora4j train: warning: " + w))
                    : LoraModel.attach(lm, loraConfig(lm), seed);
            TrainOptions options = new TrainOptions(steps, epochs, batchSize, gradAccum, seqLen, lr,
                    LrSchedule.parse(schedule), warmup, weightDecay, maxGradNorm, seed, evalEvery, checkpointEvery,
                    recompute);
            Files.createDirectories(output);
            writeArgs(lora, train.size(), eval.size(), options.totalSteps(train.size()));
            System.err.printf(Locale.ROOT, "lora4j train: %s, %d adapted modules, %,d trainable parameters; "
                            + "%d training / %d held-out sequences; %d steps%n",
                    lm.config().modelType(), lora.allAdapters().size(), lora.trainableParameterCount(), train.size(),
                    eval.size(), options.totalSteps(train.size()));
            dev.lora4j.warmup.JitWarmup.stop();   // the first real step starts: give the warm-up's core back
            Trainer.Result r = new Trainer(lora, train, eval, options, output, System.err).run(resume);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("steps", r.steps());
            summary.put("train_loss_first", r.firstLoss());
            summary.put("train_loss_last", r.lastLoss());
            if (r.evalBefore() != null) {
                summary.put("eval_loss_before", r.evalBefore().loss());
            }
            if (r.evalAfter() != null) {
                summary.put("eval_loss_after", r.evalAfter().loss());
            }
            summary.put("adapter", output.toAbsolutePath().toString());
            System.out.println(new ObjectMapper().writeValueAsString(summary));
        }
        return 0;
    }

    private LoraConfig loraConfig(CausalLM lm) {
        String type = lm.config().modelType();
        String targets = targetModules != null ? targetModules : type.equals("gpt2") ? "c_attn" : "q_proj,v_proj";
        return LoraConfig.of(rank, alpha, ModuleSelector.parseCli(targets))
                .withDropout(dropout)
                .withRslora(rslora)
                .withInit(InitLoraWeights.KAIMING)
                .withTask("CAUSAL_LM", model.toAbsolutePath().toString(), type.equals("gpt2"));
    }

    /** Reads causal-LM data (.txt windows, or JSONL as ids, text, prompt/completion or chat messages). */
    static List<Example> readData(Path file, Path modelDir, int vocab, int seqLen) throws java.io.IOException {
        if (file.getFileName().toString().endsWith(".txt")) {
            Tokenizer tokenizer = TextData.modelTokenizer(modelDir);
            if (tokenizer == null) {
                throw new IllegalArgumentException(file + ": a .txt corpus needs a tokenizer beside the model in "
                        + modelDir + " (tokenizer.json or a llama2.c tok*.bin)");
            }
            return TextData.windows(file, tokenizer, seqLen);
        }
        return JsonlDataset.read(file, vocab, () -> {
            try {
                return TextData.modelTokenizer(modelDir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, chatRenderer(modelDir));
    }

    /** The model's chat template as a renderer for "messages" lines, or null when it has none. */
    static dev.lora4j.train.ChatRenderer chatRenderer(Path modelDir) {
        return dev.lora4j.chat.ChatTemplate.fromModelDirectory(modelDir)
                .<dev.lora4j.train.ChatRenderer>map(t -> (messages, addGenerationPrompt) -> t.render(
                        messages.stream().map(m -> new dev.lora4j.chat.ChatMessage(m.role(), m.content())).toList(),
                        addGenerationPrompt))
                .orElse(null);
    }

    /** A seeded split: the same seed always holds out the same sequences. */
    static List<List<Example>> split(List<Example> all, double fraction, long seed) {
        List<Example> shuffled = new ArrayList<>(all);
        java.util.Collections.shuffle(shuffled, new java.util.Random(new SplittableRandom(seed ^ 0x5EED).nextLong()));
        int held = (int) Math.max(1, Math.round(all.size() * fraction));
        if (held >= all.size()) {
            throw new IllegalArgumentException("--eval-split " + fraction + " leaves no training data");
        }
        return List.of(shuffled.subList(held, shuffled.size()), shuffled.subList(0, held));
    }

    private void writeArgs(LoraModel lora, int trainSize, int evalSize, int totalSteps) throws Exception {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("model", model.toString());
        args.put("data", data.toString());
        args.put("train_sequences", trainSize);
        args.put("eval_sequences", evalSize);
        args.put("total_steps", totalSteps);
        args.put("rank", lora.config().r());
        args.put("alpha", lora.config().loraAlpha());
        args.put("target_modules", lora.allAdapters().stream().map(a -> a.modulePath()).toList());
        args.put("lr", lr);
        args.put("batch_size", batchSize);
        args.put("grad_accum", gradAccum);
        args.put("seq_len", seqLen);
        args.put("schedule", schedule);
        args.put("seed", seed);
        args.put("recompute", recompute);
        Files.writeString(output.resolve("train_args.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(args));
    }
}
