package dev.lora4j.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads text-classification data: TSV, CSV (RFC 4180) or JSON lines, each example a text and a label.
 *
 * <p><b>Format</b> by file name: {@code .csv} is CSV, {@code .jsonl}/{@code .json} is JSON lines, anything
 * else (.tsv, .txt, UCI's extension-less {@code SMSSpamCollection}) is tab-separated.
 *
 * <p><b>Columns.</b> {@code textColumn}/{@code labelColumn} name a header field or JSON key, or give a
 * 0-based column index; null means auto: a first row whose fields include a known label name
 * ({@code label}, {@code class}, ...) or text name ({@code text}, {@code sentence}, {@code sms}, ...),
 * compared case-insensitively, is a header (so SST-2's {@code label<TAB>sentence} and SMS spam's
 * {@code Label<TAB>SMS} are both recognized). Without a header a two-column file has its label in
 * the column with fewer distinct values.
 *
 * <p><b>Labels</b> are names ({@code ham}, {@code spam}) or indices ({@code 0}, {@code 1}). Given
 * {@code labelNamesOrNull}, a name must be one of them and an index must be below their count; else
 * all-integer labels 0..K-1 become classes named {@code "0"}..{@code "K-1"} and names become classes
 * in sorted order, so the same data always gives the same class indices.
 */
public final class ClassificationData {
    static final List<String> LABEL_NAMES = List.of("label", "labels", "class", "category", "target", "y");
    static final List<String> TEXT_NAMES = List.of("text", "sentence", "content", "sms", "review", "document",
            "message", "input", "x");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassificationData() {}

    public static LabeledDataset read(Path file, String textColumn, String labelColumn, List<String> labelNamesOrNull)
            throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file + ": data file not found");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IOException(file + ": not UTF-8 text");
        }
        return parse(text, file.getFileName().toString(), file.toString(), textColumn, labelColumn, labelNamesOrNull);
    }

    /**
     * As {@link #read} for text already in memory (e.g. a classpath resource); {@code fileName} picks the
     * format by its extension, {@code source} names it in error messages.
     */
    public static LabeledDataset parse(String text, String fileName, String source, String textColumn,
                                       String labelColumn, List<String> labelNamesOrNull) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String name = fileName.toLowerCase(Locale.ROOT);
        List<Raw> raw = name.endsWith(".jsonl") || name.endsWith(".json")
                ? jsonl(text, source, textColumn, labelColumn)
                : table(name.endsWith(".csv") ? DelimitedRows.csv(text, source) : DelimitedRows.tsv(text), source,
                        textColumn, labelColumn);
        if (raw.isEmpty()) {
            throw new IllegalArgumentException(source + ": no examples");
        }
        return resolveLabels(raw, source, labelNamesOrNull);
    }

    /** One example before labels are resolved. */
    private record Raw(int line, String text, String label) {}

    private static List<Raw> table(List<DelimitedRows.Row> rows, String source, String textColumn, String labelColumn) {
        if (rows.isEmpty()) {
            return List.of();
        }
        List<String> first = rows.get(0).fields();
        boolean header = isHeader(first) || names(first, textColumn) || names(first, labelColumn);
        int width = first.size();
        if (width < 2) {
            throw new IllegalArgumentException(source + ":" + rows.get(0).line() + ": expected at least two columns"
                    + " (a text and a label), found " + width + " (is the delimiter right? .tsv needs tabs, .csv commas)");
        }
        List<DelimitedRows.Row> data = header ? rows.subList(1, rows.size()) : rows;
        int labelIndex = column(labelColumn, header ? first : null, LABEL_NAMES, source, "label");
        int textIndex = column(textColumn, header ? first : null, TEXT_NAMES, source, "text");
        if (labelIndex < 0 || textIndex < 0) {
            if (width != 2) {
                throw new IllegalArgumentException(source + ": cannot tell the text and label columns apart among "
                        + (header ? first : width + " unnamed columns") + "; name them (--text-column, --label-column)");
            }
            if (labelIndex >= 0) {
                textIndex = 1 - labelIndex;
            } else if (textIndex >= 0) {
                labelIndex = 1 - textIndex;
            } else {
                labelIndex = distinctValues(data, 0) <= distinctValues(data, 1) ? 0 : 1;
                textIndex = 1 - labelIndex;
            }
        }
        if (labelIndex == textIndex) {
            throw new IllegalArgumentException(source + ": text and label are the same column (" + labelIndex + ")");
        }
        List<Raw> out = new ArrayList<>();
        for (DelimitedRows.Row row : data) {
            if (row.fields().size() != width) {
                throw new IllegalArgumentException(source + ":" + row.line() + ": expected " + width + " fields, found "
                        + row.fields().size() + (source.endsWith(".csv") ? "" : " (a tab inside the text?)"));
            }
            out.add(new Raw(row.line(), row.fields().get(textIndex), row.fields().get(labelIndex).strip()));
        }
        return out;
    }

    private static boolean names(List<String> fields, String column) {
        return column != null && fields.stream().anyMatch(f -> f.strip().equalsIgnoreCase(column));
    }

    static boolean isHeader(List<String> fields) {
        for (String f : fields) {
            String s = f.strip().toLowerCase(Locale.ROOT);
            if (LABEL_NAMES.contains(s) || TEXT_NAMES.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /** The column named or numbered by {@code spec}; with spec null, the first known name in the header, else -1. */
    private static int column(String spec, List<String> headerOrNull, List<String> knownNames, String source, String what) {
        if (spec != null) {
            if (headerOrNull != null) {
                for (int i = 0; i < headerOrNull.size(); i++) {
                    if (headerOrNull.get(i).strip().equalsIgnoreCase(spec)) {
                        return i;
                    }
                }
            }
            try {
                return Integer.parseInt(spec);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(source + ": no " + what + " column '" + spec + "'"
                        + (headerOrNull != null ? "; the header has " + headerOrNull : " (the file has no header)"));
            }
        }
        if (headerOrNull == null) {
            return -1;
        }
        for (String known : knownNames) {
            for (int i = 0; i < headerOrNull.size(); i++) {
                if (headerOrNull.get(i).strip().equalsIgnoreCase(known)) {
                    return i;
                }
            }
        }
        return -1;
    }

    private static int distinctValues(List<DelimitedRows.Row> rows, int column) {
        Set<String> seen = new java.util.HashSet<>();
        for (DelimitedRows.Row r : rows) {
            if (column < r.fields().size()) {
                seen.add(r.fields().get(column));
            }
        }
        return seen.size();
    }

    private static List<Raw> jsonl(String text, String source, String textKey, String labelKey) {
        List<Raw> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = source + ":" + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(where + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(where + ": expected a JSON object per line");
            }
            String tk = key(node, textKey, TEXT_NAMES, where, "text");
            String lk = key(node, labelKey, LABEL_NAMES, where, "label");
            JsonNode t = node.get(tk);
            JsonNode l = node.get(lk);
            if (!t.isTextual()) {
                throw new IllegalArgumentException(where + ": \"" + tk + "\" must be a string, got " + t.getNodeType());
            }
            if (!(l.isTextual() || l.isIntegralNumber())) {
                throw new IllegalArgumentException(where + ": \"" + lk + "\" must be a string or an integer, got " + l);
            }
            out.add(new Raw(i + 1, t.asText(), l.asText().strip()));
        }
        return out;
    }

    private static String key(JsonNode node, String spec, List<String> known, String where, String what) {
        if (spec != null) {
            if (!node.has(spec)) {
                throw new IllegalArgumentException(where + ": no \"" + spec + "\" field; the line has " + fieldNames(node));
            }
            return spec;
        }
        for (String k : known) {
            var it = node.fieldNames();
            while (it.hasNext()) {
                String f = it.next();
                if (f.equalsIgnoreCase(k)) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException(where + ": no " + what + " field (looked for " + known + "); the line has "
                + fieldNames(node) + "; name it with --" + what + "-column");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static LabeledDataset resolveLabels(List<Raw> raw, String source, List<String> givenNames) {
        boolean allIntegers = raw.stream().allMatch(r -> r.label().matches("-?\\d+"));
        List<String> names;
        if (givenNames != null) {
            names = givenNames;
        } else if (allIntegers) {
            int max = raw.stream().mapToInt(r -> parseIndex(r, source)).max().orElse(0);
            names = new ArrayList<>();
            for (int i = 0; i <= max; i++) {
                names.add(Integer.toString(i));
            }
        } else {
            Set<String> sorted = new TreeSet<>();
            raw.forEach(r -> sorted.add(r.label()));
            names = new ArrayList<>(sorted);
        }
        if (names.size() < 2) {
            throw new IllegalArgumentException(source + ": only one class " + names + "; classification needs at least two");
        }
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            byName.put(names.get(i), i);
        }
        List<String> texts = new ArrayList<>(raw.size());
        int[] labels = new int[raw.size()];
        int[] lines = new int[raw.size()];
        for (int i = 0; i < raw.size(); i++) {
            Raw r = raw.get(i);
            Integer index = byName.get(r.label());
            if (index == null && r.label().matches("\\d+")) {
                index = parseIndex(r, source);   // an index into the class names
            }
            if (index == null || index < 0 || index >= names.size()) {
                throw new IllegalArgumentException(source + ":" + r.line() + ": label '" + r.label()
                        + "' is not one of the classes " + names + (allIntegers ? " (nor an index into them)" : ""));
            }
            if (r.text().isBlank()) {
                throw new IllegalArgumentException(source + ":" + r.line() + ": empty text");
            }
            texts.add(r.text());
            labels[i] = index;
            lines[i] = r.line();
        }
        return new LabeledDataset(source, texts, labels, lines, names);
    }

    private static int parseIndex(Raw r, String source) {
        try {
            int v = Integer.parseInt(r.label());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ":" + r.line() + ": label '" + r.label()
                    + "' is not a class index (0, 1, ...)");
        }
    }

    /** Class names from a comma-separated list, e.g. {@code negative,positive}; null stays null. */
    public static List<String> parseLabelList(String csv) {
        if (csv == null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                names.add(s.strip());
            }
        }
        if (new LinkedHashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("--labels has a repeated name: " + names);
        }
        return names;
    }
}
