package io.shadowml.tools.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.tools.cli.UsageException;

/**
 * CSV with a header line. Fields are separated by ',' and may be double-quoted ("" inside quotes is a
 * quote); a record is one line. Blank lines are ignored. Times are epoch milliseconds or ISO-8601 instants.
 * A row that cannot become a Request (and Label) is returned as a bad row with the reason; the file goes on.
 */
public final class CsvHistoryReader implements HistoryReader {
    private final String name;
    private final long size;
    private final CountingInputStream counting;
    private final BufferedReader in;
    private final RowSpec spec;
    private final RowSpec.Bound cols;
    /** Lines read ahead to find the first event time (see {@link #lookAhead}). */
    private final ArrayDeque<Line> ahead = new ArrayDeque<>();

    private boolean firstTimeKnown;
    private long line = 1;
    private long lastTime;
    private HistoryRecord next;

    private record Line(long number, String text) {}

    public CsvHistoryReader(Path file, RowSpec spec) throws IOException {
        this(file.toString(), file.getFileName().toString(), Files.newInputStream(file), Files.size(file), spec);
    }

    /**
     * Reads a CSV stream (and closes it).
     *
     * @param where how errors about the header name the input (its path)
     * @param name  the file's name, the "topic" of the backtest's records
     * @param size  the stream's length in bytes, for {@link #progress}; 0 if unknown
     */
    public CsvHistoryReader(String where, String name, InputStream stream, long size, RowSpec spec) throws IOException {
        this.name = name;
        this.size = Math.max(1, size);
        this.spec = spec;
        this.counting = new CountingInputStream(stream);
        this.in = new BufferedReader(new InputStreamReader(counting, StandardCharsets.UTF_8), 1 << 16);
        String header = in.readLine();
        if (header == null) {
            in.close();
            throw new UsageException(where + ": empty file, expected a CSV header");
        }
        if (header.startsWith("\uFEFF")) {
            header = header.substring(1);
        }
        List<String> names = split(header);
        if (names == null) {
            in.close();
            throw new UsageException(where + ": malformed CSV header");
        }
        try {
            this.cols = spec.new Bound(where, names);
        } catch (UsageException e) {
            in.close();
            throw e;
        }
    }

    /**
     * Bad rows before the first good one take the first event time that parses (or 0): read ahead to it,
     * once. Only the rows before it are held, so a stream is read once.
     */
    private void lookAhead() throws IOException {
        firstTimeKnown = true;
        Line l;
        while ((l = nextLine()) != null) {
            ahead.add(l);
            List<String> v = split(l.text());
            if (v != null && v.size() == cols.columns) {
                try {
                    lastTime = RowSpec.parseTime(v.get(cols.time));
                    return;
                } catch (IllegalArgumentException e) {
                    // keep looking
                }
            }
        }
        lastTime = 0;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public double progress() {
        return Math.min(1.0, (double) counting.count / size);
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            try {
                next = read();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(name + ": read failed after line " + line, e);
            }
        }
        return next != null;
    }

    @Override
    public HistoryRecord next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        HistoryRecord r = next;
        next = null;
        return r;
    }

    private HistoryRecord read() throws IOException {
        if (!firstTimeKnown) {
            lookAhead();
        }
        Line l = ahead.isEmpty() ? nextLine() : ahead.poll();
        return l == null ? null : parse(l.number(), l.text());
    }

    /** The next non-blank line, or null at the end. */
    private Line nextLine() throws IOException {
        String text;
        do {
            text = in.readLine();
            if (text == null) {
                return null;
            }
            line++;
        } while (text.isBlank());
        return new Line(line, text);
    }

    private HistoryRecord parse(long lineNo, String text) {
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        List<String> v = split(text);
        if (v == null) {
            return HistoryRecord.bad(
                    lineNo, Problem.MALFORMED_CSV, "a quoted field does not end on this line", raw, lastTime);
        }
        if (v.size() != cols.columns) {
            return HistoryRecord.bad(
                    lineNo,
                    Problem.WRONG_COLUMN_COUNT,
                    "expected " + cols.columns + ", found " + v.size(),
                    raw,
                    lastTime);
        }
        String timeText = v.get(cols.time);
        long time;
        boolean timeOk = false;
        if (timeText.isBlank()) {
            time = lastTime;
        } else {
            try {
                time = RowSpec.parseTime(timeText);
                timeOk = true;
            } catch (IllegalArgumentException e) {
                time = lastTime;
            }
        }
        lastTime = time;
        String id = v.get(cols.id).trim();
        if (id.isEmpty()) {
            return HistoryRecord.bad(lineNo, Problem.MISSING_ID, "column '" + spec.idColumn + "' is empty", raw, time);
        }
        if (!timeOk) {
            return timeText.isBlank()
                    ? HistoryRecord.bad(
                            lineNo, Problem.MISSING_EVENT_TIME, "column '" + spec.timeColumn + "' is empty", raw, time)
                    : HistoryRecord.bad(
                            lineNo,
                            Problem.BAD_EVENT_TIME,
                            "column '" + spec.timeColumn + "': '" + timeText
                                    + "' is neither epoch milliseconds nor an ISO-8601 instant",
                            raw,
                            time);
        }
        Request.Builder request = Request.newBuilder().setRequestId(id).setEventTime(Instant.ofEpochMilli(time));
        if (cols.entity >= 0 && !v.get(cols.entity).isEmpty()) {
            request.setEntityId(v.get(cols.entity));
        }
        Map<String, String> segments = new LinkedHashMap<>();
        for (int i = 0; i < cols.segments.length; i++) {
            String s = v.get(cols.segments[i]);
            if (!s.isEmpty()) {
                segments.put(spec.segmentColumns.get(i), s);
            }
        }
        request.setSegments(segments);
        if (cols.servedBy >= 0 && !v.get(cols.servedBy).isEmpty()) {
            request.setServedBy(v.get(cols.servedBy));
        }
        if (cols.productionScore >= 0) {
            String s = v.get(cols.productionScore).trim();
            if (!s.isEmpty()) {
                try {
                    request.setProductionScore(Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    return HistoryRecord.bad(
                            lineNo,
                            Problem.BAD_NUMBER,
                            "column '" + spec.productionScoreColumn + "': '" + s + "'",
                            raw,
                            time);
                }
            }
        }
        if (cols.features.length > 0) {
            Map<String, Double> features = new HashMap<>();
            for (int i = 0; i < cols.features.length; i++) {
                String s = v.get(cols.features[i]).trim();
                String column = cols.featureNames[i];
                if (s.isEmpty()) {
                    return HistoryRecord.bad(
                            lineNo, Problem.MISSING_VALUE, "column '" + column + "' is empty", raw, time);
                }
                try {
                    features.put(column, Double.parseDouble(s));
                } catch (NumberFormatException e) {
                    return HistoryRecord.bad(
                            lineNo, Problem.BAD_NUMBER, "column '" + column + "': '" + s + "'", raw, time);
                }
            }
            request.setFeatures(features);
        } else {
            List<Float> vector = new ArrayList<>(cols.vector.length);
            for (int c : cols.vector) {
                String s = v.get(c).trim();
                if (s.isEmpty()) {
                    return HistoryRecord.bad(
                            lineNo, Problem.MISSING_VALUE, "column '" + header(c) + "' is empty", raw, time);
                }
                try {
                    vector.add(Float.parseFloat(s));
                } catch (NumberFormatException e) {
                    return HistoryRecord.bad(
                            lineNo, Problem.BAD_NUMBER, "column '" + header(c) + "': '" + s + "'", raw, time);
                }
            }
            request.setVector(vector);
        }
        Label label = null;
        if (cols.label >= 0) {
            String lv = v.get(cols.label).trim();
            if (!lv.isEmpty()) {
                double value;
                try {
                    value = Double.parseDouble(lv);
                } catch (NumberFormatException e) {
                    return HistoryRecord.bad(
                            lineNo, Problem.BAD_LABEL, "column '" + spec.labelColumn + "': '" + lv + "'", raw, time);
                }
                long labelTime = Long.MIN_VALUE;
                if (cols.labelTime >= 0) {
                    String lt = v.get(cols.labelTime).trim();
                    if (!lt.isEmpty()) {
                        try {
                            labelTime = RowSpec.parseTime(lt);
                        } catch (IllegalArgumentException e) {
                            return HistoryRecord.bad(
                                    lineNo,
                                    Problem.BAD_LABEL_TIME,
                                    "column '" + spec.labelTimeColumn + "': " + e.getMessage(),
                                    raw,
                                    time);
                        }
                    }
                } else if (cols.labelDelayCol >= 0) {
                    String ld = v.get(cols.labelDelayCol).trim();
                    if (!ld.isEmpty()) {
                        long delay;
                        try {
                            delay = RowSpec.parseDelay(ld);
                        } catch (IllegalArgumentException e) {
                            return HistoryRecord.bad(
                                    lineNo,
                                    Problem.BAD_LABEL_TIME,
                                    "column '" + spec.labelDelayColumn + "': '" + ld
                                            + "' is not milliseconds or a duration",
                                    raw,
                                    time);
                        }
                        if (delay < 0) {
                            return HistoryRecord.bad(
                                    lineNo,
                                    Problem.BAD_LABEL_TIME,
                                    "column '" + spec.labelDelayColumn + "': negative delay " + ld,
                                    raw,
                                    time);
                        }
                        labelTime = time + delay;
                    }
                } else {
                    long delay = spec.labelDelay.sample(spec.seed, id);
                    if (delay >= 0) {
                        labelTime = time + delay;
                    }
                }
                if (labelTime != Long.MIN_VALUE) {
                    label = Label.newBuilder()
                            .setRequestId(id)
                            .setLabelTime(Instant.ofEpochMilli(labelTime))
                            .setValue(value)
                            .build();
                }
            }
        }
        return HistoryRecord.good(lineNo, request.build(), label, time);
    }

    private String header(int column) {
        return cols.names.get(column);
    }

    /** Splits one CSV line; null when a quoted field is not closed. */
    static List<String> split(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == ',') {
                out.add(field.toString());
                field.setLength(0);
                wasQuoted = false;
            } else if (c == '"' && field.length() == 0 && !wasQuoted) {
                quoted = true;
                wasQuoted = true;
            } else if (c != '\r' || i != line.length() - 1) {
                field.append(c);
            }
        }
        if (quoted) {
            return null;
        }
        out.add(field.toString());
        return out;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
