package io.shadowml.tools.replay;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A progress bar on stderr: percentage of the input, rows read, send rate, ETA and skipped rows. On a
 * terminal it redraws one line; otherwise (logs, CI) it prints a line every 10 seconds.
 */
final class Progress {
    private final PrintWriter out;
    private final boolean enabled;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private long lastPrint;

    Progress(PrintWriter out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
        this.terminal = System.console() != null;
    }

    void update(double fraction, long rows, long sent, long skipped, boolean force) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        long every = terminal ? 200_000_000L : 10_000_000_000L;
        if (!force && now - lastPrint < every) {
            return;
        }
        lastPrint = now;
        double secs = Math.max(1e-9, (now - start) / 1e9);
        double rate = sent / secs;
        int width = 30;
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
        String eta = fraction > 0.001 && fraction < 1
                ? clock(secs / fraction - secs)
                : fraction >= 1 ? "0:00:00" : "--:--:--";
        String line = String.format(
                Locale.ROOT,
                "[%s%s] %5.1f%%  %,d rows  %,.0f records/s  ETA %s  skipped %,d",
                "#".repeat(filled),
                ".".repeat(width - filled),
                fraction * 100,
                rows,
                rate,
                eta,
                skipped);
        if (terminal) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Ends the redrawn line so that what follows starts on a fresh one. */
    void done() {
        if (enabled && terminal) {
            out.println();
        }
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
