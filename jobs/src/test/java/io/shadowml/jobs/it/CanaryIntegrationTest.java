package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.ArmReport;
import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Decision;
import io.shadowml.avro.Request;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.scoring.ReferenceScores;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.OnnxModel;

/**
 * Canary / A-B analysis through a real broker and the whole job (jobs/METRICS.md, "Canary and A/B"):
 * every per-arm figure against a brute-force computation over the records sent, with each request's
 * model outputs computed here by running the shipped models one request at a time.
 */
class CanaryIntegrationTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    static final long HORIZON = 14 * 86_400_000L;
    static final double EPS = Math.ulp(1.0f);
    static final String CANDIDATE = "fraud-mlp:2.0.0";

    static OnnxModel live;
    static OnnxModel candidate;

    @TempDir
    Path tmp;

    @BeforeAll
    static void loadModels() throws Exception {
        Path shipped = ScenarioData.repoRoot().resolve("models/shipped/fraud");
        live = OnnxModel.load(ModelDescriptor.load(shipped.resolve("live/model.json")));
        candidate = OnnxModel.load(ModelDescriptor.load(shipped.resolve("candidate/model.json")));
    }

    @AfterAll
    static void closeModels() {
        live.close();
        candidate.close();
    }

    private JobRun run(String name, String extraConfig) {
        return new JobRun(KAFKA.kafka(), tmp, name, extraConfig, r -> AvroCodec.encode(r), l -> AvroCodec.encode(l));
    }

    /** 0..999 from the id: the tests' own split, independent of the job's hashing. */
    private static int bucket(String id) {
        return Math.floorMod(id.hashCode() * 31 + 7, 1000);
    }

    /**
     * A 90/10 canary split by entity, except that the entities in bucket 0..19 flip between the arms
     * request by request (sticky assignment broken), and every 97th request names an arm nobody
     * configured. Each request logs the score of the model that served it; every 50th logs a score
     * moved by 0.4 (a canary whose served model is not the shadowed one, on those requests).
     */
    @Test
    void armMetricsEqualABruteForceComputationOnTheInput() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(3000);
        Map<String, Integer> seenPerEntity = new HashMap<>();
        List<LabelledRequest> served = new ArrayList<>();
        int i = 0;
        for (LabelledRequest e : events) {
            Request r = e.request();
            String entity = r.getEntityId();
            int b = bucket(entity);
            String arm;
            if (i % 97 == 0) {
                arm = "shadow-only";
            } else if (b < 20) {
                arm = seenPerEntity.merge(entity, 1, Integer::sum) % 2 == 0 ? "canary" : "prod";
            } else {
                arm = b < 120 ? "canary" : "prod";
            }
            r.setServedBy(arm);
            OnnxModel model = arm.equals("canary") ? candidate : live;
            double logged = score(model, r);
            if (i % 50 == 0) {
                logged = logged < 0.6 ? logged + 0.4 : logged - 0.4;
            }
            r.setProductionScore(logged);
            served.add(e);
            i++;
        }

        // Brute force, per arm.
        Map<String, long[]> counts = new HashMap<>(); // scored, labelled, correct, parity flips, businessCount
        Map<String, double[]> sums = new HashMap<>(); // loss, business, max |parity diff|
        Map<String, Set<String>> armsOfEntity = new HashMap<>();
        long unmapped = 0;
        for (LabelledRequest e : served) {
            Request r = e.request();
            String arm = r.getServedBy();
            if (arm.equals("shadow-only")) {
                unmapped++;
                continue;
            }
            armsOfEntity.computeIfAbsent(r.getEntityId(), k -> new HashSet<>()).add(arm);
            long[] c = counts.computeIfAbsent(arm, k -> new long[5]);
            double[] s = sums.computeIfAbsent(arm, k -> new double[3]);
            double p = score(arm.equals("canary") ? candidate : live, r);
            c[0]++;
            boolean flipped = (p >= 0.5f) != (r.getProductionScore().floatValue() >= 0.5f);
            c[3] += flipped ? 1 : 0;
            s[2] = Math.max(s[2], Math.abs(r.getProductionScore().floatValue() - p));
            long t = r.getEventTime().toEpochMilli();
            if (e.labelled() && e.label().getLabelTime().toEpochMilli() <= t + HORIZON) {
                int y = (int) e.label().getValue();
                int decision = (float) p >= 0.5f ? 1 : 0;
                c[1]++;
                c[2] += decision == y ? 1 : 0;
                double q = Math.min(Math.max(p, EPS), 1 - EPS);
                s[0] += y == 1 ? -Math.log(q) : -Math.log(1 - q);
                c[4]++;
                s[1] += y == 1 && decision == 0 ? r.getFeatures().get("amount") : 0.0;
            }
        }
        long entities = armsOfEntity.size();
        long multiArm = armsOfEntity.values().stream().filter(s -> s.size() > 1).count();
        assertTrue(multiArm > 5, "the test breaks stickiness for some entities: " + multiArm);

        JobRun run = run(
                "canary",
                String.join(
                        "\n",
                        "canary:",
                        "  arms: {prod: live, canary: \"" + CANDIDATE + "\"}",
                        "  expected_split: {prod: 90, canary: 10}",
                        "  min_labelled: 50",
                        "  srm_unit: entity",
                        "  business_metric: {name: fraud_loss, feature: amount, when: missed_positive}"));
        run.produce(served, List.of(), List.of());
        run.execute();
        ComparisonReport last = run.finalReport(served.size());

        assertEquals(2, last.getArms().size());
        long total = counts.get("prod")[0] + counts.get("canary")[0];
        for (ArmReport a : last.getArms()) {
            String arm = a.getArm();
            long[] c = counts.get(arm);
            double[] s = sums.get(arm);
            assertEquals(arm.equals("prod"), a.getControl(), arm);
            assertEquals(arm.equals("prod") ? "fraud-logreg:1.0.0" : CANDIDATE, a.getModel());
            assertEquals(c[0], a.getScored(), arm + " scored");
            assertEquals((double) c[0] / total, a.getShare(), 1e-12, arm + " share");
            assertEquals(arm.equals("prod") ? 0.9 : 0.1, a.getExpectedShare(), 1e-12);
            assertEquals(c[1], a.getLabelled(), arm + " labelled");
            assertEquals(c[1], a.getMaturedLabelled(), arm + ": at the end every outcome has matured");
            assertEquals((double) c[2] / c[1], a.getMetrics().get("accuracy"), 1e-12, arm + " accuracy");
            assertEquals(s[0] / c[1], a.getMetrics().get("mean_loss"), 1e-6, arm + " mean loss");
            assertEquals(s[1] / c[4], a.getMetrics().get("fraud_loss"), 1e-6, arm + " fraud loss");
            assertEquals(0.0, a.getMetrics().get("error_rate"));
            assertNotNull(a.getParity(), arm + " parity");
            assertEquals(c[0], a.getParity().getCompared(), arm + " parity compared");
            assertEquals(c[3], a.getParity().getFlips(), arm + " parity flips");
            assertEquals(s[2], a.getParity().getAbsDiffMax(), 1e-6, arm + " parity max |diff|");
        }
        assertEquals(unmapped, last.getMetrics().get("served_by_unmapped"));
        assertEquals(entities, last.getStickyAssignment().getEntities());
        assertEquals(multiArm, last.getStickyAssignment().getMultiArmEntities());
        assertEquals((double) multiArm / entities, last.getStickyAssignment().getRate(), 1e-12);
        // Assigned by entity, so the sample ratio test counts entities (srm_unit: entity): each once, by the
        // arm that served it first (for the flip-flopping ones, whichever request the job saw first).
        assertFalse(last.getSampleRatio().getMismatch(), "a 90/10 split configured as 90/10");
        assertEquals("entity", last.getSampleRatio().getUnit());
        assertEquals(entities, last.getSampleRatio().getRequests());
        long canaryOnly = armsOfEntity.values().stream()
                .filter(s -> s.equals(Set.of("canary")))
                .count();
        long canaryEntities = last.getArms().stream()
                .filter(a -> a.getArm().equals("canary"))
                .findFirst()
                .orElseThrow()
                .getEntities();
        assertTrue(canaryOnly <= canaryEntities && canaryEntities <= canaryOnly + multiArm, "canary entities");
        assertEquals(
                entities,
                last.getArms().get(0).getEntities() + last.getArms().get(1).getEntities());
        // The live model's own parity only counts the requests it served.
        assertEquals(counts.get("prod")[0], last.getParity().getCompared());

        // The canary verdict: the quality test's estimate is the accuracy difference, arm minus control.
        ArmReport canaryArm = last.getArms().stream()
                .filter(a -> a.getArm().equals("canary"))
                .findFirst()
                .orElseThrow();
        TestResult quality = canaryArm.getTests().get(0);
        assertEquals("accuracy", quality.getMetric());
        double expected = (double) counts.get("canary")[2] / counts.get("canary")[1]
                - (double) counts.get("prod")[2] / counts.get("prod")[1];
        assertEquals(expected, quality.getEstimate(), 1e-12);
        assertTrue(quality.getLow() <= expected && expected <= quality.getHigh());
        List<Verdict> verdicts = run.readCommitted(
                "verdicts", Verdict.class, vs -> vs.stream().anyMatch(v -> "canary".equals(v.getArm())));
        Verdict canaryVerdict = verdicts.stream()
                .filter(v -> "canary".equals(v.getArm()))
                .reduce((a, b) -> b)
                .orElseThrow();
        System.out.printf(
                "canary: shares %s, SRM e-value %.3g, sticky %d of %d entities, verdict %s %s%n",
                last.getArms().stream()
                        .map(a -> a.getArm() + "=" + a.getShare())
                        .toList(),
                last.getSampleRatio().getEValue(),
                multiArm,
                entities,
                canaryVerdict.getDecision(),
                canaryVerdict.getReasons());
        assertEquals(CANDIDATE, canaryVerdict.getCandidate());
        assertTrue(
                canaryVerdict.getDecision() == Decision.PROCEED
                        || canaryVerdict.getDecision() == Decision.CONTINUE
                        || canaryVerdict.getDecision() == Decision.ROLLBACK,
                canaryVerdict.toString());
        assertTrue(
                canaryVerdict.getReasons().stream().noneMatch(r -> r.contains("sample ratio mismatch")),
                canaryVerdict.getReasons().toString());
        // The shadow verdict of the same candidate is a record of its own.
        assertTrue(verdicts.stream()
                .anyMatch(v -> v.getArm() == null && v.getCandidate().equals(CANDIDATE)));
    }

    /**
     * 20,000 requests configured 50/50 but served 48/52: the sample ratio mismatch is detected and the
     * canary is rolled back for it.
     */
    @Test
    void aSampleRatioMismatchRollsTheCanaryBack() throws Exception {
        List<LabelledRequest> events = new ArrayList<>();
        long canary = 0;
        for (LabelledRequest e : ScenarioData.fraud(20_000)) {
            Request r = e.request();
            boolean toCanary = bucket(r.getRequestId()) < 480;
            canary += toCanary ? 1 : 0;
            r.setServedBy(toCanary ? "canary" : "prod");
            events.add(new LabelledRequest(r, null));
        }
        double share = canary / 20_000.0;
        assertTrue(share > 0.47 && share < 0.49, "a 48/52 split: " + share);
        JobRun run = run(
                "srm",
                String.join(
                        "\n",
                        "canary:",
                        "  arms: {prod: live, canary: \"" + CANDIDATE + "\"}",
                        "  expected_split: {prod: 1, canary: 1}"));
        run.produce(events, List.of(), List.of());
        run.execute();
        ComparisonReport last = run.finalReport(events.size());
        assertEquals(events.size(), last.getSampleRatio().getRequests());
        assertTrue(last.getSampleRatio().getMismatch(), last.getSampleRatio().toString());
        assertTrue(
                last.getSampleRatio().getEValue() >= 1 / last.getSampleRatio().getAlpha());
        Verdict v = run
                .readCommitted(
                        "verdicts",
                        Verdict.class,
                        vs -> vs.stream()
                                .anyMatch(x -> "canary".equals(x.getArm()) && x.getDecision() == Decision.ROLLBACK))
                .stream()
                .filter(x -> "canary".equals(x.getArm()))
                .reduce((a, b) -> b)
                .orElseThrow();
        System.out.printf(
                "SRM at 48/52 over %d requests: e-value %.3g (threshold %.0f), first decided %s%n",
                events.size(),
                last.getSampleRatio().getEValue(),
                1 / last.getSampleRatio().getAlpha(),
                v.getFirstDecidedAt());
        assertEquals(Decision.ROLLBACK, v.getDecision());
        assertTrue(
                v.getReasons().get(0).contains("sample ratio mismatch"),
                v.getReasons().toString());
    }

    private static float score(OnnxModel model, Request r) {
        return ReferenceScores.score(model, r);
    }
}
