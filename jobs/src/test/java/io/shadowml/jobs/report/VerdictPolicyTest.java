package io.shadowml.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.Decision;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.config.VerdictMetric;
import io.shadowml.jobs.config.VerdictPolicyConfig;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.PairedComparisonAccumulator;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.metrics.TestLayouts;
import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.stats.AsymptoticConfidenceSequence;

/** Every decision path of {@link VerdictPolicy}, on evidence built by hand. */
class VerdictPolicyTest {
    private static final double ALPHA = 0.05;

    private static VerdictPolicyConfig config(VerdictMetric primary, Map<VerdictMetric, Double> guardrails) {
        return new VerdictPolicyConfig(500, ALPHA, 0.01, 10_000, primary, guardrails);
    }

    private static VerdictPolicy policy() {
        return new VerdictPolicy(config(VerdictMetric.LOG_LOSS, Map.of()), 1);
    }

    /** n binary pairs, half of each class, with loss differences alternating mean ± spread. */
    private static PairedComparisonAccumulator lossPairs(int n, double mean, double spread) {
        PairedComparisonAccumulator p = new PairedComparisonAccumulator(2);
        for (int i = 0; i < n; i++) {
            double d = i % 2 == 0 ? mean + spread : mean - spread;
            p.add(i % 4 < 2 ? 1 : 0, true, true, 1.0, 1.0 + d);
        }
        return p;
    }

    private static VerdictPolicy.Evidence evidence(PairedComparisonAccumulator p) {
        return new VerdictPolicy.Evidence(Task.BINARY, p, 0, p.count(), null, 1);
    }

    private static TestResult test(VerdictPolicy.Assessment a, String test, String metric) {
        return a.tests().stream()
                .filter(t -> t.getTest().equals(test) && t.getMetric().equals(metric))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no test " + test + "/" + metric + " in " + a.tests()));
    }

    @Test
    void belowTheMinimumOfPairsNothingIsDecided() {
        VerdictPolicy.Assessment a = policy().assess(evidence(lossPairs(400, -0.5, 0.1)), null, 0, Double.NaN);
        assertEquals(Decision.CONTINUE, a.decision());
        assertTrue(
                a.reasons().get(0).contains("400 labelled pairs, 500 needed"),
                a.reasons().toString());
        assertEquals(100, a.pairsNeeded(), "at least the missing pairs");
    }

    @Test
    void aClearlyLowerLossPromotesWithTheIntervalAtHalfTheAlpha() {
        int n = 4000;
        PairedComparisonAccumulator p = lossPairs(n, -0.05, 0.5);
        VerdictPolicy.Assessment a = policy().assess(evidence(p), null, 0, Double.NaN);
        assertEquals(Decision.PROMOTE, a.decision(), a.reasons().toString());
        // The primary interval: mean ± sd·radius of the normal-mixture boundary at alpha/2, by hand.
        double sd = Math.sqrt(0.25 * n / (n - 1));
        double rho2 = AsymptoticConfidenceSequence.optimalRhoSquared(10_000, ALPHA / 2);
        double x = n * rho2 + 1;
        double radius = sd * Math.sqrt(2 * x / ((double) n * n * rho2) * Math.log(Math.sqrt(x) / (ALPHA / 2)));
        assertEquals(-0.05 - radius, a.primary().getLow(), 1e-9);
        assertEquals(-0.05 + radius, a.primary().getHigh(), 1e-9);
        assertEquals(radius, a.minDetectableEffect(), 1e-9);
        assertEquals(TestOutcome.CANDIDATE_BETTER, a.primary().getOutcome());
        assertEquals(0, a.pairsNeeded(), "decided");
        assertTrue(
                a.reasons().get(0).startsWith("candidate significantly better: log_loss"),
                a.reasons().get(0));
    }

    @Test
    void aClearlyHigherLossRejects() {
        VerdictPolicy.Assessment a = policy().assess(evidence(lossPairs(4000, 0.05, 0.5)), null, 0, Double.NaN);
        assertEquals(Decision.REJECT, a.decision());
        assertEquals(TestOutcome.CANDIDATE_WORSE, a.primary().getOutcome());
        assertTrue(
                a.reasons().get(0).startsWith("candidate significantly worse"),
                a.reasons().toString());
    }

    @Test
    void anInconclusiveDifferenceContinuesAndSaysHowManyPairsAreNeeded() {
        int n = 1000;
        VerdictPolicy policy = policy();
        VerdictPolicy.Assessment a = policy.assess(evidence(lossPairs(n, -0.05, 0.5)), null, 0, 100.0);
        assertEquals(Decision.CONTINUE, a.decision());
        long needed = a.pairsNeeded();
        assertTrue(needed > 0, "needed " + needed);
        assertEquals(needed / 100.0, a.hoursNeeded(), 1e-9, "at the observed 100 pairs an hour");
        // With the same mean and spread, a little more than the estimate decides, a little less does not.
        long enough = (long) Math.ceil((n + needed) * 1.01);
        long short_ = (long) Math.floor((n + needed) * 0.97);
        assertEquals(
                Decision.PROMOTE,
                policy.assess(evidence(lossPairs((int) enough, -0.05, 0.5)), null, 0, Double.NaN)
                        .decision());
        assertEquals(
                Decision.CONTINUE,
                policy.assess(evidence(lossPairs((int) short_, -0.05, 0.5)), null, 0, Double.NaN)
                        .decision());
    }

    @Test
    void mcnemarRejectsWhenTheLiveModelIsRightMoreOftenEvenIfTheLossIsInconclusive() {
        PairedComparisonAccumulator p = new PairedComparisonAccumulator(2);
        // b = 150 live-only, c = 50 candidate-only; loss differences +1 and −3 cancel: mean 0.
        for (int i = 0; i < 150; i++) p.add(1, true, false, 0.5, 1.5);
        for (int i = 0; i < 50; i++) p.add(1, false, true, 3.5, 0.5);
        for (int i = 0; i < 800; i++) p.add(0, true, true, 0.2, 0.2);
        VerdictPolicy.Assessment a = policy().assess(evidence(p), null, 0, Double.NaN);
        assertEquals(TestOutcome.INCONCLUSIVE, a.primary().getOutcome(), "loss mean is 0");
        assertEquals(Decision.REJECT, a.decision());
        TestResult mcnemar = test(a, "mcnemar", "accuracy");
        assertEquals(TestOutcome.CANDIDATE_WORSE, mcnemar.getOutcome());
        // The Beta(a, a) mixture e-value by hand: B(a + c, a + b) / B(a, a) · 2^(b + c).
        double conc = io.shadowml.stats.SequentialSignTest.concentrationFor(1000, ALPHA / 2 / 2);
        double logE = org.apache.commons.math3.special.Beta.logBeta(conc + 50, conc + 150)
                - org.apache.commons.math3.special.Beta.logBeta(conc, conc)
                + 200 * Math.log(2);
        assertEquals(Math.exp(logE), mcnemar.getEValue(), 1e-6 * Math.exp(logE));
        assertTrue(
                a.reasons().get(0).startsWith("McNemar: live right on 150"),
                a.reasons().toString());
    }

    @Test
    void theErrorRateRejectsOnEvidenceNotOnTheFirstFailure() {
        VerdictPolicy policy = policy();
        PairedComparisonAccumulator none = new PairedComparisonAccumulator(2);
        // 1 failure in 10 requests: the observed rate 0.1 exceeds 0.01, but 10 requests show nothing.
        VerdictPolicy.Assessment early =
                policy.assess(new VerdictPolicy.Evidence(Task.BINARY, none, 1, 10, null, 1), null, 0, Double.NaN);
        assertEquals(Decision.CONTINUE, early.decision());
        assertEquals(
                TestOutcome.INCONCLUSIVE,
                test(early, "error_rate", "error_rate").getOutcome());
        // 100 failures in 1000: a 10% rate is shown to exceed 1%, before any labelled pair.
        VerdictPolicy.Assessment shown =
                policy.assess(new VerdictPolicy.Evidence(Task.BINARY, none, 100, 1000, null, 1), null, 0, Double.NaN);
        assertEquals(Decision.REJECT, shown.decision());
        TestResult rate = test(shown, "error_rate", "error_rate");
        assertEquals(TestOutcome.VIOLATED, rate.getOutcome());
        assertTrue(rate.getLow() > 0.01 && rate.getLow() < 0.1, "lower bound " + rate.getLow());
        assertTrue(
                shown.reasons().get(0).startsWith("error rate 0.1000"),
                shown.reasons().toString());
    }

    /** Fraud-like: the candidate's loss is lower, yet it misses far more of the positives. */
    @Test
    void aRecallGuardrailRejectsNamingTheMetric() {
        EnumMap<VerdictMetric, Double> g = new EnumMap<>(VerdictMetric.class);
        g.put(VerdictMetric.RECALL, 0.02);
        VerdictPolicy policy = new VerdictPolicy(config(VerdictMetric.LOG_LOSS, g), 1);
        PairedComparisonAccumulator p = new PairedComparisonAccumulator(2);
        for (int i = 0; i < 600; i++) p.add(1, true, true, 0.3, 0.2);
        for (int i = 0; i < 300; i++) p.add(1, true, false, 0.3, 0.8); // live-only on positives
        for (int i = 0; i < 100; i++) p.add(1, false, false, 1.0, 1.0);
        for (int i = 0; i < 20_000; i++) p.add(0, true, true, 0.1, 0.05);
        VerdictPolicy.Assessment a = policy.assess(evidence(p), null, 0, Double.NaN);
        TestResult recall = test(a, "guardrail", "recall");
        assertEquals(-0.3, recall.getEstimate(), 1e-12, "candidate recall 0.6 vs live 0.9");
        assertEquals(1000, recall.getPairs(), "tested on the positives");
        assertEquals(TestOutcome.VIOLATED, recall.getOutcome());
        assertEquals(Decision.REJECT, a.decision());
        assertTrue(
                a.reasons().stream().anyMatch(r -> r.startsWith("guardrail violated: recall")),
                a.reasons().toString());
    }

    @Test
    void aGuardrailWithoutEnoughPairsBlocksPromotion() {
        EnumMap<VerdictMetric, Double> g = new EnumMap<>(VerdictMetric.class);
        g.put(VerdictMetric.RECALL, 0.02);
        VerdictPolicy policy = new VerdictPolicy(config(VerdictMetric.LOG_LOSS, g), 1);
        PairedComparisonAccumulator p = new PairedComparisonAccumulator(2);
        for (int i = 0; i < 50; i++) p.add(1, true, true, 0.3, 0.1);
        for (int i = 0; i < 5000; i++) p.add(0, true, true, i % 2 == 0 ? 0.6 : 0.2, i % 2 == 0 ? 0.45 : 0.05);
        VerdictPolicy.Assessment a = policy.assess(evidence(p), null, 0, Double.NaN);
        assertEquals(TestOutcome.CANDIDATE_BETTER, a.primary().getOutcome());
        assertEquals(Decision.CONTINUE, a.decision());
        assertTrue(
                a.reasons().contains("guardrail recall: 50 pairs, 500 needed before a promotion"),
                a.reasons().toString());
    }

    @Test
    void precisionIsComparedOnTheDecisionsTheCountsImply() {
        PairedComparisonAccumulator p = new PairedComparisonAccumulator(2);
        // Positives: live right 80 of 100, candidate right 90. Negatives: live wrongly positive on 20 of
        // 900, the candidate on 60 (all independent cells listed).
        add(p, 1, true, true, 75);
        add(p, 1, true, false, 5);
        add(p, 1, false, true, 15);
        add(p, 1, false, false, 5);
        add(p, 0, true, true, 830); // both negative
        add(p, 0, true, false, 50); // candidate false positive only
        add(p, 0, false, true, 10); // live false positive only
        add(p, 0, false, false, 10); // both false positive
        // By hand: live TP 80, predicted positive 80 + 20 → 0.8; candidate TP 90, 90 + 60 → 0.6.
        assertEquals(
                0.6 - 0.8, VerdictPolicy.estimate(VerdictMetric.PRECISION, p).mean(), 1e-12);
        assertEquals(0.1, VerdictPolicy.estimate(VerdictMetric.RECALL, p).mean(), 1e-12);
        assertEquals(
                (15 + 10 - 5 - 50) / 1000.0,
                VerdictPolicy.estimate(VerdictMetric.ACCURACY, p).mean(),
                1e-12);
    }

    private static void add(PairedComparisonAccumulator p, int y, boolean lc, boolean cc, int times) {
        for (int i = 0; i < times; i++) p.add(y, lc, cc, 0.5, 0.5);
    }

    @Test
    void aSegmentWhereTheCandidateIsWorseIsNamedAndRejectsOnlyAsAGuardrail() {
        ModelLayout layout = TestLayouts.binary(0.5, 0.5);
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, new SegmentSpec(List.of("region")));
        for (int i = 0; i < 3000; i++) {
            // EU: live right, candidate wrong on 1 in 5; NA: the other way round, on 2 in 5.
            boolean eu = i % 2 == 0;
            int k = i / 2 % 5;
            boolean liveRight = eu || k >= 2;
            boolean candidateRight = !eu || k >= 1;
            float live = liveRight ? 0.9f : 0.1f;
            float cand = candidateRight ? 0.9f : 0.1f;
            MetricEvent e = MetricEvent.labelled(
                    "r" + i, 0, new float[] {live, cand}, 0, 1, 0, new String[] {eu ? "EU" : "NA"});
            acc.add(e, layout);
            acc.addMatured(e, layout); // the verdict reads the matured evidence
        }
        VerdictPolicy plain = new VerdictPolicy(config(VerdictMetric.ACCURACY, Map.of()), 1);
        VerdictPolicy.Assessment a = plain.assess(VerdictPolicy.Evidence.of(acc, 1), null, 0, Double.NaN);
        TestResult eu = a.tests().stream()
                .filter(t -> "region=EU".equals(t.getSegment()))
                .findFirst()
                .orElseThrow();
        assertEquals(-0.2, eu.getEstimate(), 1e-12);
        assertEquals(1500, eu.getPairs());
        assertEquals(TestOutcome.CANDIDATE_WORSE, eu.getOutcome(), "named");
        assertEquals(Decision.PROMOTE, a.decision(), "overall better (+0.1), and segments are not a guardrail");

        EnumMap<VerdictMetric, Double> g = new EnumMap<>(VerdictMetric.class);
        g.put(VerdictMetric.SEGMENT_ACCURACY, 0.05);
        VerdictPolicy guarded = new VerdictPolicy(config(VerdictMetric.ACCURACY, g), 1);
        VerdictPolicy.Assessment b = guarded.assess(VerdictPolicy.Evidence.of(acc, 1), null, 0, Double.NaN);
        assertEquals(Decision.REJECT, b.decision());
        assertTrue(
                b.reasons().stream().anyMatch(r -> r.startsWith("guardrail violated in segment region=EU")),
                b.reasons().toString());
    }

    @Test
    void aDecisionStandsAndIntervalsOnlyNarrow() {
        VerdictPolicy policy = policy();
        VerdictMemory memory = new VerdictMemory();
        VerdictMemory.Candidate m = memory.candidate("cand:1");
        VerdictPolicy.Assessment first = policy.assess(evidence(lossPairs(4000, -0.05, 0.5)), m, 1_000, 10.0);
        assertEquals(Decision.PROMOTE, first.decision());
        assertEquals(1_000, first.firstDecidedAt());
        // Later evidence that alone decides nothing does not undo it; the interval is the intersection.
        VerdictPolicy.Assessment alone = policy.assess(evidence(lossPairs(8000, -0.01, 0.5)), null, 2_000, 10.0);
        assertEquals(Decision.CONTINUE, alone.decision());
        VerdictPolicy.Assessment later = policy.assess(evidence(lossPairs(8000, -0.01, 0.5)), m, 2_000, 10.0);
        assertEquals(Decision.PROMOTE, later.decision());
        assertEquals(1_000, later.firstDecidedAt());
        assertTrue(
                later.reasons().get(0).startsWith("candidate significantly better"),
                later.reasons().toString());
        assertEquals(alone.primary().getLow(), later.primary().getLow(), 0.0);
        assertEquals(first.primary().getHigh(), later.primary().getHigh(), 0.0);
        assertTrue(later.primary().getLow() < later.primary().getHigh());
        Verdict v = policy.verdict("exp", "cand:1", 2_000, later);
        assertEquals(1_000, v.getFirstDecidedAt().toEpochMilli());
        assertEquals(ALPHA, v.getAlpha(), 0.0);
        assertFalse(v.getEvidence().isEmpty());
        // Without memory (a window on its own) nothing is sticky.
        assertEquals(
                Decision.REJECT,
                policy.assess(evidence(lossPairs(8000, 0.06, 0.5)), null, 2_000, 10.0)
                        .decision());
    }

    @Test
    void alphaIsSplitOverCandidatesThenTests() {
        EnumMap<VerdictMetric, Double> g = new EnumMap<>(VerdictMetric.class);
        g.put(VerdictMetric.RECALL, 0.02);
        g.put(VerdictMetric.ACCURACY, 0.01);
        VerdictPolicy policy = new VerdictPolicy(config(VerdictMetric.LOG_LOSS, g), 3);
        VerdictPolicy.Assessment a = policy.assess(evidence(lossPairs(1000, 0, 0.5)), null, 0, Double.NaN);
        assertEquals(ALPHA / 3, a.alpha(), 1e-15);
        assertEquals(ALPHA / 3 / 2, a.primary().getAlpha(), 1e-15);
        double sum = 0;
        for (TestResult t : a.tests()) {
            sum += t.getAlpha();
        }
        assertEquals(5, a.tests().size(), "primary, McNemar, error rate, two guardrails");
        assertEquals(ALPHA / 3, sum, 1e-15, "the tests share the candidate's alpha");
    }

    @Test
    void regressionHasNoMcNemar() {
        VerdictPolicy policy = new VerdictPolicy(config(VerdictMetric.SQUARED_ERROR, Map.of()), 1);
        PairedComparisonAccumulator p = new PairedComparisonAccumulator();
        for (int i = 0; i < 2000; i++) p.add(false, false, 1.0, i % 2 == 0 ? 1.2 : 1.0);
        VerdictPolicy.Assessment a =
                policy.assess(new VerdictPolicy.Evidence(Task.REGRESSION, p, 0, 2000, null, 1), null, 0, Double.NaN);
        assertEquals(Decision.REJECT, a.decision(), "squared error 0.1 higher, sd 0.1");
        assertTrue(Double.isNaN(a.mcnemarEValue()));
        assertTrue(a.tests().stream().noneMatch(t -> t.getTest().equals("mcnemar")));
    }
}
