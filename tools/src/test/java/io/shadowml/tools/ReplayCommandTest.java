package io.shadowml.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.tools.io.CsvHistoryReader;
import io.shadowml.tools.io.HistoryRecord;
import io.shadowml.tools.io.Problem;
import io.shadowml.tools.io.RowSpec;
import io.shadowml.tools.replay.ReplayCommand;

/** The replay tool against a real broker: every valid row once, labels at their label time, bad rows counted. */
class ReplayCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @TempDir
    Path tmp;

    static String[] fraudOptions(String csv, String requests, String labels, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "--bootstrap",
                KAFKA.kafka().bootstrapServers(),
                "--requests-topic",
                requests,
                "--labels-topic",
                labels,
                "--input",
                csv,
                "--entity-column",
                "entity_id",
                "--segment-columns",
                "region,channel",
                "--feature-columns",
                String.join(",", ScenarioData.FRAUD_FEATURES),
                "--label-column",
                "label",
                "--label-delay-column",
                "label_delay_ms",
                "--quiet"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** The first {@code n} data lines of the shipped fraud holdout, with the header. */
    static List<String> holdout(int n) throws Exception {
        List<String> all = Files.readAllLines(ScenarioData.repoRoot().resolve("models/data/fraud/holdout.csv"));
        return new ArrayList<>(all.subList(0, n + 1));
    }

    @Test
    void replaysValidRowsOnceAndCountsBadRowsByReason() throws Exception {
        List<String> lines = holdout(60);
        // Bad rows; list index i is file line i + 1.
        lines.add(5, "txn-bad-1,1767571300000,card-1,EU,web,1.0,2.0"); // line 6: columns
        lines.add(
                11,
                lines.get(11).replaceFirst("^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)[^,]*", "$1twelve")); // line 12: number
        lines.add(20, "," + lines.get(20).substring(lines.get(20).indexOf(',') + 1)); // line 21: missing id
        lines.add(30, lines.get(30).replaceFirst("^([^,]*,)[^,]*", "$1yesterday")); // line 31: event time
        lines.add(40, lines.get(40).replaceFirst(",[01],(\\d*)$", ",maybe,$1")); // line 41: label
        Path csv = tmp.resolve("history.csv");
        Files.write(csv, lines);

        // What should arrive: every line that is not one of the five bad ones.
        Set<Integer> badLines = Set.of(6, 12, 21, 31, 41);
        Map<String, String[]> expected = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            if (!badLines.contains(i + 1)) {
                String[] v = lines.get(i).split(",", -1);
                expected.put(v[0], v);
            }
        }
        assertEquals(60, expected.size()); // bad rows are inserted (copies of valid rows, spoiled), not replacing them
        KAFKA.kafka().createTopic("r1-requests", 3);
        KAFKA.kafka().createTopic("r1-labels", 2);

        double rate = 200;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
        long t0 = System.nanoTime();
        Path summary = tmp.resolve("out/summary.properties");
        ReplayCommand.Result r = ReplayCommand.execute(
                fraudOptions(
                        csv.toString(),
                        "r1-requests",
                        "r1-labels",
                        "--rate",
                        String.valueOf((int) rate),
                        "--summary",
                        summary.toString()),
                err);
        double wall = (System.nanoTime() - t0) / 1e9;
        String stderr = errBytes.toString(StandardCharsets.UTF_8);

        // Skipped rows: by reason, with their line numbers.
        assertEquals(5, r.skippedTotal(), stderr);
        assertEquals(
                Map.of(
                        Problem.WRONG_COLUMN_COUNT,
                        1L,
                        Problem.BAD_NUMBER,
                        1L,
                        Problem.MISSING_ID,
                        1L,
                        Problem.BAD_EVENT_TIME,
                        1L,
                        Problem.BAD_LABEL,
                        1L),
                r.skipped);
        assertTrue(stderr.contains("history.csv: line 6: wrong column count: expected 16, found 7"), stderr);
        assertTrue(stderr.contains("history.csv: line 12: unparseable number: column 'amount': 'twelve'"), stderr);
        assertTrue(stderr.contains("history.csv: line 21: missing id"), stderr);
        assertTrue(stderr.contains("history.csv: line 31: unparseable event time"), stderr);
        assertTrue(stderr.contains("history.csv: line 41: unparseable label: column 'label': 'maybe'"), stderr);
        assertTrue(stderr.contains("wrong column count"), stderr);

        // Requests: each valid row exactly once, decodable, with its fields; key = id; timestamp = event time.
        List<ConsumerRecord<byte[], byte[]>> requests =
                KAFKA.kafka().readAll("r1-requests", false, Duration.ofSeconds(30));
        assertEquals(expected.size(), requests.size());
        assertEquals(expected.size(), r.requestsSent);
        Set<String> seen = new HashSet<>();
        int labelled = 0;
        for (ConsumerRecord<byte[], byte[]> rec : requests) {
            Request q = AvroCodec.decode(rec.value(), Request.class);
            String id = q.getRequestId();
            assertTrue(seen.add(id), "twice: " + id);
            String[] v = expected.get(id);
            assertNotNull(v, id);
            assertEquals(id, new String(rec.key(), StandardCharsets.UTF_8));
            assertEquals(Long.parseLong(v[1]), q.getEventTime().toEpochMilli());
            assertEquals(Long.parseLong(v[1]), rec.timestamp());
            assertEquals(v[2], q.getEntityId());
            assertEquals(Map.of("region", v[3], "channel", v[4]), q.getSegments());
            for (int f = 0; f < 9; f++) {
                assertEquals(Double.parseDouble(v[5 + f]), q.getFeatures().get(ScenarioData.FRAUD_FEATURES.get(f)));
            }
            assertNull(q.getVector());
            labelled += v[15].isEmpty() ? 0 : 1;
        }
        // Labels: one per labelled valid row, label_time = event_time + label_delay_ms, sent in label-time order.
        List<ConsumerRecord<byte[], byte[]>> labels = KAFKA.kafka().readAll("r1-labels", false, Duration.ofSeconds(30));
        assertEquals(labelled, labels.size());
        assertEquals(labelled, r.labelsSent);
        Set<String> labelIds = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> rec : labels) {
            Label l = AvroCodec.decode(rec.value(), Label.class);
            String[] v = expected.get(l.getRequestId());
            assertTrue(labelIds.add(l.getRequestId()));
            long labelTime = Long.parseLong(v[1]) + Long.parseLong(v[15]);
            assertEquals(labelTime, l.getLabelTime().toEpochMilli());
            assertEquals(labelTime, rec.timestamp());
            assertEquals(Double.parseDouble(v[14]), l.getValue());
        }
        // --summary: the same counts, for scripts.
        Properties written = new Properties();
        try (var in = Files.newBufferedReader(summary)) {
            written.load(in);
        }
        assertEquals("65", written.getProperty("rows"));
        assertEquals(String.valueOf(r.requestsSent), written.getProperty("requests_sent"));
        assertEquals(String.valueOf(r.labelsSent), written.getProperty("labels_sent"));
        assertEquals("5", written.getProperty("bad_rows"));
        assertEquals("0", written.getProperty("bad_rows_forwarded"));
        assertEquals("1", written.getProperty("bad_rows.wrong_column_count"));
        assertEquals(lines.get(1).split(",")[1], written.getProperty("first_time_ms"));

        // Rate limit: N records at `rate`/s take at least (N - 1) / rate seconds (behaviour, not a speed target).
        long n = r.requestsSent + r.labelsSent;
        assertTrue(wall >= (n - 1) / rate - 0.05, "wall " + wall + " s for " + n + " records at " + rate + "/s");
        assertTrue(r.seconds >= (n - 1) / rate - 0.05, "replay clock " + r.seconds);
    }

    @Test
    void usageErrorsExitWithTwoAndNameTheProblem() throws Exception {
        Path csv = tmp.resolve("h.csv");
        Files.write(csv, holdout(3));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(b, true, StandardCharsets.UTF_8);

        assertEquals(
                2,
                ShadowmlTool.run(
                        ShadowmlTool.withCommand("replay", fraudOptions(csv.toString(), "x", "y", "--bogus", "1")),
                        err));
        assertTrue(b.toString(StandardCharsets.UTF_8).contains("unknown option --bogus"));

        b.reset();
        String[] missingColumn = fraudOptions(csv.toString(), "x", "y");
        for (int i = 0; i < missingColumn.length; i++) {
            if (missingColumn[i].equals("region,channel")) {
                missingColumn[i] = "region,country";
            }
        }
        assertEquals(2, ShadowmlTool.run(ShadowmlTool.withCommand("replay", missingColumn), err));
        String msg = b.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains(csv + ": no column 'country' (option --segment-columns)"), msg);

        b.reset();
        assertEquals(
                2,
                ShadowmlTool.run(
                        new String[] {
                            "replay",
                            "--bootstrap",
                            "x:1",
                            "--requests-topic",
                            "t",
                            "--input",
                            tmp.resolve("missing.csv").toString(),
                            "--feature-columns",
                            "a"
                        },
                        err));
        assertTrue(b.toString(StandardCharsets.UTF_8).contains("missing.csv does not exist"));
    }

    @Test
    void delayDistributionsAreDeterministicPerRequest() throws Exception {
        Path csv = tmp.resolve("d.csv");
        Files.write(csv, holdout(200));
        RowSpec fixed = spec("fixed:7d");
        RowSpec logn = spec("lognormal:median=3d,sigma=0.8");
        List<Long> first = new ArrayList<>();
        try (CsvHistoryReader a = new CsvHistoryReader(csv, fixed);
                CsvHistoryReader b = new CsvHistoryReader(csv, logn)) {
            while (a.hasNext()) {
                HistoryRecord x = a.next();
                HistoryRecord y = b.next();
                long t = x.request.getEventTime().toEpochMilli();
                assertEquals(t + 7 * 86_400_000L, x.label.getLabelTime().toEpochMilli());
                first.add(y.label.getLabelTime().toEpochMilli() - t);
            }
        }
        // Same draws on a second read; a median near 3 days.
        try (CsvHistoryReader b = new CsvHistoryReader(csv, logn)) {
            for (long d : first) {
                HistoryRecord y = b.next();
                assertEquals(
                        d,
                        y.label.getLabelTime().toEpochMilli()
                                - y.request.getEventTime().toEpochMilli());
            }
        }
        List<Long> sorted = new ArrayList<>(first);
        sorted.sort(null);
        double medianDays = sorted.get(sorted.size() / 2) / 86_400_000.0;
        assertTrue(medianDays > 2.2 && medianDays < 4.0, "median " + medianDays);
    }

    static RowSpec spec(String delay) {
        return new RowSpec(
                "request_id",
                "event_time",
                "entity_id",
                List.of("region", "channel"),
                ScenarioData.FRAUD_FEATURES,
                null,
                "label",
                null,
                null,
                io.shadowml.tools.io.DelayDistribution.parse(delay, "label-delay"),
                42);
    }
}
