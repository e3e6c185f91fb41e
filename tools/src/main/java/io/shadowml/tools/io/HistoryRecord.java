package io.shadowml.tools.io;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;

/**
 * One input row: a request with its label (or none), or a bad row with its problem.
 *
 * <p>{@link #position} is where the row is in its file: the 1-based line number in a CSV file (the header
 * is line 1), the 0-based record index in an Avro container file. The backtest uses it as the Kafka
 * offset of dead letters and the replay tool prints it in errors.
 */
public final class HistoryRecord {
    public final long position;
    /** Null for a bad row. */
    public final Request request;
    /** Null when the request is never labelled (and for a bad row). */
    public final Label label;

    public final Problem problem;
    public final String message;
    /** The row's raw bytes (a bad row's UTF-8 line). */
    public final byte[] raw;
    /**
     * The record's event time: the request's event time, or for a bad row its own event time if that
     * column parsed, else the last event time before it in the file, else the file's first event time.
     */
    public final long timestamp;

    private HistoryRecord(
            long position, Request request, Label label, Problem problem, String message, byte[] raw, long timestamp) {
        this.position = position;
        this.request = request;
        this.label = label;
        this.problem = problem;
        this.message = message;
        this.raw = raw;
        this.timestamp = timestamp;
    }

    public static HistoryRecord good(long position, Request request, Label label, long timestamp) {
        return new HistoryRecord(position, request, label, null, null, null, timestamp);
    }

    public static HistoryRecord bad(long position, Problem problem, String message, byte[] raw, long timestamp) {
        return new HistoryRecord(position, null, null, problem, message, raw, timestamp);
    }

    public boolean isBad() {
        return problem != null;
    }

    /** The dead-letter reason / error line text: "line 17: wrong column count: expected 16, found 15". */
    public String reason() {
        return "line " + position + ": " + problem.text + ": " + message;
    }
}
