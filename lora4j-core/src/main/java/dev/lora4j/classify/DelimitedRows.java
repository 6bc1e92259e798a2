package dev.lora4j.classify;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits delimited text into rows of fields, remembering the line each row starts on (for error
 * messages).
 *
 * <ul>
 *   <li>TSV: one row per line, fields split at tabs, no quoting (GLUE's and UCI's files use none; a
 *       double quote is an ordinary character there, e.g. {@code "the film" is fine}).</li>
 *   <li>CSV (RFC 4180): fields split at commas; a field that starts with {@code "} is quoted, may hold
 *       commas and line breaks, and writes a literal quote as {@code ""}.</li>
 * </ul>
 * Blank lines (no tab, only spaces) are skipped; a trailing {@code \r} (CRLF files) is dropped.
 */
final class DelimitedRows {
    /** One row: its fields and the 1-based line it starts on. */
    record Row(int line, List<String> fields) {}

    private DelimitedRows() {}

    static List<Row> tsv(String text) {
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripCr(lines[i]);
            if (line.isBlank() && line.indexOf('\t') < 0) {
                continue;
            }
            rows.add(new Row(i + 1, List.of(line.split("\t", -1))));
        }
        return rows;
    }

    /** RFC 4180; {@code source} names the file in errors. */
    static List<Row> csv(String text, String source) {
        List<Row> rows = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int line = 1;
        int rowStart = 1;
        int i = 0;
        int n = text.length();
        boolean rowHasContent = false;
        while (i <= n) {
            if (i == n || text.charAt(i) == '\n' || (text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n')) {
                // end of a record
                if (rowHasContent || field.length() > 0 || !fields.isEmpty()) {
                    fields.add(field.toString());
                    rows.add(new Row(rowStart, List.copyOf(fields)));
                }
                fields.clear();
                field.setLength(0);
                rowHasContent = false;
                if (i < n && text.charAt(i) == '\r') {
                    i++;
                }
                i++;
                line++;
                rowStart = line;
                continue;
            }
            char c = text.charAt(i);
            if (c == '"' && field.length() == 0) {
                // a quoted field: up to the closing quote, "" is a literal quote
                int openedOn = line;
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException(source + ":" + openedOn
                                + ": quoted field is never closed (RFC 4180: a quote inside a quoted field is written \"\")");
                    }
                    char q = text.charAt(i);
                    if (q == '"') {
                        if (i + 1 < n && text.charAt(i + 1) == '"') {
                            field.append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (q == '\n') {
                        line++;
                    }
                    field.append(q);
                    i++;
                }
                rowHasContent = true;
                if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
                    throw new IllegalArgumentException(source + ":" + line + ": unexpected '" + text.charAt(i)
                            + "' after a closing quote (a field is either fully quoted or not at all)");
                }
                continue;
            }
            if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
                rowHasContent = true;
                i++;
                continue;
            }
            field.append(c);
            i++;
        }
        return rows;
    }

    private static String stripCr(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
