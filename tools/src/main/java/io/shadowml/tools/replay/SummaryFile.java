package io.shadowml.tools.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code --summary FILE}: the replay's counts as Java properties, so that a script or a test can compare
 * what a job reports with what was sent without parsing the human summary. Keys in a fixed order; every
 * value is a number.
 */
final class SummaryFile {
    private SummaryFile() {}

    static void write(Path file, ReplayCommand.Result r) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# shadowml-tool replay --summary");
        lines.add("rows=" + r.rows);
        lines.add("requests_sent=" + r.requestsSent);
        lines.add("labels_sent=" + r.labelsSent);
        lines.add("bad_rows=" + r.skippedTotal());
        lines.add("bad_rows_forwarded=" + r.badRowsForwarded);
        r.skipped.forEach((problem, n) -> lines.add("bad_rows." + problem.name().toLowerCase(Locale.ROOT) + "=" + n));
        if (r.firstTime != Long.MIN_VALUE) {
            lines.add("first_time_ms=" + r.firstTime);
            lines.add("last_time_ms=" + r.lastTime);
        }
        lines.add(String.format(Locale.ROOT, "seconds=%.3f", r.seconds));
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
    }
}
