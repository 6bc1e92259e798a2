package dev.lora4j.cli;

import dev.lora4j.lora.AdapterCombination;
import dev.lora4j.lora.AdapterSet;
import dev.lora4j.lora.LoraModel;
import dev.lora4j.lora.PeftAdapterFiles;
import dev.lora4j.model.CausalLM;
import dev.lora4j.model.Models;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lora4j combine}: a weighted combination of adapters over one base, as PEFT's add_weighted_adapter. */
@Command(name = "combine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Combine adapters of one base model into a new adapter (PEFT's add_weighted_adapter).",
                "linear: weighted sum of A and B (equal ranks; an approximation); cat: concatenated ranks (exact);",
                "svd: the weighted sum of the weight deltas truncated by SVD to --rank (default: the largest input rank)."})
final class CombineCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "base model directory")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "NAME=DIR[:WEIGHT]",
            description = "an input adapter, its name and weight (default 1.0); repeat for each")
    List<String> adapters;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "linear, cat or svd")
    String type;

    @Option(names = "--rank", paramLabel = "R", description = "target rank for svd")
    Integer rank;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "directory for the combined adapter")
    Path output;

    record Spec(String name, Path dir, double weight) {}

    /** NAME=DIR[:WEIGHT]; the weight is the text after the last ':' when it parses as a number. */
    static Spec parse(String s) {
        int eq = s.indexOf('=');
        if (eq <= 0 || eq == s.length() - 1) {
            throw new IllegalArgumentException("--adapter " + s + ": expected NAME=DIR[:WEIGHT]");
        }
        String name = s.substring(0, eq);
        String rest = s.substring(eq + 1);
        double weight = 1.0;
        int colon = rest.lastIndexOf(':');
        if (colon > 0) {
            try {
                weight = Double.parseDouble(rest.substring(colon + 1));
                rest = rest.substring(0, colon);
            } catch (NumberFormatException e) {
                // part of the path
            }
        }
        return new Spec(name, Path.of(rest), weight);
    }

    @Override
    public Integer call() throws Exception {
        AdapterCombination.Type t = AdapterCombination.Type.parse(type);
        if (rank != null && t != AdapterCombination.Type.SVD) {
            throw new IllegalArgumentException("--rank applies to --type svd only");
        }
        if (Files.exists(output.resolve(PeftAdapterFiles.WEIGHTS_FILE))) {
            throw new IllegalArgumentException(output + ": already holds an adapter; refusing to overwrite it");
        }
        try (CausalLM lm = Models.load(model)) {
            AdapterSet set = new AdapterSet(lm);
            List<LoraModel> inputs = new ArrayList<>();
            List<Double> weights = new ArrayList<>();
            for (String a : adapters) {
                Spec spec = parse(a);
                inputs.add(set.load(spec.name(), spec.dir(), w -> System.err.println("lora4j combine: warning: " + w)));
                weights.add(spec.weight());
            }
            LoraModel combined = AdapterCombination.combine(lm, inputs, weights, t, rank);
            PeftAdapterFiles.save(combined, output);
            System.out.println("combined " + inputs.size() + " adapters (" + t.name().toLowerCase() + ") into "
                    + output + ": r=" + combined.config().r() + ", " + combined.allAdapters().size() + " modules, "
                    + combined.trainableParameterCount() + " parameters");
        }
        return 0;
    }
}
