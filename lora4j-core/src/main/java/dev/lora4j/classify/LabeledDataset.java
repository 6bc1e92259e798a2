package dev.lora4j.classify;

import java.util.List;

/**
 * Texts with class indices into {@code labelNames}; {@code lines[i]} is where example i starts in
 * {@code source} (for messages).
 */
public record LabeledDataset(String source, List<String> texts, int[] labels, int[] lines, List<String> labelNames) {
    public LabeledDataset {
        texts = List.copyOf(texts);
        labelNames = List.copyOf(labelNames);
        if (labels.length != texts.size() || lines.length != texts.size()) {
            throw new IllegalArgumentException("texts, labels and lines differ in length");
        }
        for (int label : labels) {
            if (label < 0 || label >= labelNames.size()) {
                throw new IllegalArgumentException("label index " + label + " outside [0, " + labelNames.size() + ")");
            }
        }
    }

    public int size() {
        return texts.size();
    }

    public int numLabels() {
        return labelNames.size();
    }

    /** Examples per class, by class index. */
    public long[] classCounts() {
        long[] counts = new long[numLabels()];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    /** The first {@code n} examples (all when n ≥ size). */
    public LabeledDataset head(int n) {
        int k = Math.min(n, size());
        return new LabeledDataset(source, texts.subList(0, k), java.util.Arrays.copyOf(labels, k),
                java.util.Arrays.copyOf(lines, k), labelNames);
    }

    /** {@code n} examples drawn without replacement in a seeded order (all of them, reordered, when n ≥ size). */
    public LabeledDataset sample(int n, long seed) {
        int[] order = dev.lora4j.classify.ClassifierTrainer.shuffled(size(), seed ^ 0x5A3B1E, 0);
        int k = Math.min(n, size());
        java.util.List<String> t = new java.util.ArrayList<>(k);
        int[] l = new int[k];
        int[] ln = new int[k];
        for (int i = 0; i < k; i++) {
            t.add(texts.get(order[i]));
            l[i] = labels[order[i]];
            ln[i] = lines[order[i]];
        }
        return new LabeledDataset(source, t, l, ln, labelNames);
    }
}
