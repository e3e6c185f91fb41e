package io.shadowml.jobs.io.format;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** How a mapped field holds an instant. */
public enum TimeFormat {
    EPOCH_MS,
    EPOCH_S,
    EPOCH_US,
    ISO8601;

    /** @throws IllegalArgumentException naming the accepted spellings */
    public static TimeFormat parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "must be one of epoch_ms, epoch_s, epoch_us, iso8601; was '" + text + "'");
        }
    }

    /**
     * Epoch milliseconds of {@code value}, or null when it is not an instant in this format (the caller
     * says why, with the path). Fractional seconds are rounded to the nearest millisecond, microseconds
     * floored.
     */
    Long toEpochMillis(Object value) {
        try {
            return convert(value);
        } catch (ArithmeticException e) {
            return null; // beyond the range of epoch milliseconds
        }
    }

    private Long convert(Object value) {
        switch (this) {
            case EPOCH_MS:
                return Values.wholeNumber(value);
            case EPOCH_US: {
                Long micros = Values.wholeNumber(value);
                return micros == null ? null : Math.floorDiv(micros, 1000L);
            }
            case EPOCH_S: {
                Long whole = Values.wholeNumber(value);
                if (whole != null) {
                    return Math.multiplyExact(whole, 1000L);
                }
                Double seconds = Values.strictNumber(value);
                return seconds == null || !Double.isFinite(seconds) || Math.abs(seconds) > 9.2e15
                        ? null
                        : Math.round(seconds * 1000.0);
            }
            default: {
                String text = Values.text(value);
                if (text == null) {
                    return null;
                }
                try {
                    return OffsetDateTime.parse(text).toInstant().toEpochMilli();
                } catch (DateTimeParseException e) {
                    return null;
                }
            }
        }
    }

    String expected() {
        switch (this) {
            case EPOCH_MS:
                return "whole epoch milliseconds";
            case EPOCH_S:
                return "epoch seconds";
            case EPOCH_US:
                return "whole epoch microseconds";
            default:
                return "an ISO-8601 date-time with offset (2026-01-01T12:00:00Z)";
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
