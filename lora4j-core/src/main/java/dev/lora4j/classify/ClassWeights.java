package dev.lora4j.classify;

import java.util.Arrays;

/**
 * Per-class loss weights (PyTorch's {@code CrossEntropyLoss(weight=...)}).
 * {@code balanced} is scikit-learn's rule {@code n / (K · count_c)}: every class then contributes the
 * same total weight, so a rare class (spam) is not drowned out by a frequent one (ham).
 */
public final class ClassWeights {
    private ClassWeights() {}

    /** null for none; "balanced"; or a comma-separated list with one positive weight per class. */
    public static float[] parse(String spec, long[] classCounts) {
        if (spec == null || spec.isBlank() || spec.equalsIgnoreCase("none")) {
            return null;
        }
        int k = classCounts.length;
        if (spec.equalsIgnoreCase("balanced")) {
            long n = Arrays.stream(classCounts).sum();
            float[] w = new float[k];
            for (int c = 0; c < k; c++) {
                if (classCounts[c] == 0) {
                    throw new IllegalArgumentException("--class-weights balanced: class " + c
                            + " has no training example, so it has no balanced weight");
                }
                w[c] = (float) ((double) n / ((double) k * classCounts[c]));
            }
            return w;
        }
        String[] parts = spec.split(",");
        if (parts.length != k) {
            throw new IllegalArgumentException("--class-weights has " + parts.length + " values for " + k + " classes");
        }
        float[] w = new float[k];
        for (int c = 0; c < k; c++) {
            try {
                w[c] = Float.parseFloat(parts[c].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--class-weights: '" + parts[c] + "' is not a number");
            }
            if (!(w[c] > 0) || !Float.isFinite(w[c])) {
                throw new IllegalArgumentException("--class-weights: weight " + w[c] + " of class " + c + " must be positive");
            }
        }
        return w;
    }
}
