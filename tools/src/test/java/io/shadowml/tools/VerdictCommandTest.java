package io.shadowml.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Decision;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.tools.verdict.VerdictCommand;

/**
 * The verdict gate against a real broker: verdicts written in Kafka transactions as the job writes them
 * (plain Avro binary, keyed {@code <experiment>/<candidate>} or {@code <experiment>/canary/<arm>}), one of them
 * aborted; every expected value below comes from the records written here.
 */
class VerdictCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static final AtomicInteger TX_IDS = new AtomicInteger();
    private static final Instant T1 = Instant.parse("2026-01-05T10:00:00Z");
    private static final Instant T2 = Instant.parse("2026-01-05T11:00:00Z");
    private static final Instant T0 = Instant.parse("2026-01-05T08:00:00Z");

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err, Duration took) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code = VerdictCommand.run(
                argv,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(
                code,
                out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8),
                Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Options for a topic and experiment without a config file. */
    private static String[] on(String topic, String experiment, String... more) {
        List<String> a = new ArrayList<>(
                List.of("--bootstrap", KAFKA.kafka().bootstrapServers(), "--topic", topic, "--experiment", experiment));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static String newTopic() {
        String t = "verdicts-" + TOPICS.incrementAndGet();
        KAFKA.kafka().createTopic(t, 2);
        return t;
    }

    private static TestResult test(
            String test,
            String metric,
            String segment,
            double estimate,
            double low,
            double high,
            double margin,
            double alpha,
            Double eValue,
            long pairs,
            TestOutcome outcome) {
        return TestResult.newBuilder()
                .setTest(test)
                .setMetric(metric)
                .setSegment(segment)
                .setEstimate(estimate)
                .setLow(low)
                .setHigh(high)
                .setMargin(margin)
                .setAlpha(alpha)
                .setEValue(eValue)
                .setPairs(pairs)
                .setOutcome(outcome)
                .build();
    }

    private static Verdict verdict(
            String experiment, String candidate, String arm, Decision decision, Instant at, List<TestResult> evidence) {
        boolean decided = decision != Decision.CONTINUE;
        return Verdict.newBuilder()
                .setExperimentId(experiment)
                .setCandidate(candidate)
                .setArm(arm)
                .setDecision(decision)
                .setDecidedAt(at)
                .setFirstDecidedAt(decided ? T0 : null)
                .setReasons(List.of(decision + " because of the test " + candidate))
                .setAlpha(0.005)
                .setEvidence(evidence)
                .build();
    }

    private static Verdict shadow(String experiment, String candidate, Decision decision, Instant at) {
        return verdict(experiment, candidate, null, decision, at, List.of());
    }

    private static Verdict canary(String experiment, String arm, String candidate, Decision decision, Instant at) {
        return verdict(experiment, candidate, arm, decision, at, List.of());
    }

    private static String keyOf(Verdict v) {
        return v.getExperimentId() + "/" + (v.getArm() == null ? v.getCandidate() : "canary/" + v.getArm());
    }

    /** Writes the verdicts in one Kafka transaction, committed or aborted, as the job's exactly-once sink does. */
    private static void write(String topic, boolean commit, Verdict... verdicts) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (Verdict v : verdicts) {
            records.add(new ProducerRecord<>(
                    topic,
                    null,
                    v.getDecidedAt().toEpochMilli(),
                    keyOf(v).getBytes(StandardCharsets.UTF_8),
                    AvroCodec.encode(v)));
        }
        writeRaw(commit, records);
    }

    private static void writeRaw(boolean commit, List<ProducerRecord<byte[], byte[]>> records) {
        Map<String, Object> p = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                KAFKA.kafka().bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "verdict-test-" + TX_IDS.incrementAndGet(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (ProducerRecord<byte[], byte[]> r : records) {
                producer.send(r);
            }
            producer.flush();
            if (commit) {
                producer.commitTransaction();
            } else {
                producer.abortTransaction();
            }
        }
    }

    /** The job's config for experiment {@code experiment} with verdicts on {@code topic}. */
    private Path config(String experiment, String topic) throws Exception {
        Path models = ScenarioData.repoRoot().resolve("models/shipped/fraud");
        Path file = tmp.resolve(experiment + ".yaml");
        Files.writeString(
                file,
                String.join(
                        "\n",
                        "experiment_id: " + experiment,
                        "kafka:",
                        "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                        "  properties:",
                        "    client.dns.lookup: use_all_dns_ips",
                        "    isolation.level: read_uncommitted", // for the job's sources; the gate ignores it
                        "topics:",
                        "  requests: r",
                        "  labels: l",
                        "  reports: rep",
                        "  verdicts: " + topic,
                        "  dead_letter: dl",
                        "models:",
                        "  live: " + models.resolve("live/model.json"),
                        "  candidates:",
                        "    - " + models.resolve("candidate/model.json"),
                        ""));
        return file;
    }

    private static void assertContains(Run r, String... expected) {
        for (String e : expected) {
            assertTrue(r.out().contains(e), "'" + e + "' in stdout of\n" + r);
        }
    }

    @Test
    void promoteExitsZeroWithItsEvidenceAndAnAbortedRejectIsNotSeen() throws Exception {
        String topic = newTopic();
        List<TestResult> evidence = List.of(
                test(
                        "primary",
                        "log_loss",
                        null,
                        -0.0123,
                        -0.02,
                        -0.0046,
                        0.0,
                        0.00125,
                        null,
                        2500,
                        TestOutcome.CANDIDATE_BETTER),
                test(
                        "mcnemar",
                        "accuracy",
                        null,
                        0.004,
                        0.001,
                        0.007,
                        0.0,
                        0.00125,
                        412.5,
                        2500,
                        TestOutcome.CANDIDATE_BETTER),
                test(
                        "guardrail",
                        "recall",
                        "region=EU",
                        -0.003,
                        -0.015,
                        Double.POSITIVE_INFINITY,
                        0.02,
                        0.00125,
                        null,
                        310,
                        TestOutcome.INCONCLUSIVE));
        write(topic, true, verdict("exp-a", "fraud-mlp:2.0.0", null, Decision.PROMOTE, T1, evidence));
        // Another experiment's REJECT on the same topic, and this candidate's REJECT in an aborted transaction.
        write(topic, true, shadow("exp-other", "fraud-mlp:2.0.0", Decision.REJECT, T2));
        write(topic, false, shadow("exp-a", "fraud-mlp:2.0.0", Decision.REJECT, T2));

        Run r = run("--config", config("exp-a", topic).toString());
        assertEquals(0, r.code(), r.toString());
        assertContains(
                r,
                "exp-a/fraud-mlp:2.0.0: PROMOTE candidate=fraud-mlp:2.0.0 arm=- decided_at=2026-01-05T10:00:00Z"
                        + " first_decided_at=2026-01-05T08:00:00Z alpha=0.005",
                "  reason: PROMOTE because of the test fraud-mlp:2.0.0",
                "  evidence: test=primary metric=log_loss segment=- estimate=-0.0123 [-0.02, -0.0046] margin=0.0"
                        + " alpha=0.00125 e_value=- pairs=2500 outcome=CANDIDATE_BETTER",
                "  evidence: test=mcnemar metric=accuracy segment=- estimate=0.004 [0.001, 0.007] margin=0.0"
                        + " alpha=0.00125 e_value=412.5 pairs=2500 outcome=CANDIDATE_BETTER",
                "  evidence: test=guardrail metric=recall segment=region=EU estimate=-0.003 [-0.015, Infinity]"
                        + " margin=0.02 alpha=0.00125 e_value=- pairs=310 outcome=INCONCLUSIVE",
                "decision: PROMOTE (exit 0): exp-a/fraud-mlp:2.0.0 PROMOTE");
        assertFalse(r.out().contains("exp-other"), r.toString());
        assertFalse(r.out().contains("REJECT"), r.toString());

        // The same as one JSON object.
        Run j = run("--config", config("exp-a", topic).toString(), "--json");
        assertEquals(0, j.code(), j.toString());
        JsonNode root = new ObjectMapper().readTree(j.out());
        assertEquals("exp-a", root.get("experiment").asText());
        assertEquals(topic, root.get("topic").asText());
        assertEquals("PROMOTE", root.get("decision").asText());
        assertEquals(0, root.get("exit_code").asInt());
        assertEquals(1, root.get("verdicts").size(), j.out());
        assertEquals(0, root.get("missing").size(), j.out());
        JsonNode v = root.get("verdicts").get(0);
        assertEquals("exp-a/fraud-mlp:2.0.0", v.get("key").asText());
        assertEquals("fraud-mlp:2.0.0", v.get("candidate").asText());
        assertTrue(v.get("arm").isNull());
        assertEquals("PROMOTE", v.get("decision").asText());
        assertEquals("2026-01-05T10:00:00Z", v.get("decided_at").asText());
        assertEquals("2026-01-05T08:00:00Z", v.get("first_decided_at").asText());
        assertEquals(0.005, v.get("alpha").asDouble());
        assertEquals(
                "PROMOTE because of the test fraud-mlp:2.0.0",
                v.get("reasons").get(0).asText());
        JsonNode e0 = v.get("evidence").get(0);
        assertEquals("primary", e0.get("test").asText());
        assertEquals("log_loss", e0.get("metric").asText());
        assertTrue(e0.get("segment").isNull());
        assertEquals(-0.0123, e0.get("estimate").asDouble());
        assertEquals(-0.02, e0.get("low").asDouble());
        assertEquals(-0.0046, e0.get("high").asDouble());
        assertEquals(0.00125, e0.get("alpha").asDouble());
        assertTrue(e0.get("e_value").isNull());
        assertEquals(2500, e0.get("pairs").asLong());
        assertEquals("CANDIDATE_BETTER", e0.get("outcome").asText());
        assertEquals(412.5, v.get("evidence").get(1).get("e_value").asDouble());
        JsonNode e2 = v.get("evidence").get(2);
        assertEquals("region=EU", e2.get("segment").asText());
        assertEquals("Infinity", e2.get("high").asText()); // not a JSON number: a string
        assertEquals(0.02, e2.get("margin").asDouble());
    }

    @Test
    void proceedOfAnArmExitsZero() {
        String topic = newTopic();
        write(topic, true, canary("exp-c", "b", "fraud-mlp:2.0.0", Decision.PROCEED, T1));
        Run r = run(on(topic, "exp-c", "--arm", "b"));
        assertEquals(0, r.code(), r.toString());
        assertContains(
                r,
                "exp-c/canary/b: PROCEED candidate=fraud-mlp:2.0.0 arm=b decided_at=2026-01-05T10:00:00Z",
                "decision: PROCEED (exit 0): exp-c/canary/b PROCEED");
        // Every verdict of the experiment when nothing is selected: the same.
        assertEquals(0, run(on(topic, "exp-c")).code());
    }

    @Test
    void rejectAndRollbackExitOne() {
        String topic = newTopic();
        write(
                topic,
                true,
                shadow("exp-r", "fraud-mlp:2.0.0", Decision.REJECT, T1),
                shadow("exp-r", "fraud-gbt:2", Decision.PROMOTE, T1),
                canary("exp-r", "b", "fraud-gbt:2", Decision.ROLLBACK, T1),
                canary("exp-r", "c", "fraud-mlp:2.0.0", Decision.PROCEED, T1));

        Run reject = run(on(topic, "exp-r", "--candidate", "fraud-mlp:2.0.0"));
        assertEquals(1, reject.code(), reject.toString());
        assertContains(
                reject,
                "exp-r/fraud-mlp:2.0.0: REJECT candidate=fraud-mlp:2.0.0",
                "decision: REJECT (exit 1): exp-r/fraud-mlp:2.0.0 REJECT");

        Run rollback = run(on(topic, "exp-r", "--arm", "b"));
        assertEquals(1, rollback.code(), rollback.toString());
        assertContains(rollback, "decision: ROLLBACK (exit 1): exp-r/canary/b ROLLBACK");

        // Selection: only what is selected counts.
        Run promote = run(on(topic, "exp-r", "--candidate", "fraud-gbt:2"));
        assertEquals(0, promote.code(), promote.toString());
        assertFalse(promote.out().contains("fraud-mlp:2.0.0"), promote.toString());
        Run proceed = run(on(topic, "exp-r", "--arm", "c"));
        assertEquals(0, proceed.code(), proceed.toString());
        Run both = run(on(topic, "exp-r", "--candidate", "fraud-gbt:2", "--arm", "c"));
        assertEquals(0, both.code(), both.toString());
        assertContains(both, "decision: PROMOTE (exit 0): all 2 selected verdicts are PROMOTE or PROCEED");
        // Any REJECT or ROLLBACK among the selected decides, even next to a PROMOTE.
        assertEquals(
                1,
                run(on(topic, "exp-r", "--candidate", "fraud-gbt:2,fraud-mlp:2.0.0"))
                        .code());
        assertEquals(
                1,
                run(on(topic, "exp-r", "--candidate", "fraud-gbt:2", "--arm", "b"))
                        .code());
        // Nothing selected: every verdict of the experiment, so the REJECT.
        Run all = run(on(topic, "exp-r"));
        assertEquals(1, all.code(), all.toString());
        assertContains(all, "decision: REJECT (exit 1): exp-r/canary/b ROLLBACK, exp-r/fraud-mlp:2.0.0 REJECT");
    }

    @Test
    void continueExitsThreeAfterTheWait() {
        String topic = newTopic();
        write(topic, true, shadow("exp-w", "fraud-mlp:2.0.0", Decision.CONTINUE, T1));
        Run once = run(on(topic, "exp-w"));
        assertEquals(3, once.code(), once.toString());
        assertContains(
                once,
                "exp-w/fraud-mlp:2.0.0: CONTINUE candidate=fraud-mlp:2.0.0 arm=- decided_at=2026-01-05T10:00:00Z"
                        + " first_decided_at=- alpha=0.005",
                "decision: CONTINUE (exit 3): 1 of 1 undecided: exp-w/fraud-mlp:2.0.0 CONTINUE");

        Run waited = run(on(topic, "exp-w", "--wait", "2s", "--poll", "300ms"));
        assertEquals(3, waited.code(), waited.toString());
        assertTrue(
                waited.took().compareTo(Duration.ofSeconds(2)) >= 0,
                waited.took().toString());
        assertTrue(
                waited.took().compareTo(Duration.ofSeconds(20)) < 0,
                waited.took().toString());
        assertTrue(
                waited.err()
                        .contains(
                                "CONTINUE: 1 of 1 undecided: exp-w/fraud-mlp:2.0.0 CONTINUE; looking again every 0.3s until"),
                waited.err());
        assertContains(waited, "decision: CONTINUE (exit 3): 1 of 1 undecided", "of --wait 2s)");
    }

    @Test
    void aPromoteDuringTheWaitEndsItWithZero() throws Exception {
        String topic = newTopic();
        write(topic, true, shadow("exp-d", "fraud-mlp:2.0.0", Decision.CONTINUE, T1));
        CompletableFuture<Void> later = CompletableFuture.runAsync(
                () -> write(topic, true, shadow("exp-d", "fraud-mlp:2.0.0", Decision.PROMOTE, T2)),
                CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS));
        Run r = run(on(topic, "exp-d", "--candidate", "fraud-mlp:2.0.0", "--wait", "60s", "--poll", "200ms"));
        later.get(30, TimeUnit.SECONDS);
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.took().compareTo(Duration.ofMillis(900)) >= 0, r.took().toString()); // the PROMOTE came later
        assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, r.took().toString());
        assertContains(
                r,
                "exp-d/fraud-mlp:2.0.0: PROMOTE candidate=fraud-mlp:2.0.0 arm=- decided_at=2026-01-05T11:00:00Z",
                "decision: PROMOTE (exit 0)");
        assertTrue(r.err().contains("CONTINUE: 1 of 1 undecided: exp-d/fraud-mlp:2.0.0 CONTINUE"), r.err());
    }

    @Test
    void theLatestVerdictPerKeyWins() {
        String topic = newTopic();
        write(topic, true, shadow("exp-l", "fraud-mlp:2.0.0", Decision.CONTINUE, T1));
        write(topic, true, shadow("exp-l", "fraud-mlp:2.0.0", Decision.PROMOTE, T2));
        write(topic, true, canary("exp-l", "b", "fraud-mlp:2.0.0", Decision.CONTINUE, T1));
        // Undecodable records are skipped with a warning.
        writeRaw(
                true,
                List.of(
                        new ProducerRecord<>(
                                topic, "exp-l/junk".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3}),
                        new ProducerRecord<>(topic, "exp-l/empty".getBytes(StandardCharsets.UTF_8), new byte[0])));
        Run r = run(on(topic, "exp-l", "--candidate", "fraud-mlp:2.0.0"));
        assertEquals(0, r.code(), r.toString());
        assertContains(r, "exp-l/fraud-mlp:2.0.0: PROMOTE", "decided_at=2026-01-05T11:00:00Z");
        assertFalse(r.out().contains("CONTINUE"), r.toString());
        assertTrue(r.err().contains("warning: skipped record " + topic + "-"), r.err());
        assertTrue(r.err().contains("empty value (0 bytes), not a Verdict"), r.err());
        // The canary verdict of the same candidate is another key: still CONTINUE.
        assertEquals(3, run(on(topic, "exp-l", "--arm", "b")).code());
        assertEquals(3, run(on(topic, "exp-l")).code());
    }

    @Test
    void aSelectedCandidateWithoutAVerdictIsUndecided() throws Exception {
        String topic = newTopic();
        write(topic, true, shadow("exp-m", "fraud-mlp:2.0.0", Decision.PROMOTE, T1));
        Run r = run(on(topic, "exp-m", "--candidate", "fraud-mlp:2.0.0", "--candidate", "fraud-gbt:2"));
        assertEquals(3, r.code(), r.toString());
        assertContains(
                r,
                "exp-m/fraud-gbt:2: no verdict yet (counts as CONTINUE)",
                "decision: CONTINUE (exit 3): 1 of 2 undecided: exp-m/fraud-gbt:2 no verdict yet");
        Run arm = run(on(topic, "exp-m", "--arm", "b", "--json"));
        assertEquals(3, arm.code(), arm.toString());
        JsonNode root = new ObjectMapper().readTree(arm.out());
        assertEquals("CONTINUE", root.get("decision").asText());
        assertEquals(3, root.get("exit_code").asInt());
        assertEquals(0, root.get("verdicts").size(), arm.out());
        assertEquals(1, root.get("missing").size(), arm.out());
        assertEquals("exp-m/canary/b", root.get("missing").get(0).get("key").asText());
        assertEquals("b", root.get("missing").get(0).get("arm").asText());
    }

    @Test
    void noVerdictOfTheExperimentExitsThreeWithAMessage() {
        String topic = newTopic();
        write(topic, true, shadow("exp-other", "fraud-mlp:2.0.0", Decision.PROMOTE, T1));
        write(topic, false, shadow("exp-n", "fraud-mlp:2.0.0", Decision.PROMOTE, T1));
        Run r = run(on(topic, "exp-n", "--wait", "1s", "--poll", "200ms"));
        assertEquals(3, r.code(), r.toString());
        assertContains(r, "decision: CONTINUE (exit 3): no verdict of experiment exp-n on topic " + topic + " yet");
        Run c = run(on(topic, "exp-n", "--candidate", "fraud-mlp:2.0.0"));
        assertEquals(3, c.code(), c.toString());
        assertContains(
                c,
                "decision: CONTINUE (exit 3): no verdict of experiment exp-n on topic " + topic
                        + " yet: exp-n/fraud-mlp:2.0.0 no verdict yet");
    }

    @Test
    void usageAndConfigurationErrorsExitTwo() throws Exception {
        Run bogus = run("--bogus");
        assertEquals(2, bogus.code(), bogus.toString());
        assertTrue(bogus.err().contains("verdict: unknown option --bogus"), bogus.err());
        assertEquals("", bogus.out());
        Run missing = run("--topic", "t", "--experiment", "e");
        assertEquals(2, missing.code(), missing.toString());
        assertTrue(missing.err().contains("option --bootstrap is required without --config"), missing.err());
        assertEquals(2, run(on("t", "e", "--wait", "soon")).code());
        assertEquals(2, run(on("t", "e", "--poll", "0s")).code());
        assertEquals(
                2,
                run(on("t", "e", "--consumer-property", "isolation.level=read_uncommitted"))
                        .code());
        Run badProperty = run(on("t", "e", "--consumer-property", "max.poll.records=many"));
        assertEquals(2, badProperty.code(), badProperty.toString());
        assertTrue(badProperty.err().contains("max.poll.records"), badProperty.err());
        Run noFile = run("--config", tmp.resolve("absent.yaml").toString());
        assertEquals(2, noFile.code(), noFile.toString());
        Path broken = tmp.resolve("broken.yaml");
        Files.writeString(broken, "experiment_id: x\n");
        Run badConfig = run("--config", broken.toString());
        assertEquals(2, badConfig.code(), badConfig.toString());
        assertTrue(badConfig.err().contains(broken.toString()), badConfig.err());
        assertFalse(badConfig.err().contains("\tat "), badConfig.err());
    }

    @Test
    void explicitOptionsOverrideTheConfig() throws Exception {
        String topic = newTopic();
        write(topic, true, shadow("exp-o", "fraud-mlp:2.0.0", Decision.REJECT, T1));
        Path cfg = config("exp-config", "not-this-topic");
        Run r = run("--config", cfg.toString(), "--topic", topic, "--experiment", "exp-o");
        assertEquals(1, r.code(), r.toString());
        assertContains(r, "decision: REJECT (exit 1): exp-o/fraud-mlp:2.0.0 REJECT");
    }

    @Test
    void anUnreachableBrokerOrAMissingTopicExitsFour() {
        Run unreachable = run("--bootstrap", "127.0.0.1:1", "--topic", "t", "--experiment", "e", "--timeout", "2s");
        assertEquals(4, unreachable.code(), unreachable.toString());
        assertTrue(unreachable.err().contains("could not read verdicts"), unreachable.err());
        assertTrue(
                unreachable.took().compareTo(Duration.ofSeconds(15)) < 0,
                unreachable.took().toString());
        assertEquals("", unreachable.out());

        // Also with --wait: the first look must succeed.
        Run missing = run(on("no-such-topic", "e", "--timeout", "3s", "--wait", "1h"));
        assertEquals(4, missing.code(), missing.toString());
        assertTrue(missing.err().contains("no-such-topic"), missing.err());
        assertTrue(
                missing.took().compareTo(Duration.ofSeconds(15)) < 0,
                missing.took().toString());
    }
}
