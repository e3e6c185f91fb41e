package io.shadowml.local.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Decision;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReliabilityBin;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafka;

/**
 * The dashboard end to end: real Avro records on a real (embedded) Kafka broker, reports and verdicts written in
 * Kafka transactions (plus an aborted one that must not show), the dashboard's own read_committed consumer, its
 * JSON endpoint, and the page rendered by a real headless Chromium, whose DOM must carry the values the test wrote.
 */
class DashboardBrowserTest {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String EXPERIMENT = "test-fraud";
    static final String LIVE = "fraud-gbm:1";
    static final String CAND = "fraud-gbm:2";
    static final int WINDOWS = 12;
    static final int UNLABELLED_WINDOWS = 3;
    static final int SCORED_EVENTS = 40;
    static final long HOUR = 3_600_000L;
    static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
    static final ObjectMapper JSON = new ObjectMapper();

    static EmbeddedKafka kafka;
    static Dashboard dashboard;
    static HttpClient http = HttpClient.newHttpClient();
    /** What the test wrote, the values the page must show. */
    static final Map<String, Double> expected = new LinkedHashMap<>();

    static final List<String> deadLetterReasons = List.of(
            "not Avro: Malformed data. Length is negative: -41",
            "invalid request: feature 'amount' is NaN",
            "invalid request: vector has 100 values, the model expects 784");

    // ------------------------------------------------------------------------------------------ data
    static double flipRate(int i) {
        return 0.0125 + 0.00107 * i + 0.004 * Math.sin(i * 0.9);
    }

    static double p50(int i) {
        return 0.006 + 0.0004 * i;
    }

    static double p90(int i) {
        return 0.041 + 0.002 * i + 0.006 * Math.cos(i);
    }

    static double p99(int i) {
        return 0.118 + 0.004 * i + 0.015 * Math.sin(i * 1.3);
    }

    static double latency(int model, int i) {
        return model == 0 ? 182.5 + 6 * Math.sin(i) : 241.25 + 9 * Math.cos(i * 0.7);
    }

    static int deadLettered(int i) {
        return i == 4 ? 2 : i == 9 ? 1 : 0;
    }

    static double coverage(int i) {
        return Math.min(0.86, 0.078 * i);
    }

    static double accuracy(int model, int i) {
        return model == 0 ? 0.9612 + 0.0011 * (i % 4) : 0.9547 + 0.0009 * (i % 3);
    }

    static double rocAuc(int model, int i) {
        return model == 0 ? 0.9134 + 0.002 * Math.sin(i) : 0.8812 + 0.003 * Math.cos(i);
    }

    static double logLoss(int model, int i) {
        return model == 0 ? 0.1093 - 0.001 * i : 0.1321 - 0.0008 * i;
    }

    // The anytime-valid figures (issue 9); the job fills them from window UNLABELLED_WINDOWS on, earlier cumulative
    // reports keep the Avro defaults, which the page must show as missing rather than as an interval [0, 0].
    static double primaryEstimate(int i) {
        return 0.0200 + 0.0003 * i;
    }

    static double primaryHalfWidth(int i) {
        return 0.03 / Math.sqrt(i - 2);
    }

    static final double E_VALUE = 57.25;
    static final int FIRST_DECIDED_WINDOW = 9;

    static double ece(int model) {
        return model == 0 ? 0.0123 : 0.0871;
    }

    static TestResult test(
            String test,
            String metric,
            String segment,
            double est,
            double low,
            double high,
            double margin,
            TestOutcome outcome) {
        return TestResult.newBuilder()
                .setTest(test)
                .setMetric(metric)
                .setSegment(segment)
                .setEstimate(est)
                .setLow(low)
                .setHigh(high)
                .setMargin(margin)
                .setAlpha(0.005)
                .setEValue(test.equals("mcnemar") ? E_VALUE : null)
                .setPairs(1234)
                .setOutcome(outcome)
                .build();
    }

    static List<TestResult> tests(int i) {
        double est = primaryEstimate(i);
        double half = primaryHalfWidth(i);
        return List.of(
                test("primary", "log_loss", null, est, est - half, est + half, 0, TestOutcome.CANDIDATE_WORSE),
                test("mcnemar", "accuracy", null, -0.0073, -0.0110, -0.0021, 0, TestOutcome.CANDIDATE_WORSE),
                test("guardrail", "recall", null, -0.031, -0.052, -0.024, 0.02, TestOutcome.VIOLATED),
                test(
                        "segment",
                        "log_loss",
                        "country=DE",
                        0.0,
                        Double.NEGATIVE_INFINITY,
                        Double.POSITIVE_INFINITY,
                        0,
                        TestOutcome.INCONCLUSIVE),
                test("error_rate", "error_rate", null, 0.002, 0.0, 0.004, 0.01, TestOutcome.INCONCLUSIVE));
    }

    /** Ten reliability bins: the live model on the diagonal, the candidate overconfident. */
    static List<ReliabilityBin> calibration(int model) {
        List<ReliabilityBin> bins = new ArrayList<>();
        for (int b = 0; b < 10; b++) {
            double mid = b / 10.0 + 0.05;
            bins.add(ReliabilityBin.newBuilder()
                    .setLower(b / 10.0)
                    .setUpper((b + 1) / 10.0)
                    .setCount(b == 0 ? 900 : 40 + b)
                    .setMeanPredicted(mid)
                    .setObserved(model == 0 ? mid + 0.004 : 0.5 + (mid - 0.5) * 0.6)
                    .build());
        }
        return bins;
    }

    static Map<String, Double> quality(int model, int i, boolean labelled, boolean tumbling) {
        Map<String, Double> m = new HashMap<>();
        boolean has = labelled && i >= UNLABELLED_WINDOWS;
        m.put("accuracy", has ? accuracy(model, i) : Double.NaN);
        m.put("roc_auc", has ? rocAuc(model, i) : Double.NaN);
        m.put("log_loss", has ? logLoss(model, i) : Double.NaN);
        m.put("precision", has ? 0.71 : Double.NaN);
        m.put("recall", has ? 0.64 : Double.NaN);
        m.put("f1", has ? 0.67 : Double.NaN);
        m.put("brier", has ? 0.031 : Double.NaN);
        m.put("ece", has ? ece(model) : Double.NaN);
        m.put("roc_auc_max_error", has ? 0.0042 : Double.NaN);
        m.put("label_coverage", coverage(i));
        m.put("error_rate", 0.0);
        m.put("latency_mean_micros", tumbling ? latency(model, i) : (model == 0 ? 183.0 : 240.0));
        return m;
    }

    static ComparisonReport report(int i, WindowKind kind) {
        boolean tumbling = kind == WindowKind.TUMBLING;
        Instant end = START.plusMillis((i + 1) * 6 * HOUR);
        long scored = tumbling ? 250 + 10 * i : 250L * (i + 1) + 5L * i * (i + 1);
        long labelled = Math.round(scored * coverage(i));
        int deadCumulative = 0;
        for (int k = 0; k <= i; k++) {
            deadCumulative += deadLettered(k);
        }
        List<Disagreement> disagreement = List.of(Disagreement.newBuilder()
                .setCandidate(CAND)
                .setCompared(scored)
                .setFlips(Math.round(scored * flipRate(i)))
                .setFlipRate(flipRate(i))
                .setAbsDiffMean(p50(i) * 1.4)
                .setAbsDiffP50(p50(i))
                .setAbsDiffP90(p90(i))
                .setAbsDiffP99(p99(i))
                .setAbsDiffMax(p99(i) * 1.9)
                .build());
        List<ModelQuality> quality = List.of(
                ModelQuality.newBuilder()
                        .setModel(LIVE)
                        .setRole(ModelRole.LIVE)
                        .setLabelled(labelled)
                        .setMetrics(quality(0, i, !tumbling, tumbling))
                        .setCalibration(!tumbling && i >= UNLABELLED_WINDOWS ? calibration(0) : List.of())
                        .build(),
                ModelQuality.newBuilder()
                        .setModel(CAND)
                        .setRole(ModelRole.CANDIDATE)
                        .setLabelled(labelled)
                        .setMetrics(quality(1, i, !tumbling, tumbling))
                        .setCalibration(!tumbling && i >= UNLABELLED_WINDOWS ? calibration(1) : List.of())
                        .build());
        PairedTest.Builder pairedTest = PairedTest.newBuilder()
                .setCandidate(CAND)
                .setPairs(labelled)
                .setLiveOnlyCorrect(41)
                .setCandidateOnlyCorrect(19)
                .setMcnemarPValue(0.0061)
                .setLossDiffMean(0.0228)
                .setLossDiffCiLow(0.0131)
                .setLossDiffCiHigh(0.0325);
        if (i >= UNLABELLED_WINDOWS) {
            pairedTest
                    .setPrimaryMetric("log_loss")
                    .setPrimaryEstimate(primaryEstimate(i))
                    .setPrimaryCsLow(primaryEstimate(i) - primaryHalfWidth(i))
                    .setPrimaryCsHigh(primaryEstimate(i) + primaryHalfWidth(i))
                    .setMcnemarEValue(E_VALUE)
                    .setMcnemarAlwaysValidP(1 / E_VALUE)
                    .setMinDetectableEffect(primaryHalfWidth(i))
                    .setPairsNeeded(i >= FIRST_DECIDED_WINDOW ? 0 : 1200)
                    .setHoursNeeded(i >= FIRST_DECIDED_WINDOW ? 0.0 : 5.25)
                    .setTests(tests(i));
        }
        List<PairedTest> paired = tumbling ? List.of() : List.of(pairedTest.build());
        return ComparisonReport.newBuilder()
                .setExperimentId(EXPERIMENT)
                .setWindowKind(kind)
                .setWindowStart(tumbling ? end.minusMillis(6 * HOUR) : START)
                .setWindowEnd(end)
                .setLiveModel(LIVE)
                .setCounts(ReportCounts.newBuilder()
                        .setScored(scored)
                        .setLabelled(labelled)
                        .setExpiredUnlabeled(tumbling ? 0 : i * 3L)
                        .setDeadLettered(tumbling ? deadLettered(i) : deadCumulative)
                        .build())
                .setDisagreement(disagreement)
                .setQuality(quality)
                .setPaired(paired)
                .setMetrics(new HashMap<>(Map.of("label_coverage", tumbling ? Double.NaN : coverage(i))))
                .build();
    }

    static Verdict verdict(int window, Decision d, List<String> reasons) {
        Verdict.Builder v = Verdict.newBuilder()
                .setExperimentId(EXPERIMENT)
                .setCandidate(CAND)
                .setDecidedAt(START.plusMillis((window + 1) * 6 * HOUR))
                .setDecision(d)
                .setReasons(reasons);
        if (d == Decision.REJECT) {
            List<TestResult> all = tests(window);
            v.setFirstDecidedAt(FIRST_DECIDED_AT).setAlpha(0.025).setEvidence(List.of(all.get(1), all.get(2)));
        }
        return v.build();
    }

    static final Instant FIRST_DECIDED_AT = START.plusMillis((FIRST_DECIDED_WINDOW + 1) * 6 * HOUR);

    static final List<String> REJECT_REASONS = List.of(
            "roc_auc 0.8790 is below live 0.9152 by more than 0.005",
            "McNemar p = 0.0061 < 0.05 with live right more often (41 vs 19)",
            "log loss difference +0.0228 [95% CI 0.0131, 0.0325] > 0");

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        for (String t : List.of("reports", "verdicts", "scored-events", "dead-letters")) {
            kafka.createTopic(t, 1);
        }
        // Reports and verdicts as the job writes them: in Kafka transactions.
        try (KafkaProducer<byte[], byte[]> tx =
                new KafkaProducer<>(kafka.transactionalProducerProps("dashboard-test"))) {
            tx.initTransactions();
            tx.beginTransaction();
            for (int i = 0; i < WINDOWS; i++) {
                for (WindowKind kind : WindowKind.values()) {
                    ComparisonReport r = report(i, kind);
                    tx.send(new ProducerRecord<>(
                            "reports", null, r.getWindowEnd().toEpochMilli(), null, AvroCodec.encode(r)));
                }
                if (i == 6) {
                    tx.send(new ProducerRecord<>(
                            "verdicts",
                            AvroCodec.encode(verdict(
                                    i, Decision.CONTINUE, List.<String>of("only 640 labelled pairs, 1000 needed")))));
                }
            }
            tx.send(new ProducerRecord<>(
                    "verdicts", AvroCodec.encode(verdict(WINDOWS - 1, Decision.REJECT, REJECT_REASONS))));
            tx.commitTransaction();
            // An aborted transaction: a later window and a PROMOTE verdict the dashboard must never show.
            tx.beginTransaction();
            ComparisonReport ghost = ComparisonReport.newBuilder(report(WINDOWS + 5, WindowKind.TUMBLING))
                    .build();
            ghost.getDisagreement().get(0).setFlipRate(0.99);
            tx.send(new ProducerRecord<>("reports", AvroCodec.encode(ghost)));
            tx.send(new ProducerRecord<>(
                    "verdicts", AvroCodec.encode(verdict(WINDOWS + 5, Decision.PROMOTE, List.<String>of("aborted")))));
            tx.flush();
            tx.abortTransaction();
        }
        for (int i = 0; i < deadLetterReasons.size(); i++) {
            DeadLetter d = DeadLetter.newBuilder()
                    .setSourceTopic("requests")
                    .setPartition(i % 2)
                    .setOffset(500 + 997L * i)
                    .setReason(deadLetterReasons.get(i))
                    .setFailedAt(START.plusMillis(i * 20 * HOUR))
                    .setExperimentId(EXPERIMENT)
                    .build();
            kafka.produce(
                    "dead-letters", null, AvroCodec.encode(d), d.getFailedAt().toEpochMilli());
        }
        List<ProducerRecord<byte[], byte[]>> scored = new ArrayList<>();
        for (int i = 0; i < SCORED_EVENTS; i++) {
            ScoredEvent e = ScoredEvent.newBuilder()
                    .setExperimentId(EXPERIMENT)
                    .setRequestId("r-" + i)
                    .setEventTime(START.plusSeconds(i * 600L))
                    .setOutputs(List.of(
                            output("fraud-gbm", "1", ModelRole.LIVE, 150 + 3L * i),
                            output("fraud-gbm", "2", ModelRole.CANDIDATE, 220 + 5L * i)))
                    .build();
            scored.add(new ProducerRecord<>("scored-events", AvroCodec.encode(e)));
        }
        kafka.produce(scored);

        expected.put("flip_rate", flipRate(WINDOWS - 1));
        expected.put("p50", p50(WINDOWS - 1));
        expected.put("p90", p90(WINDOWS - 1));
        expected.put("p99", p99(WINDOWS - 1));
        expected.put("accuracy:" + LIVE, accuracy(0, WINDOWS - 1));
        expected.put("accuracy:" + CAND, accuracy(1, WINDOWS - 1));
        expected.put("roc_auc:" + LIVE, rocAuc(0, WINDOWS - 1));
        expected.put("roc_auc:" + CAND, rocAuc(1, WINDOWS - 1));
        expected.put("log_loss:" + LIVE, logLoss(0, WINDOWS - 1));
        expected.put("log_loss:" + CAND, logLoss(1, WINDOWS - 1));
        expected.put("label_coverage", coverage(WINDOWS - 1));
        expected.put("latency:" + LIVE, latency(0, WINDOWS - 1));
        expected.put("latency:" + CAND, latency(1, WINDOWS - 1));
        expected.put("dead_lettered", (double) deadLettered(WINDOWS - 1));
        double liveMean = 0;
        double candMean = 0;
        for (int i = 0; i < SCORED_EVENTS; i++) {
            liveMean += 150 + 3 * i;
            candMean += 220 + 5 * i;
        }
        expected.put("scored_latency:" + LIVE, liveMean / SCORED_EVENTS);
        expected.put("scored_latency:" + CAND, candMean / SCORED_EVENTS);

        dashboard = Dashboard.start(kafka.bootstrapServers(), 0);
        long deadline = System.currentTimeMillis() + 60_000;
        JsonNode s = summary();
        while (!(s.at("/received/reports").asLong() == 2L * WINDOWS
                && s.at("/received/verdicts").asLong() == 2
                && s.at("/received/dead_letters").asLong() == deadLetterReasons.size()
                && s.at("/received/scored_events").asLong() == SCORED_EVENTS)) {
            assertTrue(
                    System.currentTimeMillis() < deadline,
                    "the dashboard did not read every record: " + s.get("received"));
            Thread.sleep(200);
            s = summary();
        }
    }

    static ModelOutput output(String name, String version, ModelRole role, long latencyMicros) {
        return ModelOutput.newBuilder()
                .setModelName(name)
                .setModelVersion(version)
                .setRole(role)
                .setScore(0.12)
                .setPredictedClass(0)
                .setLatencyMicros(latencyMicros)
                .build();
    }

    @AfterAll
    static void stop() {
        if (dashboard != null) {
            dashboard.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    static JsonNode summary() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + "/api/summary"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return JSON.readTree(r.body());
    }

    static double last(JsonNode array) {
        for (int i = array.size() - 1; i >= 0; i--) {
            if (!array.get(i).isNull()) {
                return array.get(i).asDouble();
            }
        }
        throw new AssertionError("no value in " + array);
    }

    static long nonNull(JsonNode array) {
        long n = 0;
        for (JsonNode v : array) {
            n += v.isNull() ? 0 : 1;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------- JSON only
    @Test
    void summaryCarriesWhatWasWrittenAndOnlyCommittedRecords() throws Exception {
        JsonNode s = summary();
        assertEquals(EXPERIMENT, s.get("experiment_id").asText());
        assertEquals(LIVE, s.get("live_model").asText());
        assertEquals(List.of(CAND), JSON.convertValue(s.get("candidates"), List.class));
        assertEquals(
                List.of("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss", "brier", "error_rate", "ece"),
                JSON.convertValue(s.get("quality_metrics"), List.class));
        JsonNode t = s.get("tumbling");
        assertEquals(WINDOWS, t.get("window_end").size(), "the aborted report must not be read");
        assertEquals(
                START.plusMillis(WINDOWS * 6 * HOUR).toEpochMilli(),
                t.get("window_end").get(WINDOWS - 1).asLong());
        assertEquals(expected.get("flip_rate"), last(t.at("/flip_rate/" + CAND.replace("/", "~1"))));
        assertEquals(expected.get("p99"), last(t.get("abs_diff_p99").get(CAND)));
        assertEquals(
                expected.get("latency:" + CAND),
                last(t.get("latency_mean_micros").get(CAND)));
        // Before labels the quality metrics are NaN in the reports and null in the JSON.
        JsonNode acc = s.at("/cumulative/quality/accuracy").get(LIVE);
        assertEquals(WINDOWS, acc.size());
        assertTrue(acc.get(0).isNull(), "NaN must be written as null");
        assertEquals(WINDOWS - UNLABELLED_WINDOWS, nonNull(acc));
        assertEquals(expected.get("accuracy:" + LIVE), last(acc));
        JsonNode verdicts = s.get("verdicts");
        assertEquals(1, verdicts.size());
        assertEquals(
                "REJECT",
                verdicts.get(0).get("decision").asText(),
                "latest committed verdict; the PROMOTE was aborted");
        assertEquals(REJECT_REASONS.size(), verdicts.get(0).get("reasons").size());
        assertEquals(deadLetterReasons.size(), s.at("/dead_letters/count").asInt());
        assertEquals(
                deadLetterReasons.get(2), s.at("/dead_letters/recent/0/reason").asText(), "newest first");
        assertEquals(
                expected.get("scored_latency:" + LIVE),
                s.at("/scored_events/latency_micros").get(LIVE).get("mean").asDouble());
        assertEquals(0.0061, s.at("/latest/paired/0/mcnemar_p_value").asDouble());
        assertEquals(
                expected.get("label_coverage"), s.at("/counts/label_coverage").asDouble());

        // The anytime-valid figures: the latest report's, and the defaults of the early reports as null.
        JsonNode p = s.at("/latest/paired/0");
        int last = WINDOWS - 1;
        assertEquals("log_loss", p.get("primary_metric").asText());
        assertEquals(primaryEstimate(last), p.get("primary_estimate").asDouble());
        assertEquals(
                primaryEstimate(last) - primaryHalfWidth(last),
                p.get("primary_cs_low").asDouble());
        assertEquals(
                primaryEstimate(last) + primaryHalfWidth(last),
                p.get("primary_cs_high").asDouble());
        assertEquals(E_VALUE, p.get("mcnemar_e_value").asDouble());
        assertEquals(1 / E_VALUE, p.get("mcnemar_always_valid_p").asDouble());
        assertEquals(primaryHalfWidth(last), p.get("min_detectable_effect").asDouble());
        assertEquals(0, p.get("pairs_needed").asLong());
        assertEquals(5, p.get("tests").size());
        assertEquals("VIOLATED", p.at("/tests/2/outcome").asText());
        assertEquals(0.02, p.at("/tests/2/margin").asDouble());
        assertEquals("country=DE", p.at("/tests/3/segment").asText());
        assertEquals("-Infinity", p.at("/tests/3/low").asText(), "no evidence yet: an unbounded interval");
        assertEquals("Infinity", p.at("/tests/3/high").asText());
        assertTrue(p.at("/tests/0/segment").isNull());
        assertEquals(E_VALUE, p.at("/tests/1/e_value").asDouble());
        assertTrue(p.at("/tests/0/e_value").isNull());
        JsonNode primary = s.at("/cumulative/primary").get(CAND);
        assertTrue(primary.get("estimate").get(0).isNull(), "Avro default [0, 0]: no interval reported yet");
        assertTrue(primary.get("low").get(0).isNull());
        assertEquals(WINDOWS - UNLABELLED_WINDOWS, nonNull(primary.get("estimate")));
        assertEquals(primaryEstimate(last) + primaryHalfWidth(last), last(primary.get("high")));
        assertEquals(E_VALUE, last(s.at("/cumulative/mcnemar_e_value").get(CAND)));
        JsonNode v = verdicts.get(0);
        assertEquals(FIRST_DECIDED_AT.toEpochMilli(), v.get("first_decided_at").asLong());
        assertEquals(0.025, v.get("alpha").asDouble());
        assertEquals(2, v.get("evidence").size());
        assertEquals("guardrail", v.at("/evidence/1/test").asText());
        JsonNode candQuality = s.at("/latest/quality/1");
        assertEquals(10, candQuality.get("calibration").size());
        assertEquals(900, candQuality.at("/calibration/0/count").asLong());
        assertEquals(ece(1), candQuality.at("/metrics/ece").asDouble());
        assertEquals(ece(1), last(s.at("/cumulative/quality/ece").get(CAND)));
    }

    @Test
    void servesThePageAndItsAssetsFromTheJar() throws Exception {
        for (String[] p :
                List.of(new String[] {"/", "text/html"}, new String[] {"/app.js", "text/javascript"}, new String[] {
                    "/style.css", "text/css"
                })) {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + p[0]))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), p[0]);
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith(p[1]), p[0]);
            String body =
                    r.body().replace("http://www.w3.org/2000/svg", ""); // the SVG namespace is a name, not a download
            assertFalse(
                    body.contains("http://") || body.contains("https://"),
                    p[0] + " must not load anything from the internet");
        }
        HttpResponse<String> missing = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + "/nope"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
    }

    // ---------------------------------------------------------------------------------- real browser
    @Test
    void aRealBrowserRendersTheChartsWithTheValuesWritten() throws Exception {
        assumeTrue(
                Files.isExecutable(Paths.get(CHROMIUM)),
                CHROMIUM
                        + " is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser test");
        String url = "http://127.0.0.1:" + dashboard.port() + "/";
        Path target = Paths.get("target");
        Files.createDirectories(target);

        String dom = chromium(target.resolve("chromium-dump-dom.log"), "--dump-dom", url);
        Files.writeString(target.resolve("dashboard-dom.html"), dom);
        JsonNode s = summary();
        JsonNode t = s.get("tumbling");
        JsonNode cu = s.get("cumulative");

        // Disagreement rate: one line, the candidate.
        Map<String, String> flip = svg(dom, "flip_rate");
        assertEquals(String.valueOf(WINDOWS), flip.get("data-points"));
        assertValue(expected.get("flip_rate"), last(t.get("flip_rate").get(CAND)), flip.get("data-last"), "flip_rate");
        assertLine(dom, "flip_rate", CAND, WINDOWS, expected.get("flip_rate"));

        // Score difference quantiles.
        Map<String, String> diff = svg(dom, "abs_diff");
        assertEquals(CAND, diff.get("data-candidate"));
        assertEquals("3", diff.get("data-lines"));
        for (String q : List.of("p50", "p90", "p99")) {
            assertValue(
                    expected.get(q),
                    last(t.get("abs_diff_" + q).get(CAND)),
                    line(dom, "abs_diff", q).get("data-last"),
                    q);
            assertLine(dom, "abs_diff", q, WINDOWS, expected.get(q));
        }

        // Quality over time, live vs candidate, only once labels arrived.
        for (String metric : List.of("accuracy", "roc_auc", "log_loss")) {
            Map<String, String> chart = svg(dom, "quality:" + metric);
            assertEquals("2", chart.get("data-lines"), metric);
            assertEquals(String.valueOf(WINDOWS - UNLABELLED_WINDOWS), chart.get("data-points"), metric);
            for (String model : List.of(LIVE, CAND)) {
                double fromJson = last(cu.get("quality").get(metric).get(model));
                assertValue(
                        expected.get(metric + ":" + model),
                        fromJson,
                        line(dom, "quality:" + metric, model).get("data-last"),
                        metric + " " + model);
                assertLine(
                        dom,
                        "quality:" + metric,
                        model,
                        WINDOWS - UNLABELLED_WINDOWS,
                        expected.get(metric + ":" + model));
            }
        }
        assertFalse(dom.contains("data-series=\"quality:macro_f1\""), "a binary task has no macro F1 chart");

        Map<String, String> coverage = svg(dom, "label_coverage");
        assertEquals(String.valueOf(WINDOWS), coverage.get("data-points"));
        assertValue(
                expected.get("label_coverage"),
                last(cu.get("label_coverage")),
                coverage.get("data-last"),
                "label_coverage");

        // Latency per model, from the reports and from the sampled scored events.
        for (String model : List.of(LIVE, CAND)) {
            assertValue(
                    expected.get("latency:" + model),
                    last(t.get("latency_mean_micros").get(model)),
                    line(dom, "latency", model).get("data-last"),
                    "latency " + model);
        }
        Map<String, String> scoredLatency = svg(dom, "scored_latency");
        assertEquals("2", scoredLatency.get("data-points"));
        for (String model : List.of(LIVE, CAND)) {
            Matcher bar = Pattern.compile(
                            "<rect[^>]*data-name=\"" + Pattern.quote(model) + "\"[^>]*data-value=\"([^\"]+)\"")
                    .matcher(section(dom, "scored_latency"));
            assertTrue(bar.find(), "bar of " + model);
            assertValue(
                    expected.get("scored_latency:" + model),
                    s.at("/scored_events/latency_micros").get(model).get("mean").asDouble(),
                    bar.group(1),
                    "scored latency " + model);
        }

        // Dead letters: bars per window, the count and the reasons.
        Map<String, String> dead = svg(dom, "dead_letters");
        assertEquals(String.valueOf(WINDOWS), dead.get("data-points"));
        assertValue(
                expected.get("dead_lettered"), last(t.get("dead_lettered")), dead.get("data-last"), "dead_lettered");
        String deadCard = dom.substring(dom.indexOf("data-chart=\"dead_letters\""));
        assertTrue(
                Pattern.compile("<rect[^>]*height=\"[1-9]")
                        .matcher(section(dom, "dead_letters"))
                        .find(),
                "dead-letter bars");
        assertTrue(deadCard.contains("data-count=\"" + deadLetterReasons.size() + "\""));
        for (String reason : deadLetterReasons) {
            assertTrue(deadCard.contains(html(reason)), "dead-letter reason shown: " + reason);
        }

        // The verdict badge and its reasons.
        Matcher badge = Pattern.compile(
                        "<span class=\"badge ([A-Z]+)\" data-verdict=\"([A-Z]+)\" data-candidate=\"([^\"]+)\">([A-Z]+)</span>")
                .matcher(dom);
        assertTrue(badge.find(), "verdict badge");
        assertEquals(
                List.of("REJECT", "REJECT", CAND, "REJECT"),
                List.of(badge.group(1), badge.group(2), badge.group(3), badge.group(4)));
        assertFalse(badge.find(), "one badge per candidate");
        for (String reason : REJECT_REASONS) {
            assertTrue(dom.contains("<li>" + html(reason.toString()) + "</li>"), "verdict reason shown: " + reason);
        }
        verdictEvidenceIsRendered(dom, s);
        calibrationIsRendered(dom);
        assertTrue(dom.contains("data-rendered=\"" + 2 * WINDOWS + "\""), "the page rendered the full summary");

        // A screenshot a person can look at.
        Path png = target.resolve("dashboard-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(png);
        chromium(
                target.resolve("chromium-screenshot.log"),
                "--screenshot=" + png,
                "--window-size=1400,1000",
                "--hide-scrollbars",
                url);
        assertTrue(Files.exists(png), "screenshot written");
        byte[] bytes = Files.readAllBytes(png);
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        assertTrue(bytes.length > 10_000, "a non-trivial screenshot, was " + bytes.length + " bytes");
        // And the whole page, for a person reviewing the build artifacts.
        chromium(
                target.resolve("chromium-screenshot.log"),
                "--screenshot=" + target.resolve("dashboard-full-page.png").toAbsolutePath(),
                "--window-size=1400,2700",
                "--hide-scrollbars",
                url);
    }

    /** Per candidate: first decision, the primary interval, the e-value, what is still needed, the tests. */
    static void verdictEvidenceIsRendered(String dom, JsonNode s) {
        int last = WINDOWS - 1;
        String card = dom.substring(dom.indexOf("<div class=\"evidence\" data-candidate=\"" + CAND + "\""));
        card = card.substring(0, card.indexOf("</table>"));
        assertTrue(
                dom.contains("data-field=\"first_decided_at\" data-value=\"" + FIRST_DECIDED_AT.toEpochMilli()
                        + "\">first decided 2026-01-07 12:00 UTC</span>"),
                "first decision time");
        assertEquals("+0.0233", field(card, "primary_estimate"));
        assertEquals("[0.0133, 0.0333]", field(card, "primary_cs"));
        Matcher bar =
                Pattern.compile("<svg class=\"interval o-([A-Z_]+)\"[^>]*>").matcher(card);
        assertTrue(bar.find(), "interval bar of the primary metric");
        assertEquals("CANDIDATE_WORSE", bar.group(1));
        Map<String, String> a = attributes(bar.group());
        assertEquals(s.at("/latest/paired/0/primary_estimate").asDouble(), Double.parseDouble(a.get("data-estimate")));
        assertEquals(primaryEstimate(last) - primaryHalfWidth(last), Double.parseDouble(a.get("data-low")));
        assertEquals(primaryEstimate(last) + primaryHalfWidth(last), Double.parseDouble(a.get("data-high")));
        assertEquals("57.250", field(card, "mcnemar_e_value"));
        assertEquals("0.0175", field(card, "mcnemar_always_valid_p"));
        assertEquals("±0.0100", field(card, "min_detectable_effect"));
        assertEquals("decided", field(card, "needed"));
        // The tests: every one of the report's, the verdict's evidence marked, violated / worse highlighted.
        Matcher rows = Pattern.compile(
                        "<tr class=\"([a-z ]*)\" data-test=\"([a-z_]+)\" data-metric=\"([a-z_]+)\""
                                + " data-segment=\"([^\"]*)\" data-outcome=\"([A-Z_]+)\" data-decisive=\"(true|false)\">(.*?)</tr>")
                .matcher(card);
        List<String> seen = new ArrayList<>();
        Map<String, String> rowHtml = new HashMap<>();
        while (rows.find()) {
            String id = rows.group(2) + "/" + rows.group(3) + "/" + rows.group(4);
            seen.add(id + " " + rows.group(1).trim() + " " + rows.group(5) + " " + rows.group(6));
            rowHtml.put(id, rows.group(7));
        }
        assertEquals(
                List.of(
                        "primary/log_loss/ bad CANDIDATE_WORSE false",
                        "mcnemar/accuracy/ bad decisive CANDIDATE_WORSE true",
                        "guardrail/recall/ bad decisive VIOLATED true",
                        "segment/log_loss/country=DE  INCONCLUSIVE false",
                        "error_rate/error_rate/  INCONCLUSIVE false"),
                seen);
        String guardrail = rowHtml.get("guardrail/recall/");
        assertTrue(guardrail.contains("<td>-0.0310</td>"), "estimate: " + guardrail);
        assertTrue(guardrail.contains("[-0.0520, -0.0240]"), "interval: " + guardrail);
        assertTrue(guardrail.contains("<td>0.0200</td>"), "margin: " + guardrail);
        assertTrue(guardrail.contains("violated"), "outcome: " + guardrail);
        assertTrue(rowHtml.get("segment/log_loss/country=DE").contains("[−∞, +∞]"), "unbounded interval");
        assertTrue(rowHtml.get("mcnemar/accuracy/").contains("<td>57.250</td>"), "e-value in the mcnemar row");
        // The primary interval over time: gaps while the reports carried the defaults.
        Map<String, String> chart = svg(dom, "primary:" + CAND);
        assertEquals("3", chart.get("data-lines"));
        assertEquals(String.valueOf(WINDOWS - UNLABELLED_WINDOWS), chart.get("data-points"));
        assertEquals(primaryEstimate(last), Double.parseDouble(chart.get("data-last")));
        assertEquals(
                primaryEstimate(last) - primaryHalfWidth(last),
                Double.parseDouble(line(dom, "primary:" + CAND, "low").get("data-last")));
        // The latest report's paired table carries the interval and the e-value as well.
        String pairedRow = dom.substring(dom.indexOf("<tr data-candidate=\"" + CAND + "\">"));
        pairedRow = pairedRow.substring(0, pairedRow.indexOf("</tr>"));
        assertTrue(pairedRow.contains("<td>[0.0133, 0.0333]</td><td>57.250</td><td>0.0175</td>"), pairedRow);
    }

    /** ECE per model and a reliability diagram with one line per model. */
    static void calibrationIsRendered(String dom) {
        Map<String, String> chart = svg(dom, "calibration");
        assertEquals("2", chart.get("data-lines"));
        for (int model = 0; model < 2; model++) {
            String name = model == 0 ? LIVE : CAND;
            Map<String, String> l = line(dom, "calibration", name);
            assertEquals("10", l.get("data-points"), name);
            assertEquals(ece(model), Double.parseDouble(l.get("data-ece")), name);
            assertTrue(
                    dom.contains("<b data-ece=\"" + name + "\">" + String.format("%.4f", ece(model)) + "</b>"),
                    "ECE in the legend: " + name);
            assertEquals(
                    ece(model),
                    Double.parseDouble(line(dom, "quality:ece", name).get("data-last")));
        }
    }

    /** The text of the element with this data-field. */
    static String field(String html, String name) {
        Matcher m = Pattern.compile("data-field=\"" + name + "\"[^>]*>([^<]*)<").matcher(html);
        assertTrue(m.find(), "no data-field " + name);
        return m.group(1);
    }

    /** Text as the DOM serialises it. */
    static String html(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static void assertValue(double written, double fromJson, String fromDom, String what) {
        assertEquals(written, fromJson, what + ": JSON vs the value written");
        assertNotNull(fromDom, what + ": no data-last");
        assertFalse(fromDom.isEmpty(), what + ": empty data-last");
        assertEquals(fromJson, Double.parseDouble(fromDom), what + ": DOM vs JSON");
    }

    static void assertLine(String dom, String series, String name, int points, double last) {
        Map<String, String> l = line(dom, series, name);
        assertEquals(String.valueOf(points), l.get("data-points"), series + " " + name);
        assertEquals(last, Double.parseDouble(l.get("data-last")), series + " " + name);
        String d = l.get("d");
        assertTrue(
                d != null && d.startsWith("M") && d.split("L").length == points, series + " " + name + " path: " + d);
    }

    /** The attributes of the {@code <svg>} with this data-series. */
    static Map<String, String> svg(String dom, String series) {
        Matcher m = Pattern.compile("<svg[^>]*data-series=\"" + Pattern.quote(series) + "\"[^>]*>")
                .matcher(dom);
        assertTrue(m.find(), "no chart " + series + " in the rendered page");
        return attributes(m.group());
    }

    /** The markup of the {@code <svg>} with this data-series. */
    static String section(String dom, String series) {
        Matcher m = Pattern.compile("<svg[^>]*data-series=\"" + Pattern.quote(series) + "\"[^>]*>")
                .matcher(dom);
        assertTrue(m.find(), "no chart " + series);
        return dom.substring(m.start(), dom.indexOf("</svg>", m.start()));
    }

    /** The attributes of the line (path) named {@code name} in a chart. */
    static Map<String, String> line(String dom, String series, String name) {
        Matcher m = Pattern.compile("<path[^>]*class=\"line\"[^>]*data-name=\"" + Pattern.quote(name) + "\"[^>]*>")
                .matcher(section(dom, series));
        assertTrue(m.find(), "no line " + name + " in chart " + series);
        return attributes(m.group());
    }

    static Map<String, String> attributes(String tag) {
        Map<String, String> a = new HashMap<>();
        Matcher m = Pattern.compile("([a-zA-Z:-]+)=\"([^\"]*)\"").matcher(tag);
        while (m.find()) {
            a.put(
                    m.group(1),
                    m.group(2).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"));
        }
        return a;
    }

    /** Runs headless Chromium with a fresh profile; returns its stdout. */
    static String chromium(Path log, String... args) throws Exception {
        Path profile = Files.createTempDirectory("shadowml-chromium");
        try {
            List<String> cmd = new ArrayList<>(List.of(
                    CHROMIUM,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--user-data-dir=" + profile,
                    "--virtual-time-budget=15000"));
            cmd.addAll(List.of(args));
            Path out = Files.createTempFile("chromium", ".out");
            Process p = new ProcessBuilder(cmd)
                    .redirectOutput(out.toFile())
                    .redirectError(log.toFile())
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("chromium did not finish in 120 s: " + cmd);
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            Files.deleteIfExists(out);
            assertEquals(0, p.exitValue(), "chromium exit code; see " + log.toAbsolutePath());
            return stdout;
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
