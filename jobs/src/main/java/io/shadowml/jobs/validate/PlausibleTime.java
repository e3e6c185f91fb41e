package io.shadowml.jobs.validate;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;

import io.shadowml.jobs.config.DurationParser;

/**
 * Which event and label times the job accepts: not before {@code event_time.not_before} (catches zero,
 * {@code Long.MIN_VALUE} and seconds written as milliseconds) and not more than {@code
 * event_time.max_future_skew} after the record's own Kafka timestamp (catches microseconds written as
 * milliseconds and clocks in the far future, which would move the watermark past every window and leave
 * state and timers behind for good). Anything else is a dead letter, and the source's timestamp assigner
 * places such a record at its Kafka timestamp, so it never moves the watermark.
 *
 * <p>Only the record's own data decides, never the wall clock: a record replayed after a restart is judged
 * exactly as it was the first time, so no count changes across a recovery. Against producers whose clocks
 * are wrong, give the input topics {@code message.timestamp.type=LogAppendTime}: the record timestamp is
 * then the broker's.
 */
public final class PlausibleTime implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long notBeforeMs;
    private final long maxFutureSkewMs;

    public PlausibleTime(Instant notBefore, Duration maxFutureSkew) {
        this.notBeforeMs = notBefore.toEpochMilli();
        this.maxFutureSkewMs = maxFutureSkew.toMillis();
    }

    public boolean accepts(long time, long recordTimestamp) {
        return time >= notBeforeMs && (recordTimestamp < 0 || time - recordTimestamp <= maxFutureSkewMs);
    }

    /** Why {@code field} = {@code time} is not accepted, or null if it is. */
    public String problem(String field, long time, long recordTimestamp) {
        if (time < notBeforeMs) {
            return field + " " + instant(time) + " (" + time + " ms) is before event_time.not_before "
                    + instant(notBeforeMs) + " (seconds or zero instead of epoch milliseconds?)";
        }
        if (recordTimestamp >= 0 && time - recordTimestamp > maxFutureSkewMs) {
            return field + " " + instant(time) + " (" + time + " ms) is "
                    + approximately(time - recordTimestamp)
                    + " after the record's Kafka timestamp " + instant(recordTimestamp)
                    + ", more than event_time.max_future_skew "
                    + DurationParser.format(Duration.ofMillis(maxFutureSkewMs))
                    + " (microseconds instead of milliseconds, or a clock in the future?)";
        }
        return null;
    }

    private static String approximately(long ms) {
        if (ms >= 86_400_000L) {
            return String.format(java.util.Locale.ROOT, "%.1f days", ms / 86_400_000.0);
        }
        if (ms >= 3_600_000L) {
            return String.format(java.util.Locale.ROOT, "%.1f h", ms / 3_600_000.0);
        }
        return DurationParser.format(Duration.ofMillis(ms));
    }

    private static String instant(long ms) {
        try {
            return Instant.ofEpochMilli(ms).toString();
        } catch (java.time.DateTimeException e) {
            return "out of range";
        }
    }
}
