package io.shadowml.jobs.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads "50ms", "30s", "5m", "1h", "14d" or ISO-8601 ("PT1H"). */
public final class DurationParser {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private DurationParser() {}

    /** @throws IllegalArgumentException with a message fit for a config error */
    public static Duration parse(String text) {
        String t = text.trim();
        Matcher m = SIMPLE.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    return Duration.ofMillis(n);
                case "s":
                    return Duration.ofSeconds(n);
                case "m":
                    return Duration.ofMinutes(n);
                case "h":
                    return Duration.ofHours(n);
                default:
                    return Duration.ofDays(n);
            }
        }
        try {
            return Duration.parse(t);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a duration (use e.g. 50ms, 30s, 5m, 1h, 14d or ISO-8601 PT1H)");
        }
    }

    /** The shortest text {@link #parse} reads back as {@code d} (the largest whole unit), e.g. 1m, 90s, 1500ms. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        long[] unit = {86_400_000, 3_600_000, 60_000, 1_000};
        String[] name = {"d", "h", "m", "s"};
        for (int i = 0; i < unit.length; i++) {
            if (ms != 0 && ms % unit[i] == 0) {
                return ms / unit[i] + name[i];
            }
        }
        return ms + "ms";
    }
}
