package io.shadowml.tools.backtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.tools.io.RowSpec;

/**
 * What the backtest's file sources yield, read through the format as FileSource reads it (a stream of the
 * file): records with the replay tool's timestamps in Decoded.kafkaTimestamp, dead letters for bad rows at
 * their line numbers, labels of CSV rows and of Avro label files.
 */
class HistoryFormatTest {
    @TempDir
    Path tmp;

    static final RowSpec SPEC = new RowSpec(
            "request_id", "event_time", null, List.of(), List.of("a"), null, "label", null, "delay", null, 0);

    @Test
    void csvRowsAndLabelsWithTheReplayToolsTimestamps() throws Exception {
        Path csv = tmp.resolve("_history.csv");
        Files.writeString(
                csv,
                String.join(
                        "\n",
                        "request_id,event_time,a,label,delay",
                        "r0,1000,x,1,5", // line 2: bad number, before any good row: the first event time (1000)
                        "",
                        "r1,2000,1.5,1,50", // line 4
                        "only,two", // line 5: wrong column count, the last event time (2000)
                        "r2,3000,2.5,,", // line 6: never labelled
                        "r3,2500,3.5,0,100",
                        "")); // line 7
        List<Decoded<Request>> requests = read(HistoryFormat.requests(csv.toString(), "_history.csv", SPEC), csv);
        assertEquals(5, requests.size());
        assertDeadLetter(requests.get(0), 2, 1000, "line 2: unparseable number", "r0,1000");
        assertRequest(requests.get(1), "r1", 4, 2000);
        assertDeadLetter(requests.get(2), 5, 2000, "line 5: wrong column count", "only,two");
        assertRequest(requests.get(3), "r2", 6, 3000);
        assertRequest(requests.get(4), "r3", 7, 2500);

        List<Decoded<Label>> labels =
                read(HistoryFormat.labels(HistoryFormat.Kind.CSV_LABELS, csv.toString(), "_history.csv", SPEC), csv);
        assertEquals(2, labels.size());
        assertEquals("r1", labels.get(0).value.getRequestId());
        assertEquals(2050, labels.get(0).kafkaTimestamp);
        assertEquals(4, labels.get(0).offset);
        assertEquals("r3", labels.get(1).value.getRequestId());
        assertEquals(2600, labels.get(1).kafkaTimestamp);
        assertEquals(0.0, labels.get(1).value.getValue());

        assertTrue(read(HistoryFormat.labels(HistoryFormat.Kind.NONE, csv.toString(), "_history.csv", null), csv)
                .isEmpty());
    }

    @Test
    void badRowsBeforeAnyGoodOneTakeTheFirstEventTime() throws Exception {
        Path csv = tmp.resolve("late-start.csv");
        Files.writeString(
                csv,
                String.join(
                        "\n",
                        "request_id,event_time,a,label,delay",
                        "bad,row", // line 2: no event time anywhere on it
                        ",,,,", // line 3: missing id
                        "r1,5000,1.5,1,50")); // line 4: the first event time
        List<Decoded<Request>> requests = read(HistoryFormat.requests(csv.toString(), "late-start.csv", SPEC), csv);
        assertEquals(3, requests.size());
        assertEquals(5000, requests.get(0).kafkaTimestamp);
        assertEquals(2, requests.get(0).deadLetter.getOffset());
        assertEquals(5000, requests.get(1).kafkaTimestamp);
        assertEquals(3, requests.get(1).deadLetter.getOffset());
        assertRequest(requests.get(2), "r1", 4, 5000);
    }

    @Test
    void avroRequestsAndLabelsByRecordIndex() throws Exception {
        Path requestsFile = tmp.resolve("requests.avro");
        write(
                requestsFile,
                Request.class,
                List.of(
                        Request.newBuilder()
                                .setRequestId("q0")
                                .setEventTime(Instant.ofEpochMilli(7000))
                                .setFeatures(Map.of("a", 1.0))
                                .build(),
                        Request.newBuilder()
                                .setRequestId("q1")
                                .setEventTime(null)
                                .setFeatures(Map.of("a", 2.0))
                                .build()));
        List<Decoded<Request>> requests =
                read(HistoryFormat.requests(requestsFile.toString(), "requests.avro", null), requestsFile);
        assertEquals(2, requests.size());
        assertRequest(requests.get(0), "q0", 0, 7000);
        // No event time: the previous record's, as the replay tool stamps it (the job dead-letters the request).
        assertRequest(requests.get(1), "q1", 1, 7000);

        Path labelsFile = tmp.resolve("labels.avro");
        write(
                labelsFile,
                Label.class,
                List.of(
                        Label.newBuilder()
                                .setRequestId("q0")
                                .setLabelTime(Instant.ofEpochMilli(9000))
                                .setValue(1.0)
                                .build(),
                        Label.newBuilder()
                                .setRequestId("q1")
                                .setLabelTime(null)
                                .setValue(0.0)
                                .build()));
        List<Decoded<Label>> labels = read(
                HistoryFormat.labels(HistoryFormat.Kind.AVRO_LABELS, labelsFile.toString(), "labels.avro", null),
                labelsFile);
        assertEquals(2, labels.size());
        assertEquals(9000, labels.get(0).kafkaTimestamp);
        assertEquals(1, labels.get(1).offset);
        assertEquals(9000, labels.get(1).kafkaTimestamp);
        assertEquals("labels.avro", labels.get(1).topic);
    }

    private static void assertRequest(Decoded<Request> d, String id, long offset, long timestamp) {
        assertNull(d.deadLetter);
        assertEquals(id, d.value.getRequestId());
        assertEquals(offset, d.offset);
        assertEquals(0, d.partition);
        assertEquals(timestamp, d.kafkaTimestamp);
    }

    private static void assertDeadLetter(
            Decoded<Request> d, long line, long timestamp, String reason, String rawStart) {
        assertNull(d.value);
        assertEquals("_history.csv", d.deadLetter.getSourceTopic());
        assertEquals(0, d.deadLetter.getPartition());
        assertEquals(line, d.deadLetter.getOffset());
        assertEquals(timestamp, d.kafkaTimestamp);
        assertEquals(Instant.ofEpochMilli(timestamp), d.deadLetter.getFailedAt());
        assertTrue(d.deadLetter.getReason().startsWith(reason), d.deadLetter.getReason());
        assertNotNull(d.deadLetter.getRaw());
        String raw = StandardCharsets.UTF_8.decode(d.deadLetter.getRaw()).toString();
        assertTrue(raw.startsWith(rawStart), raw);
    }

    private static <T> List<T> read(HistoryFormat<?> format, Path file) throws IOException {
        FileSystem fs = FileSystem.getLocalFileSystem();
        List<T> out = new ArrayList<>();
        @SuppressWarnings("unchecked")
        StreamFormat.Reader<T> reader = (StreamFormat.Reader<T>) format.createReader(
                new Configuration(),
                fs.open(new org.apache.flink.core.fs.Path(file.toUri())),
                Files.size(file),
                Files.size(file));
        try (reader) {
            T t;
            while ((t = reader.read()) != null) {
                out.add(t);
            }
        }
        return out;
    }

    private static <T extends SpecificRecord> void write(Path file, Class<T> type, List<T> records) throws IOException {
        try (DataFileWriter<T> w = new DataFileWriter<>(new SpecificDatumWriter<>(type))) {
            w.create(records.get(0).getSchema(), file.toFile());
            for (T r : records) {
                w.append(r);
            }
        }
    }
}
