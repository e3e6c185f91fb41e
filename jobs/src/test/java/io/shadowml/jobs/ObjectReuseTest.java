package io.shadowml.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;

/**
 * {@link ShadowJob#build} enables object reuse: chained operators hand records over without a deep
 * copy. That is only safe if no operator keeps, or changes, a record it has passed on. Proof: the whole
 * pipeline over the same input gives the same reports and verdicts with object reuse as with Flink's
 * defensive copies (reuse switched off again after {@code build}).
 */
class ObjectReuseTest {
    private static final int REQUESTS = 6_000;
    private static final Path SHIPPED =
            Path.of("../models/shipped").toAbsolutePath().normalize();
    private static final Map<String, ConcurrentLinkedQueue<Object>> OUTPUTS = new ConcurrentHashMap<>();

    @TempDir
    Path dir;

    @Test
    void reportsAndVerdictsAreTheSameWithAndWithoutObjectReuse() throws Exception {
        ShadowJobConfig config = config();
        List<String> withReuse = run(config, true);
        List<String> withCopies = run(config, false);
        assertFalse(withReuse.isEmpty());
        assertTrue(withReuse.stream().anyMatch(s -> s.startsWith("CUMULATIVE")), "a cumulative report");
        assertEquals(withCopies, withReuse);
    }

    private List<String> run(ShadowJobConfig config, boolean objectReuse) throws Exception {
        String run = "reuse-" + objectReuse;
        OUTPUTS.put(run, new ConcurrentLinkedQueue<>());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        new ShadowJob(
                        config,
                        new DataGeneratorSource<>(new Requests(), REQUESTS, KafkaIO.DECODED_REQUEST),
                        new DataGeneratorSource<>(new Labels(), REQUESTS, KafkaIO.DECODED_LABEL),
                        new ShadowSinks(
                                new Collecting<>(run),
                                new Collecting<>(run),
                                new DiscardingSink<>(),
                                new DiscardingSink<>()))
                .build(env);
        assertTrue(env.getConfig().isObjectReuseEnabled(), "build enables object reuse");
        if (!objectReuse) {
            env.getConfig().disableObjectReuse();
        }
        env.execute(run);
        List<String> out = new ArrayList<>();
        for (Object o : OUTPUTS.remove(run)) {
            out.add(summary(o));
        }
        out.sort(null);
        return out;
    }

    /**
     * Counts exactly; metrics rounded to 9 significant digits (summation order may differ between runs);
     * without the measured inference latency.
     */
    private static String summary(Object o) {
        if (o instanceof Verdict v) {
            return "VERDICT " + v.getCandidate() + " " + v.getDecision() + " " + v.getDecidedAt();
        }
        ComparisonReport r = (ComparisonReport) o;
        StringBuilder s = new StringBuilder(r.getWindowKind() == WindowKind.CUMULATIVE ? "CUMULATIVE" : "WINDOW")
                .append(' ')
                .append(r.getWindowStart())
                .append('-')
                .append(r.getWindowEnd())
                .append(' ')
                .append(r.getCounts());
        for (ModelQuality q : r.getQuality()) {
            s.append(' ').append(q.getModel()).append(':').append(q.getLabelled());
            q.getMetrics().entrySet().stream()
                    // inference latency is measured, not computed from the input
                    .filter(m -> !m.getKey().startsWith("latency"))
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(m ->
                            s.append(' ').append(m.getKey()).append('=').append(String.format("%.9g", m.getValue())));
        }
        r.getDisagreement()
                .forEach(d ->
                        s.append(" flips=").append(d.getFlips()).append('/').append(d.getCompared()));
        return s.toString();
    }

    private ShadowJobConfig config() throws Exception {
        Path f = dir.resolve("shadow-job.yaml");
        Files.writeString(
                f,
                String.join(
                        "\n",
                        "experiment_id: reuse",
                        "kafka:",
                        "  bootstrap_servers: localhost:9092",
                        "topics: {requests: req, labels: lab, reports: rep, verdicts: ver, dead_letter: dlq}",
                        "segment_fields: [region, channel]",
                        "report_window: 1h",
                        "models:",
                        "  live: " + SHIPPED.resolve("fraud/live/model.json"),
                        "  candidates:",
                        "    - " + SHIPPED.resolve("fraud/candidate/model.json"),
                        ""));
        return ShadowJobConfig.load(f);
    }

    private static List<LabelledRequest> rows;
    private static List<Label> labels;

    private static synchronized LabelledRequest row(long i) throws Exception {
        if (rows == null) {
            rows = ScenarioData.fraud(REQUESTS);
        }
        return rows.get((int) i);
    }

    /**
     * The labels in label-time order, as on a label topic, so that no record is behind the watermark
     * and the reports do not depend on timing (an unlabelled request gets a label for an id never
     * scored: an unknown label).
     */
    private static synchronized Label label(long i) throws Exception {
        if (labels == null) {
            List<Label> all = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                LabelledRequest lr = row(r);
                all.add(
                        lr.labelled()
                                ? lr.label()
                                : Label.newBuilder()
                                        .setRequestId("never-scored-" + r)
                                        .setLabelTime(Instant.ofEpochMilli(
                                                lr.request().getEventTime().toEpochMilli() + 60_000))
                                        .setValue(0)
                                        .build());
            }
            all.sort(java.util.Comparator.comparing(Label::getLabelTime));
            labels = all;
        }
        return labels.get((int) i);
    }

    /** The fraud scenario's requests, each at its own event time. */
    static final class Requests implements GeneratorFunction<Long, Decoded<Request>> {
        @Override
        public Decoded<Request> map(Long i) throws Exception {
            Request r = row(i).request();
            return Decoded.ok(r, "req", 0, i, r.getEventTime().toEpochMilli(), null);
        }
    }

    /** Their labels, in label-time order. */
    static final class Labels implements GeneratorFunction<Long, Decoded<Label>> {
        @Override
        public Decoded<Label> map(Long i) throws Exception {
            Label l = label(i);
            return Decoded.ok(l, "lab", 0, i, l.getLabelTime().toEpochMilli(), null);
        }
    }

    /** Collects into {@link #OUTPUTS} (the MiniCluster runs in this JVM). */
    static final class Collecting<T> implements Sink<T> {
        private final String run;

        Collecting(String run) {
            this.run = run;
        }

        @Override
        public SinkWriter<T> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(T element, Context ctx) {
                    OUTPUTS.get(run).add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
