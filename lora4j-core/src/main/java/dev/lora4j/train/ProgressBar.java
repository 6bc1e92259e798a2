package dev.lora4j.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display on stderr: step, loss, tokens/s and time left. On a terminal it
 * redraws in place; otherwise (logs, CI) it prints a line every 5% so logs stay readable.
 */
public final class ProgressBar {
    private final PrintStream out;
    private final long total;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private long lastPrintedBucket = -1;

    public ProgressBar(PrintStream out, long total) {
        this.out = out;
        this.total = total;
        this.terminal = System.console() != null && System.getenv("CI") == null;
    }

    public void update(long done, long startedAt, String status, double itemsPerSecond) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        long doneHere = done - startedAt;
        double eta = doneHere > 0 ? elapsed / doneHere * (total - done) : Double.NaN;
        int width = 24;
        int filled = (int) (width * done / Math.max(1, total));
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String line = String.format(Locale.ROOT, "%d/%d [%s] %s | %.0f tok/s | %s left", done, total, bar, status,
                itemsPerSecond, formatDuration(eta));
        if (terminal) {
            out.print("\r" + line + "   ");
            if (done == total) {
                out.println();
            }
        } else {
            long bucket = done * 20 / Math.max(1, total);
            if (bucket != lastPrintedBucket || done == total) {
                lastPrintedBucket = bucket;
                out.println(line);
            }
        }
        out.flush();
    }

    static String formatDuration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
