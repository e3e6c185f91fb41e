package io.shadowml.jobs.it;

import static io.shadowml.jobs.it.ExpectedMetrics.binaryLogLoss;
import static io.shadowml.jobs.it.ExpectedMetrics.clip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.apache.avro.specific.SpecificRecord;
import org.apache.datasketches.kll.KllSketch;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Decision;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.EventDisagreement;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.ReferenceScores;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.models.ModelDescriptor;

/**
 * The whole job on real components: a Flink MiniCluster and a real KRaft broker. Both shipped
 * scenarios are replayed into Kafka with bad records mixed in; the reports read back with
 * read_committed must equal what this test computes itself from the same events.
 */
class ShadowJobIntegrationTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @TempDir
    Path tmp;

    /** A bad record the test produced, and the words its dead letter's reason must contain. */
    record ExpectedDeadLetter(String topic, int partition, long offset, byte[] raw, String reasonContains) {}

    /** What a scenario sent, the test's own bookkeeping. */
    static final class Sent {
        final List<LabelledRequest> valid = new ArrayList<>();
        final Map<String, Double> firstLabel = new HashMap<>();
        final List<ExpectedDeadLetter> deadLetters = new ArrayList<>();
        long duplicateLabels;
        long unknownLabels;
    }

    @Test
    void fraudScenarioReportsMatchBruteForce() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(3000);
        Path models = ScenarioData.repoRoot().resolve("models/shipped/fraud");
        Scenario s = new Scenario("fraud", models, events, "1d", "14d", List.of("region", "channel"));
        Request missingFeature = copy(events.get(10).request(), "bad-missing-feature");
        missingFeature.getFeatures().remove("merchant_risk");
        Request nanFeature = copy(events.get(11).request(), "bad-nan-feature");
        nanFeature.getFeatures().put("amount", Double.NaN);
        s.badRequest(missingFeature, "missing feature 'merchant_risk'");
        s.badRequest(nanFeature, "feature 'amount' is NaN");
        Request hugeFeature = copy(events.get(12).request(), "bad-huge-feature");
        hugeFeature.getFeatures().put("amount", 3.5e38);
        s.badRequest(hugeFeature, "beyond the float32 range");
        s.badLabelValue(2.0, "binary label must be 0 or 1");
        s.run();
    }

    @Test
    void fashionScenarioReportsMatchBruteForce() throws Exception {
        List<LabelledRequest> events = ScenarioData.fashion(1200, Instant.parse("2026-01-05T00:00:00Z"), 60_000, 7);
        Path models = ScenarioData.repoRoot().resolve("models/shipped/fashion");
        // "device" is in no request: every request is in its "(none)" slice.
        Scenario s = new Scenario("fashion", models, events, "2h", "3d", List.of("site", "device"));
        Request shortVector = copy(events.get(10).request(), "bad-short-vector");
        shortVector.setVector(new ArrayList<>(shortVector.getVector().subList(0, 783)));
        Request infPixel = copy(events.get(11).request(), "bad-inf-pixel");
        infPixel.getVector().set(5, Float.POSITIVE_INFINITY);
        s.badRequest(shortVector, "vector has 783 values");
        s.badRequest(infPixel, "vector[5] is Infinity");
        s.badLabelValue(10.0, "class label must be an integer in [0, 10)");
        s.run();
    }

    static Request copy(Request r, String id) {
        Request c = Request.newBuilder(r).setRequestId(id).build();
        if (c.getFeatures() != null) {
            c.setFeatures(new HashMap<>(c.getFeatures()));
        }
        if (c.getVector() != null) {
            c.setVector(new ArrayList<>(c.getVector()));
        }
        return c;
    }

    final class Scenario {
        final String name;
        final Path modelDir;
        final List<LabelledRequest> events;
        final String window;
        final String horizon;
        final List<String> segmentFields;
        final List<Object[]> extraBadRequests = new ArrayList<>();
        double badLabel;
        String badLabelReason;

        Scenario(
                String name,
                Path modelDir,
                List<LabelledRequest> events,
                String window,
                String horizon,
                List<String> segmentFields) {
            this.name = name;
            this.modelDir = modelDir;
            this.events = events;
            this.window = window;
            this.horizon = horizon;
            this.segmentFields = segmentFields;
        }

        void badRequest(Request r, String reason) {
            extraBadRequests.add(new Object[] {r, reason});
        }

        void badLabelValue(double value, String reason) {
            badLabel = value;
            badLabelReason = reason;
        }

        String topic(String kind) {
            return name + "-" + kind;
        }

        void run() throws Exception {
            KAFKA.kafka().createTopic(topic("requests"), 3);
            KAFKA.kafka().createTopic(topic("labels"), 2);
            for (String t : List.of("reports", "verdicts", "scored", "dead-letters")) {
                KAFKA.kafka().createTopic(topic(t), 1);
            }
            Sent sent = produce();
            Path config = writeConfig();

            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(2);
            ShadowJobConfig cfg = ShadowJobConfig.load(config);
            ShadowJob.enableCheckpointing(env, cfg);
            new ShadowJob(cfg, KafkaIO.requestSource(cfg, true), KafkaIO.labelSource(cfg, true), KafkaIO.sinks(cfg))
                    .build(env);
            env.execute("shadow-" + name);

            verify(sent, cfg);
        }

        Sent produce() throws Exception {
            Sent sent = new Sent();
            List<ProducerRecord<byte[], byte[]>> requests = new ArrayList<>();
            List<String> badReasons = new ArrayList<>();
            List<ProducerRecord<byte[], byte[]>> labels = new ArrayList<>();
            List<String> badLabelReasons = new ArrayList<>();
            String requestsTopic = topic("requests");
            String labelsTopic = topic("labels");
            int i = 0;
            for (LabelledRequest e : events) {
                long t = e.request().getEventTime().toEpochMilli();
                requests.add(record(requestsTopic, e.request().getRequestId(), AvroCodec.encode(e.request()), t));
                badReasons.add(null);
                sent.valid.add(e);
                if (e.labelled()) {
                    sent.firstLabel.put(e.request().getRequestId(), e.label().getValue());
                    labels.add(record(
                            labelsTopic,
                            e.request().getRequestId(),
                            AvroCodec.encode(e.label()),
                            e.label().getLabelTime().toEpochMilli()));
                    badLabelReasons.add(null);
                    if (i % 400 == 7) { // a second, contradicting label: the first must win
                        Label dup = Label.newBuilder(e.label())
                                .setValue(
                                        name.equals("fraud")
                                                ? 1 - e.label().getValue()
                                                : (e.label().getValue() + 1) % 10)
                                .setLabelTime(e.label().getLabelTime().plusSeconds(60))
                                .build();
                        labels.add(record(
                                labelsTopic,
                                e.request().getRequestId(),
                                AvroCodec.encode(dup),
                                dup.getLabelTime().toEpochMilli()));
                        badLabelReasons.add(null);
                        sent.duplicateLabels++;
                    }
                }
                if (i % 500 == 250) {
                    // Bytes that are not a Request at all, and a truncated Request.
                    byte[] garbage = ("not avro " + i).getBytes(StandardCharsets.UTF_8);
                    requests.add(record(requestsTopic, "garbage-" + i, garbage, t));
                    badReasons.add("undecodable Request");
                    byte[] valid = AvroCodec.encode(e.request());
                    requests.add(record(requestsTopic, "truncated-" + i, Arrays.copyOf(valid, valid.length / 2), t));
                    badReasons.add("undecodable Request");
                }
                if (i == 300) {
                    Request noId = copy(e.request(), null);
                    requests.add(record(requestsTopic, "no-id", AvroCodec.encode(noId), t));
                    badReasons.add("missing request_id");
                    Request noTime = copy(e.request(), "bad-no-time");
                    noTime.setEventTime(null);
                    requests.add(record(requestsTopic, "no-time", AvroCodec.encode(noTime), t));
                    badReasons.add("missing event_time");
                    for (Object[] bad : extraBadRequests) {
                        Request r = (Request) bad[0];
                        r.setEventTime(Instant.ofEpochMilli(t));
                        requests.add(record(requestsTopic, r.getRequestId(), AvroCodec.encode(r), t));
                        badReasons.add((String) bad[1]);
                    }
                    Label ghost = Label.newBuilder()
                            .setRequestId("never-scored")
                            .setLabelTime(Instant.ofEpochMilli(t))
                            .setValue(1)
                            .build();
                    labels.add(record(labelsTopic, "never-scored", AvroCodec.encode(ghost), t));
                    badLabelReasons.add(null);
                    sent.unknownLabels++;
                    Label invalid = Label.newBuilder()
                            .setRequestId(e.request().getRequestId() + "-x")
                            .setLabelTime(Instant.ofEpochMilli(t))
                            .setValue(badLabel)
                            .build();
                    labels.add(record(labelsTopic, "invalid", AvroCodec.encode(invalid), t));
                    badLabelReasons.add(badLabelReason);
                    labels.add(record(labelsTopic, "garbage", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}, t));
                    badLabelReasons.add("undecodable Label");
                    poison(e, t, requests, badReasons, labels, badLabelReasons);
                }
                i++;
            }
            // Labels are produced in the order they become known.
            Integer[] order = new Integer[labels.size()];
            for (int k = 0; k < order.length; k++) {
                order[k] = k;
            }
            Arrays.sort(order, Comparator.comparingLong(k -> labels.get(k).timestamp()));
            List<ProducerRecord<byte[], byte[]>> sortedLabels = new ArrayList<>();
            List<String> sortedLabelReasons = new ArrayList<>();
            for (int k : order) {
                sortedLabels.add(labels.get(k));
                sortedLabelReasons.add(badLabelReasons.get(k));
            }
            collectDeadLetters(sent, requests, badReasons, KAFKA.kafka().produce(requests));
            collectDeadLetters(
                    sent, sortedLabels, sortedLabelReasons, KAFKA.kafka().produce(sortedLabels));
            produceAbortedTransaction(requestsTopic, labelsTopic);
            return sent;
        }

        /**
         * Records that once failed or corrupted a job (issue 11): each must be one dead letter with its
         * reason and change no count or metric (verify compares with brute force over the valid events).
         * The far-future event time would, if it reached the watermark, close every window at once.
         */
        void poison(
                LabelledRequest e,
                long t,
                List<ProducerRecord<byte[], byte[]>> requests,
                List<String> badReasons,
                List<ProducerRecord<byte[], byte[]>> labels,
                List<String> badLabelReasons) {
            String requestsTopic = topic("requests");
            String labelsTopic = topic("labels");
            Request future = copy(e.request(), "bad-year-3000");
            future.setEventTime(Instant.parse("3000-01-01T00:00:00Z"));
            requests.add(record(requestsTopic, "year-3000", AvroCodec.encode(future), t));
            badReasons.add("after the record's Kafka timestamp");
            Request seconds = copy(e.request(), "bad-seconds");
            seconds.setEventTime(Instant.ofEpochMilli(t / 1000));
            requests.add(record(requestsTopic, "seconds", AvroCodec.encode(seconds), t));
            badReasons.add("before event_time.not_before");
            Request longId = copy(e.request(), "x".repeat(300));
            requests.add(record(requestsTopic, "long-id", AvroCodec.encode(longId), t));
            badReasons.add("request_id has 300 characters");
            requests.add(record(requestsTopic, "empty", new byte[0], t));
            badReasons.add("empty value (0 bytes)");
            // A request_id string declaring 2^31 - 9 bytes, in six bytes.
            requests.add(record(
                    requestsTopic,
                    "two-gigabytes",
                    new byte[] {2, (byte) 0xEE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F},
                    t));
            badReasons.add("declares a string of 2147483639 bytes");
            Label minTime = Label.newBuilder()
                    .setRequestId(e.request().getRequestId())
                    .setLabelTime(Instant.ofEpochMilli(Long.MIN_VALUE))
                    .setValue(0)
                    .build();
            labels.add(record(labelsTopic, "min-time", AvroCodec.encode(minTime), t));
            badLabelReasons.add("before event_time.not_before");
            Label micros = Label.newBuilder(minTime)
                    .setLabelTime(Instant.ofEpochMilli(t * 1000))
                    .build();
            labels.add(record(labelsTopic, "micros", AvroCodec.encode(micros), t));
            badLabelReasons.add("after the record's Kafka timestamp");
        }

        /**
         * Valid requests and labels in a transaction that the producer aborts: a read_committed job never
         * sees them, so they change no count (read_uncommitted would score and join them).
         */
        void produceAbortedTransaction(String requestsTopic, String labelsTopic) {
            Map<String, Object> props = KAFKA.kafka().transactionalProducerProps("it-aborted-" + name);
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int k = 0; k < 20; k++) {
                    LabelledRequest e = events.get(k);
                    Request r = copy(e.request(), "aborted-" + k);
                    producer.send(record(
                            requestsTopic,
                            r.getRequestId(),
                            AvroCodec.encode(r),
                            e.request().getEventTime().toEpochMilli()));
                    Label l = Label.newBuilder()
                            .setRequestId(r.getRequestId())
                            .setLabelTime(e.request().getEventTime())
                            .setValue(0)
                            .build();
                    producer.send(record(
                            labelsTopic,
                            r.getRequestId(),
                            AvroCodec.encode(l),
                            e.request().getEventTime().toEpochMilli()));
                }
                producer.flush();
                producer.abortTransaction();
            }
        }

        void collectDeadLetters(
                Sent sent,
                List<ProducerRecord<byte[], byte[]>> records,
                List<String> reasons,
                List<RecordMetadata> metadata) {
            for (int k = 0; k < records.size(); k++) {
                if (reasons.get(k) != null) {
                    RecordMetadata m = metadata.get(k);
                    sent.deadLetters.add(new ExpectedDeadLetter(
                            m.topic(), m.partition(), m.offset(), records.get(k).value(), reasons.get(k)));
                }
            }
        }

        ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value, long timestamp) {
            return new ProducerRecord<>(topic, null, timestamp, key.getBytes(StandardCharsets.UTF_8), value);
        }

        Path writeConfig() throws Exception {
            String yaml = String.join(
                    "\n",
                    "experiment_id: it-" + name,
                    "kafka:",
                    "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                    "  group_id: it-" + name,
                    "  start: earliest",
                    "  transaction_timeout: 10m",
                    "topics:",
                    "  requests: " + topic("requests"),
                    "  labels: " + topic("labels"),
                    "  reports: " + topic("reports"),
                    "  verdicts: " + topic("verdicts"),
                    "  scored_events: " + topic("scored"),
                    "  dead_letter: " + topic("dead-letters"),
                    "models:",
                    "  live: " + modelDir.resolve("live/model.json"),
                    "  candidates:",
                    "    - " + modelDir.resolve("candidate/model.json"),
                    "label_horizon: " + horizon,
                    "report_window: " + window,
                    "segment_fields: [" + String.join(", ", segmentFields) + "]",
                    "event_time:",
                    "  max_out_of_orderness: 1m",
                    "  idleness: 5s",
                    "batching:",
                    "  max_size: 32",
                    "  max_wait: 20ms",
                    "checkpoint_interval: 1s",
                    "scored_events_sample_rate: 1.0",
                    "metric_shards: 3",
                    "verdict:",
                    "  min_labelled_pairs: 200",
                    "");
            Path file = tmp.resolve(name + ".yaml");
            Files.writeString(file, yaml);
            return file;
        }

        /**
         * The committed records of an exactly-once output topic. The sink commits its last transaction
         * when the final checkpoint completes, which under load can be visible a moment after the job
         * has finished: read again until {@code complete} holds or 60 s pass, then return what is there
         * (the assertions decide).
         */
        <T extends SpecificRecord> List<T> readCommitted(String kind, Class<T> type, Predicate<List<T>> complete) {
            return KAFKA.kafka()
                    .readAllUntil(
                            topic(kind),
                            true,
                            r -> AvroCodec.decode(r.value(), type),
                            complete,
                            Duration.ofSeconds(60));
        }

        void verify(Sent sent, ShadowJobConfig cfg) throws Exception {
            ModelDescriptor liveD = cfg.liveModel;
            ModelDescriptor candD = cfg.candidateModels.get(0);
            List<Request> validRequests =
                    sent.valid.stream().map(LabelledRequest::request).toList();
            float[][] live = ReferenceScores.score(liveD, validRequests);
            float[][] cand = ReferenceScores.score(candD, validRequests);
            boolean binary = liveD.task() == ModelDescriptor.Task.BINARY;

            // --- reports ---
            List<ComparisonReport> reports = readCommitted(
                    "reports",
                    ComparisonReport.class,
                    rs -> rs.stream()
                            .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                                    && r.getCounts().getScored() == sent.valid.size()));
            ComparisonReport cumulative = reports.stream()
                    .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                    .orElseThrow();
            long tumblingScored = reports.stream()
                    .filter(r -> r.getWindowKind() == WindowKind.TUMBLING)
                    .mapToLong(r -> r.getCounts().getScored())
                    .sum();

            long labelled = sent.valid.stream()
                    .filter(e -> sent.firstLabel.containsKey(e.request().getRequestId()))
                    .count();
            assertEquals(sent.valid.size(), cumulative.getCounts().getScored(), "scored");
            assertEquals(
                    sent.valid.size(),
                    tumblingScored,
                    () -> "tumbling windows add up to the cumulative count; reports read (kind, end, scored): "
                            + reports.stream()
                                    .map(r -> r.getWindowKind() + "/" + r.getWindowEnd() + "/"
                                            + r.getCounts().getScored())
                                    .toList());
            assertEquals(labelled, cumulative.getCounts().getLabelled(), "labelled");
            assertEquals(sent.valid.size() - labelled, cumulative.getCounts().getExpiredUnlabeled(), "expired");
            assertEquals(sent.deadLetters.size(), cumulative.getCounts().getDeadLettered(), "dead-lettered");
            assertEquals(sent.duplicateLabels, cumulative.getCounts().getDuplicateLabels(), "duplicate labels");
            assertEquals(sent.unknownLabels, cumulative.getCounts().getUnknownLabels(), "unknown labels");
            assertEquals(0, cumulative.getCounts().getErrors(), "model errors");
            assertEquals(liveD.id(), cumulative.getLiveModel());

            // --- disagreement, over every scored event ---
            List<Double> diffs = new ArrayList<>();
            long flips = 0;
            for (int i = 0; i < live.length; i++) {
                flips += decision(liveD, live[i]) != decision(candD, cand[i]) ? 1 : 0;
                if (binary) {
                    diffs.add(Math.abs((double) cand[i][0] - live[i][0]));
                } else {
                    double l1 = 0;
                    for (int k = 0; k < live[i].length; k++) {
                        l1 += Math.abs((double) cand[i][k] - live[i][k]);
                    }
                    diffs.add(l1 / 2);
                }
            }
            Disagreement d = cumulative.getDisagreement().get(0);
            assertEquals(candD.id(), d.getCandidate());
            assertEquals(live.length, d.getCompared());
            assertEquals(flips, d.getFlips(), "flips");
            assertEquals((double) flips / live.length, d.getFlipRate(), 1e-12);
            double[] sortedDiffs = ExpectedMetrics.toArray(ExpectedMetrics.sortedCopy(diffs));
            assertEquals(Arrays.stream(sortedDiffs).average().orElseThrow(), d.getAbsDiffMean(), 1e-9);
            assertEquals(sortedDiffs[sortedDiffs.length - 1], d.getAbsDiffMax(), 1e-12);
            double eps = KllSketch.getNormalizedRankError(200, false);
            assertTrue(
                    ExpectedMetrics.quantileWithin(sortedDiffs, 0.5, d.getAbsDiffP50(), eps),
                    "p50 " + d.getAbsDiffP50());
            assertTrue(
                    ExpectedMetrics.quantileWithin(sortedDiffs, 0.9, d.getAbsDiffP90(), eps),
                    "p90 " + d.getAbsDiffP90());
            assertTrue(
                    ExpectedMetrics.quantileWithin(sortedDiffs, 0.99, d.getAbsDiffP99(), eps),
                    "p99 " + d.getAbsDiffP99());

            // --- quality and paired test, over labelled events with the first label ---
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < sent.valid.size(); i++) {
                if (sent.firstLabel.containsKey(sent.valid.get(i).request().getRequestId())) {
                    idx.add(i);
                }
            }
            int n = idx.size();
            int[] y = new int[n];
            for (int j = 0; j < n; j++) {
                y[j] = (int) (double)
                        sent.firstLabel.get(sent.valid.get(idx.get(j)).request().getRequestId());
            }
            ModelQuality liveQ = cumulative.getQuality().get(0);
            ModelQuality candQ = cumulative.getQuality().get(1);
            assertEquals(liveD.id(), liveQ.getModel());
            assertEquals(candD.id(), candQ.getModel());
            double[] liveLoss = checkQuality(liveD, live, idx, y, liveQ, binary);
            double[] candLoss = checkQuality(candD, cand, idx, y, candQ, binary);

            long b = 0;
            long c = 0;
            double[] lossDiff = new double[n];
            for (int j = 0; j < n; j++) {
                boolean liveRight = decision(liveD, live[idx.get(j)]) == y[j];
                boolean candRight = decision(candD, cand[idx.get(j)]) == y[j];
                b += liveRight && !candRight ? 1 : 0;
                c += candRight && !liveRight ? 1 : 0;
                lossDiff[j] = candLoss[j] - liveLoss[j];
            }
            PairedTest p = cumulative.getPaired().get(0);
            assertEquals(n, p.getPairs());
            assertEquals(b, p.getLiveOnlyCorrect(), "McNemar b");
            assertEquals(c, p.getCandidateOnlyCorrect(), "McNemar c");
            assertEquals(ExpectedMetrics.mcnemar(b, c), p.getMcnemarPValue(), 1e-9);
            double[] ci = ExpectedMetrics.meanAndCi(lossDiff);
            assertEquals(ci[0], p.getLossDiffMean(), 1e-9);
            assertEquals(ci[1], p.getLossDiffCiLow(), 1e-9);
            assertEquals(ci[2], p.getLossDiffCiHigh(), 1e-9);
            assertEquals(
                    (double) n / (n + (sent.valid.size() - n)),
                    cumulative.getMetrics().get("label_coverage"),
                    1e-12);

            checkSegments(sent, reports, cumulative, liveD, candD, live, cand, binary);

            // --- verdicts: one per candidate per window; the last follows the paired evidence ---
            long cumulativeReports = reports.stream()
                    .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .count();
            List<Verdict> verdicts = readCommitted("verdicts", Verdict.class, vs -> vs.size() >= cumulativeReports);
            assertEquals(
                    reports.stream()
                            .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                            .count(),
                    verdicts.size());
            Verdict last = verdicts.stream()
                    .max(Comparator.comparing(Verdict::getDecidedAt))
                    .orElseThrow();
            // The final anytime-valid interval (log loss, alpha 0.05 / 1 candidate / 2, tuned for 10,000
            // pairs), by hand: the job's running intersection lies within it.
            double[] cs = ExpectedMetrics.meanAndConfidenceSequence(lossDiff, 0.025, 10_000);
            assertEquals(cs[0], p.getPrimaryEstimate(), 1e-9);
            assertTrue(p.getPrimaryCsLow() >= cs[1] - 1e-9 && p.getPrimaryCsHigh() <= cs[2] + 1e-9, p.toString());
            Decision expected = cs[1] > 0 ? Decision.REJECT : cs[2] < 0 ? Decision.PROMOTE : null;
            if (expected != null) {
                assertEquals(expected, last.getDecision(), String.valueOf(last.getReasons()));
                assertNotNull(last.getFirstDecidedAt(), "a decision carries its first time");
            } else {
                // Undecided at the end unless an earlier window decided (decisions stand).
                assertEquals(last.getDecision() == Decision.CONTINUE, last.getFirstDecidedAt() == null);
            }
            assertFalse(last.getEvidence().isEmpty());
            assertFalse(last.getReasons().isEmpty());

            // --- scored events: every valid request once, live first, with the live model's score ---
            Map<String, Integer> position = new HashMap<>();
            for (int i = 0; i < sent.valid.size(); i++) {
                position.put(sent.valid.get(i).request().getRequestId(), i);
            }
            List<ConsumerRecord<byte[], byte[]>> scored =
                    KAFKA.kafka().readAll(topic("scored"), false, Duration.ofSeconds(30));
            assertEquals(sent.valid.size(), scored.size());
            for (ConsumerRecord<byte[], byte[]> r : scored) {
                ScoredEvent e = AvroCodec.decode(r.value(), ScoredEvent.class);
                int i = position.get(e.getRequestId());
                double expectedScore = binary ? live[i][0] : live[i][decision(liveD, live[i])];
                assertEquals(expectedScore, e.getOutputs().get(0).getScore(), 1e-6);
                assertEquals(liveD.name(), e.getOutputs().get(0).getModelName());
                assertEquals(candD.name(), e.getOutputs().get(1).getModelName());
                // Per-event disagreement, against the test's own decision and difference for this request.
                assertEquals(1, e.getDisagreement().size());
                EventDisagreement ed = e.getDisagreement().get(0);
                assertEquals(candD.id(), ed.getCandidate());
                assertEquals(decision(liveD, live[i]) != decision(candD, cand[i]), ed.getFlipped(), e.getRequestId());
                assertEquals(diffs.get(i), ed.getAbsDiff(), 1e-6, e.getRequestId());
            }

            // --- dead letters: exactly the bad records, with their bytes and a reason ---
            List<DeadLetter> dl =
                    readCommitted("dead-letters", DeadLetter.class, l -> l.size() >= sent.deadLetters.size());
            assertEquals(sent.deadLetters.size(), dl.size(), "dead letters");
            Map<String, DeadLetter> byOrigin = new HashMap<>();
            for (DeadLetter letter : dl) {
                byOrigin.put(letter.getSourceTopic() + "/" + letter.getPartition() + "/" + letter.getOffset(), letter);
            }
            for (ExpectedDeadLetter e : sent.deadLetters) {
                DeadLetter letter = byOrigin.get(e.topic() + "/" + e.partition() + "/" + e.offset());
                assertNotNull(letter, "no dead letter for " + e);
                assertTrue(
                        letter.getReason().contains(e.reasonContains()),
                        letter.getReason() + " should contain " + e.reasonContains());
                assertArrayEquals(e.raw(), bytes(letter.getRaw()));
                assertEquals("it-" + name, letter.getExperimentId());
            }
        }

        /**
         * Every segment slice of the final CUMULATIVE report against the test's own count over the sent
         * requests: per configured field and value (missing = "(none)"), scored, compared, flip rate and
         * mean |difference| of the candidate, labelled and accuracy of each model. Counts exact, rates
         * and means to 1e-9. The scenarios have fewer than 50 values per field, so nothing is "(other)".
         */
        void checkSegments(
                Sent sent,
                List<ComparisonReport> reports,
                ComparisonReport cumulative,
                ModelDescriptor liveD,
                ModelDescriptor candD,
                float[][] live,
                float[][] cand,
                boolean binary) {
            Map<String, Double> experiment = cumulative.getMetrics();
            Map<String, Double> disagreement =
                    cumulative.getDisagreement().get(0).getMetrics();
            List<Map<String, Double>> quality = List.of(
                    cumulative.getQuality().get(0).getMetrics(),
                    cumulative.getQuality().get(1).getMetrics());
            List<String> expectedKeys = new ArrayList<>();
            for (String field : segmentFields) {
                Map<String, List<Integer>> byValue = new HashMap<>();
                for (int i = 0; i < sent.valid.size(); i++) {
                    String v = sent.valid.get(i).request().getSegments().get(field);
                    byValue.computeIfAbsent(v == null ? "(none)" : v, k -> new ArrayList<>())
                            .add(i);
                }
                assertTrue(byValue.size() > (field.equals("device") ? 0 : 1), field + " has values");
                for (Map.Entry<String, List<Integer>> e : byValue.entrySet()) {
                    String s = "[" + field + "=" + e.getKey() + "]";
                    expectedKeys.add("scored" + s);
                    List<Integer> rows = e.getValue();
                    long flips = 0;
                    double diffSum = 0;
                    long labelled = 0;
                    long[] correct = new long[2];
                    for (int i : rows) {
                        flips += decision(liveD, live[i]) != decision(candD, cand[i]) ? 1 : 0;
                        if (binary) {
                            diffSum += Math.abs((double) cand[i][0] - live[i][0]);
                        } else {
                            double l1 = 0;
                            for (int k = 0; k < live[i].length; k++) {
                                l1 += Math.abs((double) cand[i][k] - live[i][k]);
                            }
                            diffSum += l1 / 2;
                        }
                        Double y =
                                sent.firstLabel.get(sent.valid.get(i).request().getRequestId());
                        if (y != null) {
                            labelled++;
                            correct[0] += decision(liveD, live[i]) == (int) (double) y ? 1 : 0;
                            correct[1] += decision(candD, cand[i]) == (int) (double) y ? 1 : 0;
                        }
                    }
                    assertEquals((double) rows.size(), experiment.get("scored" + s), "scored" + s);
                    assertEquals((double) rows.size(), disagreement.get("compared" + s), "compared" + s);
                    assertEquals(
                            (double) flips / rows.size(), disagreement.get("flip_rate" + s), 1e-9, "flip_rate" + s);
                    assertEquals(
                            diffSum / rows.size(), disagreement.get("abs_diff_mean" + s), 1e-9, "abs_diff_mean" + s);
                    for (int m = 0; m < 2; m++) {
                        assertEquals(
                                (double) labelled, quality.get(m).get("labelled" + s), "labelled" + s + " model " + m);
                        assertEquals(
                                (double) correct[m] / labelled,
                                quality.get(m).get("accuracy" + s),
                                1e-9,
                                "accuracy" + s + " model " + m);
                    }
                    // The tumbling windows' scored slices add up to the cumulative one.
                    double tumbling = reports.stream()
                            .filter(r -> r.getWindowKind() == WindowKind.TUMBLING)
                            .mapToDouble(r -> r.getMetrics().getOrDefault("scored" + s, 0.0))
                            .sum();
                    assertEquals((double) rows.size(), tumbling, "tumbling scored" + s);
                }
            }
            // No other slices (no "(other)", no value that was not sent).
            List<String> actualKeys = new ArrayList<>();
            for (String k : experiment.keySet()) {
                if (k.startsWith("scored[")) {
                    actualKeys.add(k);
                }
            }
            assertEquals(new java.util.TreeSet<>(expectedKeys), new java.util.TreeSet<>(actualKeys));
            assertEquals(3 * expectedKeys.size(), disagreement.size());
        }

        /** Checks one model's quality figures and returns its per-event losses (for the paired test). */
        double[] checkQuality(
                ModelDescriptor m, float[][] out, List<Integer> idx, int[] y, ModelQuality q, boolean binary) {
            int n = idx.size();
            double[] loss = new double[n];
            Map<String, Double> metrics = q.getMetrics();
            assertEquals(n, q.getLabelled());
            if (binary) {
                long tp = 0, fp = 0, tn = 0, fn = 0;
                double brier = 0;
                double[] scores = new double[n];
                for (int j = 0; j < n; j++) {
                    double s = out[idx.get(j)][0];
                    scores[j] = s;
                    boolean predicted = s >= (float) m.threshold(); // in the score's float32 precision
                    if (predicted && y[j] == 1) tp++;
                    else if (predicted) fp++;
                    else if (y[j] == 1) fn++;
                    else tn++;
                    loss[j] = binaryLogLoss(s, y[j]);
                    brier += (s - y[j]) * (s - y[j]);
                }
                assertEquals((double) (tp + tn) / n, metrics.get("accuracy"), 1e-12, m.id() + " accuracy");
                assertEquals((double) tp / (tp + fp), metrics.get("precision"), 1e-12, m.id() + " precision");
                assertEquals((double) tp / (tp + fn), metrics.get("recall"), 1e-12, m.id() + " recall");
                assertEquals(2.0 * tp / (2.0 * tp + fp + fn), metrics.get("f1"), 1e-12, m.id() + " f1");
                assertEquals(
                        Arrays.stream(loss).average().orElseThrow(),
                        metrics.get("log_loss"),
                        1e-9,
                        m.id() + " log loss");
                assertEquals(brier / n, metrics.get("brier"), 1e-9, m.id() + " brier");
                double exact = ExpectedMetrics.exactAuc(scores, y);
                double bound = metrics.get("roc_auc_max_error");
                assertTrue(
                        Math.abs(exact - metrics.get("roc_auc")) <= bound + 1e-12 && bound <= 0.001,
                        m.id() + " AUC " + metrics.get("roc_auc") + " vs exact " + exact + " bound " + bound);
            } else {
                int[] predicted = new int[n];
                long correct = 0;
                for (int j = 0; j < n; j++) {
                    float[] probs = out[idx.get(j)];
                    predicted[j] = decision(m, probs);
                    correct += predicted[j] == y[j] ? 1 : 0;
                    loss[j] = -Math.log(clip(probs[y[j]]));
                }
                assertEquals((double) correct / n, metrics.get("accuracy"), 1e-12, m.id() + " accuracy");
                assertEquals(
                        ExpectedMetrics.macroF1(y, predicted, m.numClasses()),
                        metrics.get("macro_f1"),
                        1e-12,
                        m.id() + " macro F1");
                assertEquals(
                        Arrays.stream(loss).average().orElseThrow(),
                        metrics.get("log_loss"),
                        1e-9,
                        m.id() + " log loss");
            }
            return loss;
        }
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Binary: class at the model's threshold; multiclass: top-1 (first maximum). */
    static int decision(ModelDescriptor m, float[] out) {
        if (m.task() == ModelDescriptor.Task.BINARY) {
            return out[0] >= (float) m.threshold() ? 1 : 0;
        }
        int best = 0;
        for (int k = 1; k < out.length; k++) {
            if (out[k] > out[best]) best = k;
        }
        return best;
    }
}
