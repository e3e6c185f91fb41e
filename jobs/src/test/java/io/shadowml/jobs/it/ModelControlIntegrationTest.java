package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Decision;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.ModelControlAction;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * Candidates that come and go while the job runs, through a real broker: one announced mid-stream on the
 * control topic and retired later, one whose announcement carries a wrong sha256. Every figure is checked
 * against the models run directly (ONNX Runtime, outside the job) over the requests sent.
 */
class ModelControlIntegrationTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    static final long HOUR = 3_600_000L;
    static final long WINDOW = HOUR / 2;
    static final long HORIZON = 2 * HOUR;
    /** The experiment and its topics' prefix: each test its own. */
    private String name = "control";

    @TempDir
    Path tmp;

    @Test
    void anAnnouncedCandidateCountsFromItsStartAndItsFinalVerdictComesOnceAfterItsRetirement() throws Exception {
        EmbeddedKafka kafka = KAFKA.kafka();
        Path repo = ScenarioData.repoRoot();
        Path live = repo.resolve("models/shipped/fraud/live/model.json");
        Path candidateA = repo.resolve("models/shipped/fraud/candidate/model.json");
        // B: the candidate's graph under another name; "bad": the same with a sha256 that is not the file's.
        Path modelB = announcedCopy(candidateA, "fraud-mlp-b", null);
        Path bad = announcedCopy(candidateA, "fraud-mlp-bad", "0".repeat(64));

        List<LabelledRequest> events = withLabelsWithinTheHorizon(ScenarioData.fraud(3000));
        long t0 = events.get(0).request().getEventTime().toEpochMilli();
        long addB = t0 + 2 * HOUR + 123;
        long retireB = t0 + 5 * HOUR + 456;
        long releaseB = Math.floorDiv(retireB + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;
        long lastEvent = events.get(events.size() - 1).request().getEventTime().toEpochMilli();
        assertTrue(lastEvent > releaseB + 2 * WINDOW, "the requests run past B's release");

        createTopics(kafka);
        kafka.produce(List.of(
                control(ModelControlAction.ADD_CANDIDATE, "fraud-mlp-b:2.0.0", modelB, addB),
                control(ModelControlAction.RETIRE_CANDIDATE, "fraud-mlp-b:2.0.0", null, retireB),
                control(ModelControlAction.ADD_CANDIDATE, "fraud-mlp-bad:2.0.0", bad, t0)));

        ShadowJobConfig cfg = config(live, candidateA);
        JobClient job = start(cfg, null);
        try {
            // The bad announcement is the control topic's last record: once its dead letter is committed, the
            // checkpoint that committed it has passed the scoring operator after B's changes, so B is in
            // place before any request is sent.
            List<DeadLetter> deadLetters = read(
                    "dead-letters",
                    DeadLetter.class,
                    ds -> ds.stream().anyMatch(d -> d.getReason().contains("sha256")));
            DeadLetter rejected = deadLetters.stream()
                    .filter(d -> d.getReason().contains("sha256"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no dead letter for the wrong sha256: " + deadLetters));
            assertEquals(topic("control"), rejected.getSourceTopic());
            assertEquals(2, rejected.getOffset());
            assertTrue(rejected.getReason().contains("fraud-mlp-bad:2.0.0"), rejected.getReason());

            produce(kafka, events);
            Outputs out = checkLifeOfB(events, live, candidateA, addB, retireB, releaseB);
            List<ComparisonReport> cumulative = out.cumulative();
            List<Verdict> verdicts = out.verdicts();
            // The rejected announcement: a REJECT verdict with the reason, and the job ran on.
            Verdict badVerdict = verdicts.stream()
                    .filter(v -> v.getCandidate().equals("fraud-mlp-bad:2.0.0"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(Decision.REJECT, badVerdict.getDecision());
            assertTrue(
                    badVerdict.getReasons().get(0).contains("sha256"),
                    badVerdict.getReasons().toString());
            assertFalse(cumulative.stream()
                    .anyMatch(r -> disagreement(r, "fraud-mlp-bad:2.0.0").isPresent()));
        } finally {
            job.cancel().get();
        }
    }

    /**
     * A savepoint taken between B's announcement and its retirement: the restored job keeps B in its slot
     * (the control topic is not read again), joins the labels of the requests scored before the stop, and
     * B's life ends exactly as in one uninterrupted run.
     */
    @Test
    void aSavepointKeepsTheAnnouncedModelAndThePendingLabels() throws Exception {
        name = "control-restore";
        EmbeddedKafka kafka = KAFKA.kafka();
        Path repo = ScenarioData.repoRoot();
        Path live = repo.resolve("models/shipped/fraud/live/model.json");
        Path candidateA = repo.resolve("models/shipped/fraud/candidate/model.json");
        Path modelB = announcedCopy(candidateA, "fraud-mlp-b", null);

        List<LabelledRequest> events = withLabelsWithinTheHorizon(ScenarioData.fraud(3000));
        long t0 = events.get(0).request().getEventTime().toEpochMilli();
        long addB = t0 + 2 * HOUR + 123;
        long stopAt = t0 + 4 * HOUR;
        long retireB = t0 + 5 * HOUR + 456;
        long releaseB = Math.floorDiv(retireB + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;

        createTopics(kafka);
        // Each phase's control records end with a retirement of a model that never was: its dead letter,
        // once committed, says the records before it are applied (as the wrong sha256 does above).
        kafka.produce(List.of(
                control(ModelControlAction.ADD_CANDIDATE, "fraud-mlp-b:2.0.0", modelB, addB),
                control(ModelControlAction.RETIRE_CANDIDATE, "marker-a:1.0.0", null, t0)));
        ShadowJobConfig cfg = config(live, candidateA);
        // The first 4 hours of requests, and the labels known by then: the others wait in the join.
        String savepoint = runUntilSavepoint(cfg, 1, events, stopAt, addB + HOUR);

        kafka.produce(List.of(
                control(ModelControlAction.RETIRE_CANDIDATE, "fraud-mlp-b:2.0.0", null, retireB),
                control(ModelControlAction.RETIRE_CANDIDATE, "marker-b:1.0.0", null, t0)));
        JobClient second = start(cfg, savepoint);
        try {
            awaitDeadLetterAt(3);
            produce(kafka, events, stopAt, Long.MAX_VALUE);
            Outputs out = checkLifeOfB(events, live, candidateA, addB, retireB, releaseB);
            // Restored, not started over: the control topic was not read again, and no window was reported twice.
            List<DeadLetter> dead = read("dead-letters", DeadLetter.class, ds -> true);
            assertEquals(1, dead.stream().filter(d -> d.getOffset() == 1).count(), "marker-a once: " + dead);
            assertEquals(
                    out.cumulative().size(),
                    out.cumulative().stream()
                            .map(ComparisonReport::getWindowEnd)
                            .distinct()
                            .count());
        } finally {
            second.cancel().get();
        }
    }

    /**
     * A savepoint restored with another candidate in the YAML: B (the candidate's graph under another name)
     * in place of A, effective at the stop (models.effective_time). A is retired there: its final report
     * and verdict come once, at its release, and count exactly the requests before the stop and all their
     * labels (those still pending at the stop included). B counts exactly the requests from the stop on; the
     * live model, every request.
     */
    @Test
    void aSavepointRestoredWithAnotherCandidateInTheYamlRetiresTheOldOneAndAddsTheNewOne() throws Exception {
        name = "control-yaml";
        EmbeddedKafka kafka = KAFKA.kafka();
        Path repo = ScenarioData.repoRoot();
        Path live = repo.resolve("models/shipped/fraud/live/model.json");
        Path candidateA = repo.resolve("models/shipped/fraud/candidate/model.json");
        Path modelB = announcedCopy(candidateA, "fraud-mlp-b", null);

        List<LabelledRequest> events = withLabelsWithinTheHorizon(ScenarioData.fraud(3000));
        long t0 = events.get(0).request().getEventTime().toEpochMilli();
        long stopAt = t0 + 3 * HOUR + 789;
        long releaseA = Math.floorDiv(stopAt + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;

        createTopics(kafka);
        kafka.produce(List.of(control(ModelControlAction.RETIRE_CANDIDATE, "marker-a:1.0.0", null, t0)));
        String savepoint = runUntilSavepoint(config(live, candidateA), 0, events, stopAt, t0 + 2 * HOUR);

        JobClient second = start(config(live, modelB, "  effective_time: " + Instant.ofEpochMilli(stopAt)), savepoint);
        try {
            // The restored scoring operator settles the change itself, before it reads a request.
            produce(kafka, events, stopAt, Long.MAX_VALUE);
            Predicate<List<ComparisonReport>> pastRelease = rs -> rs.stream()
                    .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                            && r.getWindowEnd().toEpochMilli() > releaseA + WINDOW);
            List<ComparisonReport> cumulative = read("reports", ComparisonReport.class, pastRelease).stream()
                    .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .sorted(Comparator.comparing(ComparisonReport::getWindowEnd))
                    .toList();
            List<Verdict> verdicts = read("verdicts", Verdict.class, vs -> true);
            int[] liveDecision = decisions(live, events);
            int[] candidateDecision = decisions(candidateA, events);

            List<ComparisonReport> finalsOfA = cumulative.stream()
                    .filter(r -> r.getMetrics().containsKey("candidate_final[fraud-mlp:2.0.0]"))
                    .toList();
            assertEquals(1, finalsOfA.size(), "A's final report comes once");
            ComparisonReport finalOfA = finalsOfA.get(0);
            assertEquals(releaseA, finalOfA.getWindowEnd().toEpochMilli());
            assertEquals((double) stopAt, finalOfA.getMetrics().get("candidate_until[fraud-mlp:2.0.0]"));
            ComparisonReport last = cumulative.get(cumulative.size() - 1);
            long end = last.getWindowEnd().toEpochMilli();
            assertEquals((double) stopAt, last.getMetrics().get("candidate_from[fraud-mlp-b:2.0.0]"));

            long aScored = 0;
            long aFlips = 0;
            long aLabelled = 0;
            long bScored = 0;
            long bFlips = 0;
            long scored = 0;
            for (int i = 0; i < events.size(); i++) {
                LabelledRequest e = events.get(i);
                long t = e.request().getEventTime().toEpochMilli();
                boolean flip = liveDecision[i] != candidateDecision[i];
                if (t < stopAt) {
                    aScored++;
                    aFlips += flip ? 1 : 0;
                    aLabelled += e.labelled() ? 1 : 0;
                } else if (t < end) {
                    bScored++;
                    bFlips += flip ? 1 : 0;
                }
                scored += t < end ? 1 : 0;
            }
            assertTrue(aScored > 300 && bScored > 300 && aFlips > 0 && bFlips > 0, aScored + " / " + bScored);
            Disagreement a = disagreement(finalOfA, "fraud-mlp:2.0.0").orElseThrow();
            assertEquals(aScored, a.getCompared());
            assertEquals(aFlips, a.getFlips());
            assertEquals(
                    aLabelled,
                    quality(finalOfA, "fraud-mlp:2.0.0").orElseThrow().getLabelled());
            Disagreement b = disagreement(last, "fraud-mlp-b:2.0.0").orElseThrow();
            assertEquals(bScored, b.getCompared());
            assertEquals(bFlips, b.getFlips());
            assertEquals(scored, last.getCounts().getScored());
            // After its release A is in no report, and its final verdict came once, at the release.
            for (ComparisonReport r : cumulative) {
                long e = r.getWindowEnd().toEpochMilli();
                assertEquals(e <= releaseA, disagreement(r, "fraud-mlp:2.0.0").isPresent(), "A at " + e);
                assertEquals(e > stopAt, disagreement(r, "fraud-mlp-b:2.0.0").isPresent(), "B at " + e);
            }
            List<Verdict> finalVerdictsOfA = verdicts.stream()
                    .filter(v -> v.getCandidate().equals("fraud-mlp:2.0.0"))
                    .filter(v -> v.getReasons().stream().anyMatch(x -> x.startsWith("final")))
                    .toList();
            assertEquals(1, finalVerdictsOfA.size(), finalVerdictsOfA.toString());
            assertEquals(releaseA, finalVerdictsOfA.get(0).getDecidedAt().toEpochMilli());
        } finally {
            second.cancel().get();
        }
    }

    /**
     * SWITCH_LIVE to the YAML candidate, and back: each live generation is reported apart, with its own live
     * model, from the first window at or after its switch; the requests scored before a switch keep their
     * generation, so their late labels join the models that scored them and each generation's final report
     * (once, at its release) counts exactly its requests and their labels. Counts of no scored request (dead
     * letters) go to the generation live in their window.
     */
    @Test
    void aSwitchOfTheLiveModelAndBackReportsEachLiveGenerationApart() throws Exception {
        name = "control-switch";
        EmbeddedKafka kafka = KAFKA.kafka();
        Path repo = ScenarioData.repoRoot();
        Path live = repo.resolve("models/shipped/fraud/live/model.json");
        Path candidateA = repo.resolve("models/shipped/fraud/candidate/model.json");
        String liveId = "fraud-logreg:1.0.0";
        String aId = "fraud-mlp:2.0.0";

        List<LabelledRequest> events = withLabelsWithinTheHorizon(ScenarioData.fraud(3000));
        long t0 = events.get(0).request().getEventTime().toEpochMilli();
        // Announced mid-window: each switch takes effect at the next window start.
        long toA = Math.floorDiv(t0 + 2 * HOUR + 123, WINDOW) * WINDOW + WINDOW;
        long back = Math.floorDiv(t0 + 5 * HOUR + 456, WINDOW) * WINDOW + WINDOW;
        long releaseFirst = Math.floorDiv(toA + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;
        long releaseSecond = Math.floorDiv(back + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;
        long lastEvent = events.get(events.size() - 1).request().getEventTime().toEpochMilli();
        assertTrue(lastEvent > releaseSecond + 2 * WINDOW, "the requests run past the second release");

        createTopics(kafka);
        kafka.produce(List.of(
                control(ModelControlAction.SWITCH_LIVE, aId, null, t0 + 2 * HOUR + 123),
                control(ModelControlAction.SWITCH_LIVE, liveId, null, t0 + 5 * HOUR + 456),
                control(ModelControlAction.RETIRE_CANDIDATE, "marker:1.0.0", null, t0)));
        ShadowJobConfig cfg = config(live, candidateA);
        JobClient job = start(cfg, null);
        try {
            awaitDeadLetterAt(2);
            // Undecodable requests: two in the first generation's windows, three in the second's.
            long[] junkTimes = {t0 + HOUR, t0 + HOUR + 1, toA + 10, toA + HOUR, back - 60_000};
            produce(kafka, events, Long.MIN_VALUE, Long.MAX_VALUE, junkTimes);

            Predicate<List<ComparisonReport>> pastSecondRelease = rs -> rs.stream()
                    .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                            && generation(r) == 2
                            && r.getWindowEnd().toEpochMilli() > releaseSecond + WINDOW);
            List<ComparisonReport> reports = read("reports", ComparisonReport.class, pastSecondRelease);
            List<ComparisonReport> cumulative = reports.stream()
                    .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .sorted(Comparator.comparing(ComparisonReport::getWindowEnd))
                    .toList();
            List<Verdict> verdicts = read("verdicts", Verdict.class, vs -> true);

            int[] liveDecision = decisions(live, events);
            int[] aDecision = decisions(candidateA, events);
            long[][] expected = new long[3][5]; // per generation: requests, flips, labelled, live and A correct
            for (int i = 0; i < events.size(); i++) {
                long t = events.get(i).request().getEventTime().toEpochMilli();
                int g = t < toA ? 0 : t < back ? 1 : 2;
                if (g == 2) {
                    continue; // generation 2 is still running: checked on its latest report below
                }
                expected[g][0]++;
                expected[g][1] += liveDecision[i] != aDecision[i] ? 1 : 0;
                if (events.get(i).labelled()) {
                    int label = (int) events.get(i).label().getValue();
                    expected[g][2]++;
                    expected[g][3] += liveDecision[i] == label ? 1 : 0;
                    expected[g][4] += aDecision[i] == label ? 1 : 0;
                }
            }

            // Generations 0 and 1: one final report each, at the release, with all their requests and labels.
            String[] liveOf = {liveId, aId, liveId};
            String[] candidateOf = {aId, liveId, aId};
            long[] releases = {releaseFirst, releaseSecond};
            for (int g = 0; g < 2; g++) {
                int gen = g;
                List<ComparisonReport> finals = cumulative.stream()
                        .filter(r ->
                                generation(r) == gen && r.getMetrics().containsKey("live_final[" + liveOf[gen] + "]"))
                        .toList();
                assertEquals(1, finals.size(), "generation " + g + "'s final report comes once");
                ComparisonReport last = finals.get(0);
                assertEquals(releases[g], last.getWindowEnd().toEpochMilli());
                assertEquals(liveOf[g], last.getLiveModel());
                assertEquals((double) (g == 0 ? toA : back), last.getMetrics().get("live_until[" + liveOf[g] + "]"));
                assertEquals(expected[g][0], last.getCounts().getScored(), "generation " + g + " scored");
                assertEquals(expected[g][2], last.getCounts().getLabelled(), "generation " + g + " labelled");
                Disagreement d = disagreement(last, candidateOf[g]).orElseThrow();
                assertEquals(expected[g][0], d.getCompared(), "generation " + g + " compared");
                assertEquals(expected[g][1], d.getFlips(), "generation " + g + " flips");
                assertEquals(
                        expected[g][2],
                        quality(last, candidateOf[g]).orElseThrow().getLabelled());
                assertEquals(
                        expected[g][2], quality(last, liveOf[g]).orElseThrow().getLabelled());
                // Each model's own quality, whichever slot it stands in: the outputs moved with the roles.
                double liveAccuracy = (double) expected[g][g == 0 ? 3 : 4] / expected[g][2];
                double candidateAccuracy = (double) expected[g][g == 0 ? 4 : 3] / expected[g][2];
                assertTrue(liveAccuracy != candidateAccuracy, "the models differ in accuracy: " + liveAccuracy);
                assertEquals(
                        liveAccuracy,
                        quality(last, liveOf[g]).orElseThrow().getMetrics().get("accuracy"),
                        1e-12);
                assertEquals(
                        candidateAccuracy,
                        quality(last, candidateOf[g]).orElseThrow().getMetrics().get("accuracy"),
                        1e-12);
                // Nothing of the generation after its release; its final verdict once, saying why.
                assertTrue(cumulative.stream()
                        .filter(r -> generation(r) == gen)
                        .allMatch(r -> r.getWindowEnd().toEpochMilli() <= releases[gen]));
                List<Verdict> finalVerdicts = verdicts.stream()
                        .filter(v -> v.getCandidate().equals(candidateOf[gen])
                                && v.getDecidedAt().toEpochMilli() == releases[gen]
                                && v.getReasons().stream().anyMatch(x -> x.contains("was switched away from")))
                        .toList();
                assertEquals(1, finalVerdicts.size(), "generation " + g + ": " + verdicts);
            }
            // The generations after the first start at their switch and mark it.
            ComparisonReport firstOfSecond = cumulative.stream()
                    .filter(r -> generation(r) == 1)
                    .findFirst()
                    .orElseThrow();
            assertEquals(toA, firstOfSecond.getWindowStart().toEpochMilli());
            assertEquals(aId, firstOfSecond.getLiveModel());
            assertEquals((double) toA, firstOfSecond.getMetrics().get("live_from[" + aId + "]"));

            // Generation 2, live again the model the job started with, counts the requests from the switch back.
            ComparisonReport latest = cumulative.stream()
                    .filter(r -> generation(r) == 2)
                    .reduce((x, y) -> y)
                    .orElseThrow();
            assertEquals(liveId, latest.getLiveModel());
            long end = latest.getWindowEnd().toEpochMilli();
            long scored = 0;
            long flips = 0;
            for (int i = 0; i < events.size(); i++) {
                long t = events.get(i).request().getEventTime().toEpochMilli();
                if (t >= back && t < end) {
                    scored++;
                    flips += liveDecision[i] != aDecision[i] ? 1 : 0;
                }
            }
            assertEquals(scored, latest.getCounts().getScored());
            assertEquals(scored, disagreement(latest, aId).orElseThrow().getCompared());
            assertEquals(flips, disagreement(latest, aId).orElseThrow().getFlips());

            // Dead letters: in the window reports of the generation live in their window.
            long[] deadPerGeneration = new long[3];
            for (ComparisonReport r : reports) {
                if (r.getWindowKind() == WindowKind.TUMBLING) {
                    deadPerGeneration[generation(r)] += r.getCounts().getDeadLettered();
                }
            }
            assertEquals(2, deadPerGeneration[0]);
            assertEquals(3, deadPerGeneration[1]);
            assertEquals(0, deadPerGeneration[2]);
        } finally {
            job.cancel().get();
        }
    }

    private static int generation(ComparisonReport r) {
        return r.getMetrics().getOrDefault("live_generation", 0.0).intValue();
    }

    /** The job's topics, the control topic compacted as a deployment creates it. */
    private void createTopics(EmbeddedKafka kafka) {
        for (String t : List.of("requests", "labels", "reports", "verdicts", "dead-letters")) {
            // Requests and labels in as many partitions as source subtasks: no reader waits without a split.
            kafka.createTopic(topic(t), t.equals("requests") || t.equals("labels") ? 2 : 1);
        }
        kafka.createTopic(topic("control"), 1, Map.of("cleanup.policy", "compact"));
    }

    /** Waits for the control topic's record at {@code offset} to come back as a dead letter. */
    private void awaitDeadLetterAt(long offset) {
        List<DeadLetter> dead = read(
                "dead-letters",
                DeadLetter.class,
                ds -> ds.stream()
                        .anyMatch(d -> d.getSourceTopic().equals(topic("control")) && d.getOffset() == offset));
        assertTrue(
                dead.stream()
                        .anyMatch(d -> d.getOffset() == offset && d.getReason().contains("not an active candidate")),
                "no dead letter for the control record at offset " + offset + ": " + dead);
    }

    /** The reports and verdicts read back. */
    private record Outputs(List<ComparisonReport> cumulative, List<Verdict> verdicts) {}

    /**
     * B's life as the committed reports and verdicts tell it, against the models run here: B counts exactly
     * the requests of [addB, retireB), its final report and verdict come once, at its release, and it is in
     * no report before its start or after its release; the YAML candidate compares on every request.
     */
    private Outputs checkLifeOfB(
            List<LabelledRequest> events, Path live, Path candidateA, long addB, long retireB, long releaseB) {
        Predicate<List<ComparisonReport>> pastRelease = rs -> rs.stream()
                .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                        && r.getWindowEnd().toEpochMilli() > releaseB + WINDOW);
        List<ComparisonReport> cumulative = read("reports", ComparisonReport.class, pastRelease).stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .sorted(Comparator.comparing(ComparisonReport::getWindowEnd))
                .toList();
        assertTrue(pastRelease.test(cumulative), "no cumulative report after B's release");
        List<Verdict> verdicts = read("verdicts", Verdict.class, vs -> true);

        // Expected, from the models run here: decisions of live and of the candidate graph per request.
        int n = events.size();
        int[] liveDecision = decisions(live, events);
        int[] candidateDecision = decisions(candidateA, events);

        List<ComparisonReport> finals = cumulative.stream()
                .filter(r -> r.getMetrics().containsKey("candidate_final[fraud-mlp-b:2.0.0]"))
                .toList();
        assertEquals(
                1,
                finals.size(),
                () -> "B's final report comes once; release " + releaseB + ", cumulative reports (end: B's keys): "
                        + cumulative.stream()
                                .map(r -> r.getWindowEnd().toEpochMilli() + ": "
                                        + r.getMetrics().keySet().stream()
                                                .filter(k -> k.contains("fraud-mlp-b"))
                                                .toList()
                                        + " scored " + r.getCounts().getScored() + " labelled "
                                        + r.getCounts().getLabelled() + " unknown "
                                        + r.getCounts().getUnknownLabels())
                                .toList()
                        + "; dead letters "
                        + read("dead-letters", DeadLetter.class, ds -> true).stream()
                                .map(d -> d.getOffset() + " " + d.getReason())
                                .toList()
                        + "; verdicts of B "
                        + verdicts.stream()
                                .filter(v -> v.getCandidate().equals("fraud-mlp-b:2.0.0"))
                                .map(v -> v.getDecidedAt() + " " + v.getReasons())
                                .toList());
        ComparisonReport last = finals.get(0);
        assertEquals(releaseB, last.getWindowEnd().toEpochMilli());
        assertEquals((double) addB, last.getMetrics().get("candidate_from[fraud-mlp-b:2.0.0]"));
        assertEquals((double) retireB, last.getMetrics().get("candidate_until[fraud-mlp-b:2.0.0]"));

        long bScored = 0;
        long bFlips = 0;
        long bLabelled = 0;
        long aScored = 0;
        long aFlips = 0;
        long end = last.getWindowEnd().toEpochMilli();
        for (int i = 0; i < n; i++) {
            LabelledRequest e = events.get(i);
            long t = e.request().getEventTime().toEpochMilli();
            boolean flip = liveDecision[i] != candidateDecision[i];
            if (t >= addB && t < retireB) {
                bScored++;
                bFlips += flip ? 1 : 0;
                bLabelled += e.labelled() ? 1 : 0;
            }
            if (t < end) {
                aScored++;
                aFlips += flip ? 1 : 0;
            }
        }
        assertTrue(bScored > 500 && bFlips > 0, "B saw " + bScored + " requests, " + bFlips + " flips");
        Disagreement b = disagreement(last, "fraud-mlp-b:2.0.0").orElseThrow();
        assertEquals(bScored, b.getCompared());
        assertEquals(bFlips, b.getFlips());
        assertEquals(bLabelled, quality(last, "fraud-mlp-b:2.0.0").orElseThrow().getLabelled());
        // The YAML candidate and the live model compare on every request, as without B.
        Disagreement a = disagreement(last, "fraud-mlp:2.0.0").orElseThrow();
        assertEquals(aScored, a.getCompared());
        assertEquals(aFlips, a.getFlips());
        assertEquals(aScored, last.getCounts().getScored());
        assertEquals(0, quality(last, "fraud-logreg:1.0.0").orElseThrow().getErrors());

        // Before its start B is in no report; after its release, in none either: its state is gone.
        for (ComparisonReport r : cumulative) {
            boolean has = disagreement(r, "fraud-mlp-b:2.0.0").isPresent();
            long e = r.getWindowEnd().toEpochMilli();
            assertEquals(e > addB && e <= releaseB, has, "B in the report ending " + r.getWindowEnd());
        }
        List<Verdict> ofB = verdicts.stream()
                .filter(v -> v.getCandidate().equals("fraud-mlp-b:2.0.0"))
                .toList();
        List<Verdict> finalOfB = ofB.stream()
                .filter(v -> v.getReasons().stream().anyMatch(x -> x.startsWith("final")))
                .toList();
        assertEquals(1, finalOfB.size(), "one final verdict: " + ofB);
        assertEquals(releaseB, finalOfB.get(0).getDecidedAt().toEpochMilli());
        assertTrue(ofB.stream().allMatch(v -> v.getDecidedAt().toEpochMilli() <= releaseB));
        return new Outputs(cumulative, verdicts);
    }

    /**
     * Runs the job without state until its control record at {@code markerOffset} is dead-lettered (the
     * records before it applied), sends the requests and labels before {@code stopAt}, waits for a
     * cumulative report past {@code reportedPast} and stops the job with a savepoint, which it returns.
     */
    private String runUntilSavepoint(
            ShadowJobConfig cfg, long markerOffset, List<LabelledRequest> events, long stopAt, long reportedPast)
            throws Exception {
        JobClient job = start(cfg, null);
        try {
            awaitDeadLetterAt(markerOffset);
            produce(KAFKA.kafka(), events, Long.MIN_VALUE, stopAt);
            read(
                    "reports",
                    ComparisonReport.class,
                    rs -> rs.stream()
                            .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                                    && r.getWindowEnd().toEpochMilli() > reportedPast));
            return job.stopWithSavepoint(
                            false, tmp.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                    .get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            job.cancel().get();
            throw e;
        }
    }

    /** The whole job with its control topic, from {@code savepoint} if not null. */
    private static JobClient start(ShadowJobConfig cfg, String savepoint) throws Exception {
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        ShadowJob.enableCheckpointing(env, cfg);
        new ShadowJob(cfg, KafkaIO.requestSource(cfg, false), KafkaIO.labelSource(cfg, false), KafkaIO.sinks(cfg))
                .withControlSource(KafkaIO.controlSource(cfg, false))
                .build(env);
        return env.executeAsync("model-control");
    }

    private ShadowJobConfig config(Path live, Path candidate) throws Exception {
        return config(live, candidate, null);
    }

    /** The job's config; {@code modelsLine}, if not null, one more line of its models section. */
    private ShadowJobConfig config(Path live, Path candidate, String modelsLine) throws Exception {
        String yaml = String.join(
                "\n",
                "experiment_id: " + name,
                "kafka:",
                "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                "  group_id: " + name,
                "topics:",
                "  requests: " + topic("requests"),
                "  labels: " + topic("labels"),
                "  reports: " + topic("reports"),
                "  verdicts: " + topic("verdicts"),
                "  dead_letter: " + topic("dead-letters"),
                "  control: " + topic("control"),
                "models:",
                "  live: " + live,
                "  candidates: [" + candidate + "]",
                "  candidate_slots: 2",
                modelsLine == null ? "" : modelsLine,
                "label_horizon: 2h",
                "report_window: 30m",
                // Every source subtask reads a partition that gets records while a test reads its reports, so
                // no idleness is needed; a short one would let a label source that starts a little after the
                // requests (a busy machine) be passed by the watermark, its labels then unknown.
                "event_time: {max_out_of_orderness: 1m, idleness: 5m}",
                "checkpoint_interval: 1s",
                "");
        Path file = tmp.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return ShadowJobConfig.load(file);
    }

    /** The descriptor {@code of}, renamed, beside a copy of its model in a folder of its own. */
    private Path announcedCopy(Path of, String name, String sha256) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve(name));
        Files.copy(of.resolveSibling("model.onnx"), folder.resolve("model.onnx"));
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(of.toFile());
        json.put("name", name);
        if (sha256 != null) {
            json.put("sha256", sha256);
        }
        Path file = folder.resolve("model.json");
        Files.writeString(file, json.toPrettyString());
        return file;
    }

    private ProducerRecord<byte[], byte[]> control(
            ModelControlAction action, String id, Path descriptor, long effective) throws Exception {
        ModelControl c = ModelControl.newBuilder()
                .setExperimentId(name)
                .setAction(action)
                .setModelId(id)
                .setDescriptor(descriptor == null ? null : Files.readString(descriptor))
                .setDescriptorFile(descriptor == null ? null : descriptor.toString())
                .setEffectiveTime(Instant.ofEpochMilli(effective))
                .setIssuedAt(Instant.now())
                .build();
        return new ProducerRecord<>(
                topic("control"),
                null,
                System.currentTimeMillis(),
                id.getBytes(StandardCharsets.UTF_8),
                AvroCodec.encode(c));
    }

    /** The scenario with each label moved to within 90 minutes of its request, inside the 2 h horizon. */
    private static List<LabelledRequest> withLabelsWithinTheHorizon(List<LabelledRequest> events) {
        List<LabelledRequest> out = new ArrayList<>();
        for (LabelledRequest e : events) {
            Label l = e.label();
            if (l != null) {
                long t = e.request().getEventTime().toEpochMilli();
                long delay = (l.getLabelTime().toEpochMilli() - t) % (90 * 60_000L);
                l = Label.newBuilder(l)
                        .setLabelTime(Instant.ofEpochMilli(t + delay))
                        .build();
            }
            out.add(new LabelledRequest(e.request(), l));
        }
        return out;
    }

    private void produce(EmbeddedKafka kafka, List<LabelledRequest> events) {
        produce(kafka, events, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** The requests with event time in [from, until) and the labels with label time in it. */
    private void produce(EmbeddedKafka kafka, List<LabelledRequest> events, long from, long until) {
        produce(kafka, events, from, until, new long[0]);
    }

    /** As above, with an undecodable request at each of {@code junkTimes}, in event-time order with the others. */
    private void produce(EmbeddedKafka kafka, List<LabelledRequest> events, long from, long until, long[] junkTimes) {
        List<ProducerRecord<byte[], byte[]>> requests = new ArrayList<>();
        for (long t : junkTimes) {
            requests.add(new ProducerRecord<>(topic("requests"), null, t, null, new byte[] {1, 2, 3}));
        }
        List<ProducerRecord<byte[], byte[]>> labels = new ArrayList<>();
        for (LabelledRequest e : events) {
            Request r = e.request();
            byte[] key = r.getRequestId().getBytes(StandardCharsets.UTF_8);
            long t = r.getEventTime().toEpochMilli();
            if (t >= from && t < until) {
                requests.add(new ProducerRecord<>(topic("requests"), null, t, key, AvroCodec.encode(r)));
            }
            long labelTime = e.labelled() ? e.label().getLabelTime().toEpochMilli() : Long.MIN_VALUE;
            if (e.labelled() && labelTime >= from && labelTime < until) {
                labels.add(new ProducerRecord<>(
                        topic("labels"),
                        null,
                        e.label().getLabelTime().toEpochMilli(),
                        key,
                        AvroCodec.encode(e.label())));
            }
        }
        labels.sort(Comparator.comparingLong(ProducerRecord::timestamp));
        requests.sort(Comparator.comparingLong(ProducerRecord::timestamp));
        kafka.produce(requests);
        kafka.produce(labels);
    }

    /** Each request's decision by the model of {@code descriptor}, scored here one request at a time. */
    private static int[] decisions(Path descriptor, List<LabelledRequest> events) {
        ModelDescriptor d = ModelDescriptor.load(descriptor);
        int[] out = new int[events.size()];
        try (OnnxModel model = OnnxModel.load(d, ModelOptions.defaults())) {
            InputBatch batch = model.newInputBatch();
            for (int i = 0; i < events.size(); i++) {
                batch.clear();
                Map<String, Double> f = events.get(i).request().getFeatures();
                List<String> names = d.featureNames();
                for (int j = 0; j < names.size(); j++) {
                    batch.set(j, f.get(names.get(j)).floatValue());
                }
                batch.endRow();
                PredictionBatch p = model.score(batch);
                out[i] = p.score(0) >= (float) d.threshold() ? 1 : 0;
            }
        }
        return out;
    }

    private static Optional<Disagreement> disagreement(ComparisonReport r, String candidate) {
        return r.getDisagreement().stream()
                .filter(x -> x.getCandidate().equals(candidate))
                .findFirst();
    }

    private static Optional<ModelQuality> quality(ComparisonReport r, String model) {
        return r.getQuality().stream().filter(x -> x.getModel().equals(model)).findFirst();
    }

    private <T extends SpecificRecord> List<T> read(String kind, Class<T> type, Predicate<List<T>> complete) {
        return KAFKA.kafka()
                .readAllUntil(
                        topic(kind), true, r -> AvroCodec.decode(r.value(), type), complete, Duration.ofSeconds(180));
    }

    private String topic(String kind) {
        return name + "-" + kind;
    }
}
