package dev.lora4j.io.safetensors;

import java.util.Collection;

/** Finds the known name closest to a misspelled one, for "did you mean" hints in error messages. */
final class NameSuggestion {
    private NameSuggestion() {}

    /**
     * " (did you mean 'x'?)" when some candidate is within a few edits of {@code wanted} (a quarter of
     * its length, at least 2), otherwise the empty string.
     */
    static String didYouMean(String wanted, Collection<String> candidates) {
        int limit = Math.max(2, wanted.length() / 4);
        String best = null;
        int bestDistance = limit + 1;
        for (String c : candidates) {
            if (Math.abs(c.length() - wanted.length()) >= bestDistance) {
                continue; // the length difference alone already exceeds the best distance
            }
            int d = editDistance(wanted, c, bestDistance);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /** Levenshtein distance, or any value &ge; {@code cap} once it is known to reach {@code cap}. */
    static int editDistance(String a, String b, int cap) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin >= cap) {
                return cap; // every path through this row already costs at least cap
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }
}
