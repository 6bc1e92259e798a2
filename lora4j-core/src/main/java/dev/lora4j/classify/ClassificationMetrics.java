package dev.lora4j.classify;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Accuracy, per-class precision/recall/F1, macro-F1 (the unweighted mean of the per-class F1, so a
 * rare class counts as much as a frequent one; scikit-learn's {@code f1_score(average="macro")}, with
 * F1 = 0 for a class that is never predicted and never true) and the confusion matrix
 * {@code confusion[true][predicted]}.
 */
public record ClassificationMetrics(List<String> labels, long[][] confusion) {

    public static ClassificationMetrics of(List<String> labels, int[] truth, int[] predicted) {
        int k = labels.size();
        long[][] m = new long[k][k];
        for (int i = 0; i < truth.length; i++) {
            m[truth[i]][predicted[i]]++;
        }
        return new ClassificationMetrics(labels, m);
    }

    public long total() {
        long n = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    public double accuracy() {
        long correct = 0;
        for (int c = 0; c < confusion.length; c++) {
            correct += confusion[c][c];
        }
        return total() == 0 ? 0 : (double) correct / total();
    }

    public double precision(int c) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[c];
        }
        return predicted == 0 ? 0 : (double) confusion[c][c] / predicted;
    }

    public double recall(int c) {
        long actual = 0;
        for (long v : confusion[c]) {
            actual += v;
        }
        return actual == 0 ? 0 : (double) confusion[c][c] / actual;
    }

    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    public double macroF1() {
        double sum = 0;
        for (int c = 0; c < labels.size(); c++) {
            sum += f1(c);
        }
        return sum / labels.size();
    }

    /** A JSON-ready map: accuracy, macro_f1, examples, labels, per_class, confusion_matrix (rows = true). */
    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accuracy", accuracy());
        out.put("macro_f1", macroF1());
        out.put("examples", total());
        out.put("labels", labels);
        List<Map<String, Object>> perClass = new ArrayList<>();
        for (int c = 0; c < labels.size(); c++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", labels.get(c));
            m.put("precision", precision(c));
            m.put("recall", recall(c));
            m.put("f1", f1(c));
            perClass.add(m);
        }
        out.put("per_class", perClass);
        out.put("confusion_matrix", confusion);
        return out;
    }

    /** The confusion matrix as an aligned text table (rows: true class, columns: predicted). */
    public String table() {
        int w = 9;
        for (String l : labels) {
            w = Math.max(w, l.length() + 2);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "accuracy %.4f, macro-F1 %.4f over %d examples%n", accuracy(), macroF1(), total()));
        sb.append(pad("true \\ pred", w + 2));
        for (String l : labels) {
            sb.append(pad(l, w));
        }
        sb.append(pad("recall", w)).append('\n');
        for (int r = 0; r < labels.size(); r++) {
            sb.append(pad(labels.get(r), w + 2));
            for (int c = 0; c < labels.size(); c++) {
                sb.append(pad(Long.toString(confusion[r][c]), w));
            }
            sb.append(pad(String.format(Locale.ROOT, "%.3f", recall(r)), w)).append('\n');
        }
        sb.append(pad("precision", w + 2));
        for (int c = 0; c < labels.size(); c++) {
            sb.append(pad(String.format(Locale.ROOT, "%.3f", precision(c)), w));
        }
        sb.append('\n');
        return sb.toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : " ".repeat(width - s.length()) + s;
    }
}
