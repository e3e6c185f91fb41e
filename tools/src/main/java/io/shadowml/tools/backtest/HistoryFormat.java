package io.shadowml.tools.backtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.AvroDecodingDeserializer;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.DecodingDeserializer;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.tools.io.AvroHistoryReader;
import io.shadowml.tools.io.CsvHistoryReader;
import io.shadowml.tools.io.HistoryReader;
import io.shadowml.tools.io.HistoryRecord;
import io.shadowml.tools.io.LabelFileReader;
import io.shadowml.tools.io.RowSpec;

/**
 * How Flink's {@code FileSource} reads one history file ({@link HistorySources}): the tools' own readers
 * over the file's stream, yielding what the Kafka sources yield — {@link Decoded} records. Each good row is
 * encoded to Avro binary and decoded by the job's {@link AvroDecodingDeserializer}, so the records are the
 * objects a Kafka source would produce. Bad rows become dead letters like undecodable Kafka records: topic =
 * the file name, partition 0, offset = the line number (Avro files: the record index), the raw line.
 *
 * <p>Timestamps: a {@code FileSource} emits its records without one, so each record carries the
 * timestamp a Kafka record written by the replay tool would have (event time, label time; bad rows: see
 * {@link HistoryRecord#timestamp}) in {@link Decoded#kafkaTimestamp}, which is what the job's timestamp
 * assigner falls back to (for a Kafka source it holds the record's own timestamp).
 *
 * <p>Not splittable ({@link SimpleStreamFormat}): a row's line number and the first event time (for bad rows
 * before any good one) need the file from its start.
 */
final class HistoryFormat<T extends SpecificRecord> extends SimpleStreamFormat<Decoded<T>> {
    private static final long serialVersionUID = 1L;

    enum Kind {
        /** Requests: CSV rows (with a spec) or an Avro container of Requests. */
        REQUESTS,
        /** The labels of a CSV file's rows (bad and unlabelled rows yield none). */
        CSV_LABELS,
        /** An Avro container of Labels. */
        AVRO_LABELS,
        /** JSON lines, one record per line, decoded with the config's format: json mapping. */
        JSON_LINES,
        /** Nothing: the source of labels when there are none (a file source needs a file). */
        NONE
    }

    private final Kind kind;
    private final String path;
    private final String fileName;
    private final RowSpec spec;
    private final Class<T> type;
    private final TypeInformation<Decoded<T>> producedType;
    /** JSON_LINES only: the job's decoding of one value (the config's json mapping). */
    private final DecodingDeserializer<T> jsonDecoding;

    private HistoryFormat(
            Kind kind,
            String path,
            String fileName,
            RowSpec spec,
            Class<T> type,
            TypeInformation<Decoded<T>> producedType,
            DecodingDeserializer<T> jsonDecoding) {
        this.kind = kind;
        this.path = path;
        this.fileName = fileName;
        this.spec = spec;
        this.type = type;
        this.producedType = producedType;
        this.jsonDecoding = jsonDecoding;
    }

    static HistoryFormat<Request> requests(String path, String fileName, RowSpec spec) {
        return new HistoryFormat<>(Kind.REQUESTS, path, fileName, spec, Request.class, KafkaIO.DECODED_REQUEST, null);
    }

    static HistoryFormat<Label> labels(Kind kind, String path, String fileName, RowSpec spec) {
        return new HistoryFormat<>(kind, path, fileName, spec, Label.class, KafkaIO.DECODED_LABEL, null);
    }

    /** Requests or labels as JSON lines, each line decoded by {@code decoding} as a Kafka value would be. */
    static <T extends SpecificRecord> HistoryFormat<T> jsonLines(
            String path,
            String fileName,
            Class<T> type,
            TypeInformation<Decoded<T>> producedType,
            DecodingDeserializer<T> decoding) {
        return new HistoryFormat<>(Kind.JSON_LINES, path, fileName, null, type, producedType, decoding);
    }

    @Override
    public TypeInformation<Decoded<T>> getProducedType() {
        return producedType;
    }

    @Override
    public StreamFormat.Reader<Decoded<T>> createReader(Configuration config, FSDataInputStream stream)
            throws IOException {
        AvroDecodingDeserializer<T> decoder = new AvroDecodingDeserializer<>(type, producedType, List.of());
        switch (kind) {
            case REQUESTS: {
                HistoryReader rows = spec == null
                        ? new AvroHistoryReader(path, fileName, stream, 0)
                        : new CsvHistoryReader(path, fileName, stream, 0, spec);
                return reader(rows, () -> {
                    if (!rows.hasNext()) {
                        return null;
                    }
                    HistoryRecord r = rows.next();
                    return r.isBad()
                            ? Decoded.failed(r.reason(), fileName, 0, r.position, r.timestamp, null, r.raw)
                            : decoder.decode(
                                    AvroCodec.encode(r.request),
                                    key(r.request.getRequestId()),
                                    fileName,
                                    0,
                                    r.position,
                                    r.timestamp);
                });
            }
            case CSV_LABELS: {
                HistoryReader rows = new CsvHistoryReader(path, fileName, stream, 0, spec);
                return reader(rows, () -> {
                    while (rows.hasNext()) {
                        HistoryRecord r = rows.next();
                        if (!r.isBad() && r.label != null) {
                            return decoder.decode(
                                    AvroCodec.encode(r.label),
                                    key(r.label.getRequestId()),
                                    fileName,
                                    0,
                                    r.position,
                                    r.label.getLabelTime().toEpochMilli());
                        }
                    }
                    return null;
                });
            }
            case AVRO_LABELS: {
                LabelFileReader labels = new LabelFileReader(path, fileName, stream);
                long[] lastTime = {0};
                return reader(labels, () -> {
                    if (!labels.hasNext()) {
                        return null;
                    }
                    LabelFileReader.Indexed l = labels.next();
                    if (l.label().getLabelTime() != null) {
                        lastTime[0] = l.label().getLabelTime().toEpochMilli();
                    }
                    return decoder.decode(
                            AvroCodec.encode(l.label()),
                            key(l.label().getRequestId()),
                            fileName,
                            0,
                            l.index(),
                            lastTime[0]);
                });
            }
            case JSON_LINES: {
                BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
                long[] lineNumber = {0};
                long[] lastTime = {0};
                return reader(lines, () -> {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        lineNumber[0]++;
                        if (line.isBlank()) {
                            continue;
                        }
                        // The time a Kafka record written by the replay tool would carry: the record's own
                        // event (label) time, or, for a line that does not decode, the last one before it.
                        Decoded<T> d = jsonDecoding.decode(
                                line.getBytes(StandardCharsets.UTF_8), null, fileName, 0, lineNumber[0], lastTime[0]);
                        Instant time = d.value == null ? null : time(d.value);
                        if (time != null) {
                            lastTime[0] = time.toEpochMilli();
                            d.kafkaTimestamp = lastTime[0];
                        }
                        return d;
                    }
                    return null;
                });
            }
            default:
                return reader(stream, () -> null);
        }
    }

    private static Instant time(Object record) {
        return record instanceof Request ? ((Request) record).getEventTime() : ((Label) record).getLabelTime();
    }

    private static byte[] key(CharSequence id) {
        return id == null ? null : id.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The next record, or null at the end of the file. */
    private interface Next<T> {
        T get() throws IOException;
    }

    private static <T> StreamFormat.Reader<T> reader(java.io.Closeable input, Next<T> next) {
        return new StreamFormat.Reader<>() {
            @Override
            public T read() throws IOException {
                return next.get();
            }

            @Override
            public void close() throws IOException {
                input.close();
            }
        };
    }
}
