package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.ArmReport;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Decision;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.SampleRatioTest;
import io.shadowml.avro.StickyAssignment;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;

class SummaryTableTest {
    static final Instant END = Instant.parse("2026-01-08T00:00:00Z");
    static final Instant FIRST = Instant.parse("2026-01-07T12:00:00Z");

    static ModelQuality quality(String model, ModelRole role, double ece) {
        return ModelQuality.newBuilder()
                .setModel(model)
                .setRole(role)
                .setLabelled(3140)
                .setMetrics(Map.of("accuracy", 0.96, "roc_auc", 0.91, "roc_auc_max_error", 0.0042, "ece", ece))
                .build();
    }

    static TestResult guardrail() {
        return TestResult.newBuilder()
                .setTest("guardrail")
                .setMetric("recall")
                .setSegment("country=DE")
                .setEstimate(-0.031)
                .setLow(-0.052)
                .setHigh(-0.024)
                .setMargin(0.02)
                .setAlpha(0.005)
                .setPairs(1234)
                .setOutcome(TestOutcome.VIOLATED)
                .build();
    }

    static ComparisonReport report(PairedTest p) {
        return ComparisonReport.newBuilder()
                .setExperimentId("exp")
                .setWindowKind(WindowKind.CUMULATIVE)
                .setWindowStart(END.minusSeconds(86_400))
                .setWindowEnd(END)
                .setLiveModel("m:1")
                .setCounts(ReportCounts.newBuilder()
                        .setScored(3660)
                        .setLabelled(3140)
                        .build())
                .setQuality(
                        List.of(quality("m:1", ModelRole.LIVE, 0.0123), quality("m:2", ModelRole.CANDIDATE, 0.0871)))
                .setPaired(List.of(p))
                .build();
    }

    static PairedTest.Builder paired() {
        return PairedTest.newBuilder()
                .setCandidate("m:2")
                .setPairs(3140)
                .setLiveOnlyCorrect(41)
                .setCandidateOnlyCorrect(19)
                .setMcnemarPValue(0.0061)
                .setLossDiffMean(0.0228)
                .setLossDiffCiLow(0.0131)
                .setLossDiffCiHigh(0.0325);
    }

    @Test
    void showsTheAnytimeValidIntervalTheEValueAndWhenTheVerdictWasFirstReached() {
        PairedTest p = paired().setPrimaryMetric("log_loss")
                .setPrimaryEstimate(0.0233)
                .setPrimaryCsLow(0.0133)
                .setPrimaryCsHigh(0.0333)
                .setMcnemarEValue(57.25)
                .setMcnemarAlwaysValidP(1 / 57.25)
                .setMinDetectableEffect(0.01)
                .setPairsNeeded(1200)
                .setHoursNeeded(5.25)
                .setTests(List.of(guardrail()))
                .build();
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        verdicts.put(
                "m:2",
                Verdict.newBuilder()
                        .setExperimentId("exp")
                        .setCandidate("m:2")
                        .setDecidedAt(END)
                        .setDecision(Decision.REJECT)
                        .setReasons(List.of("recall guardrail violated"))
                        .setFirstDecidedAt(FIRST)
                        .setAlpha(0.025)
                        .setEvidence(List.of(guardrail()))
                        .build());
        String text = SummaryTable.render(report(p), verdicts);
        assertTrue(
                text.contains("Anytime-valid: log_loss candidate - live +0.02330 [0.01330, 0.03330],"
                        + " min detectable effect 0.01000, McNemar e-value 57.25 (always-valid p 0.01747),"
                        + " still needed 1200 pairs (5.3 h)"),
                text);
        assertTrue(text.contains("[95% t CI 0.01310, 0.03250, descriptive]"), text);
        assertTrue(
                text.contains("Verdict m:2: REJECT, first decided 2026-01-07T12:00:00Z, alpha 0.02500"
                        + " (recall guardrail violated)"),
                text);
        assertTrue(
                text.contains("guardrail  recall        country=DE       -0.03100 [-0.05200, -0.02400],"
                        + " margin 0.02000, 1234 pairs -> VIOLATED"),
                text);
        assertTrue(text.contains("  evidence:\n    guardrail"), text);
        assertTrue(text.contains("roc_auc+-") && text.contains("ece"), text);
        assertTrue(text.contains("0.0871"), "candidate ECE: " + text);
    }

    @Test
    void durationsReadAsTheirLargestUnit() {
        assertEquals("45s", SummaryTable.duration(45));
        assertEquals("1.5m", SummaryTable.duration(90));
        assertEquals("2.0h", SummaryTable.duration(7200));
        assertEquals("8.5d", SummaryTable.duration(8.5 * 86_400));
        assertEquals("n/a", SummaryTable.duration(Double.NaN));
    }

    @Test
    void avroDefaultsShowAsNotAvailable() {
        Map<String, Verdict> verdicts = Map.of(
                "m:2",
                Verdict.newBuilder()
                        .setExperimentId("exp")
                        .setCandidate("m:2")
                        .setDecidedAt(END)
                        .setDecision(Decision.CONTINUE)
                        .setReasons(List.of("not enough evidence"))
                        .build());
        String text = SummaryTable.render(report(paired().build()), verdicts);
        assertTrue(
                text.contains("Anytime-valid: log_loss candidate - live n/a [n/a], min detectable effect n/a,"
                        + " McNemar e-value 1.000 (always-valid p 1.000), still needed n/a"),
                text);
        assertTrue(text.contains("Verdict m:2: CONTINUE, first decided n/a (not enough evidence)"), text);
        assertFalse(text.contains("evidence:"), text);
        assertFalse(text.contains("alpha"), text);
    }

    static Disagreement parity(String model, long compared, double max) {
        return Disagreement.newBuilder()
                .setCandidate(model + " vs logged")
                .setCompared(compared)
                .setFlips(0)
                .setFlipRate(0)
                .setAbsDiffMean(max / 10)
                .setAbsDiffP50(0)
                .setAbsDiffP90(0)
                .setAbsDiffP99(max)
                .setAbsDiffMax(max)
                .build();
    }

    static ComparisonReport canaryReport() {
        TestResult accuracy = TestResult.newBuilder()
                .setTest("unpaired")
                .setMetric("accuracy")
                .setEstimate(0.01)
                .setLow(-0.005)
                .setHigh(0.025)
                .setAlpha(0.01)
                .setEValue(3.2)
                .setPairs(570)
                .setOutcome(TestOutcome.INCONCLUSIVE)
                .build();
        ComparisonReport r = report(paired().build());
        r.setArms(List.of(
                ArmReport.newBuilder()
                        .setArm("prod")
                        .setModel("m:1")
                        .setControl(true)
                        .setScored(5400)
                        .setShare(0.9)
                        .setExpectedShare(0.9)
                        .setLabelled(5200)
                        .setMaturedLabelled(5100)
                        .setMetrics(Map.of(
                                "error_rate", 0.0, "fraud_loss", 15234.5, "mean_loss", 0.0924, "accuracy", 0.974))
                        .setParity(parity("m:1", 5400, 1.2e-7))
                        .build(),
                ArmReport.newBuilder()
                        .setArm("canary")
                        .setModel("m:2")
                        .setScored(600)
                        .setShare(0.1)
                        .setExpectedShare(0.1)
                        .setLabelled(580)
                        .setMaturedLabelled(570)
                        .setMetrics(
                                Map.of("accuracy", 0.984, "mean_loss", 0.0512, "fraud_loss", 812.4, "error_rate", 0.0))
                        .setParity(parity("m:2", 600, 0))
                        .setTests(List.of(accuracy))
                        .build()));
        r.setSampleRatio(SampleRatioTest.newBuilder()
                .setRequests(6000)
                .setEValue(0.85)
                .setAlpha(0.001)
                .setMismatch(false)
                .build());
        r.setStickyAssignment(StickyAssignment.newBuilder()
                .setEntities(2687)
                .setMultiArmEntities(0)
                .setRate(0)
                .build());
        return r;
    }

    static Verdict.Builder verdict(Decision d, String arm) {
        return Verdict.newBuilder()
                .setExperimentId("exp")
                .setCandidate("m:2")
                .setDecidedAt(END)
                .setDecision(d)
                .setArm(arm);
    }

    @Test
    void canaryArmsAndTheShadowAndCanaryVerdictsSideBySide() {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        // The canary verdict first: the summary still shows the shadow one first.
        verdicts.put(
                "m:2/canary/canary",
                verdict(Decision.PROCEED, "canary")
                        .setFirstDecidedAt(END)
                        .setReasons(List.of("canary no worse than prod"))
                        .build());
        verdicts.put(
                "m:2",
                verdict(Decision.PROMOTE, null)
                        .setFirstDecidedAt(FIRST)
                        .setAlpha(0.025)
                        .setReasons(List.of("candidate better"))
                        .build());
        String text = SummaryTable.render(canaryReport(), verdicts);
        String expected = String.join(
                "\n",
                "Canary arms (by served_by; the requests each arm served in production):",
                "  arm        model                          scored    share expected  labelled     accuracy    mean_loss"
                        + "   fraud_loss   error_rate  parity (shadow vs served)",
                "  prod       m:1 (live)                       5400   90.00%   90.00%      5200       0.9740      0.09240"
                        + "      15234.5        0.000  flips 0 of 5400 (0.00%), |diff| max 1.200e-07",
                "  canary     m:2                               600   10.00%   10.00%       580       0.9840      0.05120"
                        + "        812.4        0.000  flips 0 of 600 (0.00%), |diff| max 0.000",
                "  canary - prod, unpaired, on 570 matured labelled outcomes:",
                "    unpaired   accuracy      -                +0.01000 [-0.005000, 0.02500], e-value 3.200, 570 pairs"
                        + " -> INCONCLUSIVE",
                "Sample ratio: 6000 requests, e-value 0.8500 (alpha 0.001000: detects at 1000) -> no mismatch",
                "Sticky assignment: 0 of 2687 entities served by more than one arm (rate 0.00%)",
                "",
                "Verdicts                     shadow (paired, every request)           canary (the traffic it served)",
                "m:2                          PROMOTE since 2026-01-07T12:00:00Z       PROCEED since 2026-01-08T00:00:00Z"
                        + " (arm canary)",
                "Verdict m:2: PROMOTE, first decided 2026-01-07T12:00:00Z, alpha 0.02500 (candidate better)",
                "Canary verdict m:2 (arm canary): PROCEED, first decided 2026-01-08T00:00:00Z (canary no worse than prod)");
        assertTrue(text.endsWith("\n\n" + expected), text);
    }

    @Test
    void aCanaryVerdictBeforeAnyShadowVerdict() {
        Verdict rollback = verdict(Decision.ROLLBACK, "canary")
                .setReasons(List.of("sample ratio mismatch"))
                .build();
        String text = SummaryTable.render(canaryReport(), Map.of("m:2/canary/canary", rollback));
        assertTrue(
                text.contains(
                        "\nm:2                          n/a                                      ROLLBACK (arm canary)\n"),
                text);
        assertTrue(
                text.endsWith("\nCanary verdict m:2 (arm canary): ROLLBACK, first decided n/a (sample ratio mismatch)"),
                text);
    }

    @Test
    void withoutACanaryNothingAboutArms() {
        Map<String, Verdict> verdicts =
                Map.of("m:2", verdict(Decision.CONTINUE, null).build());
        String text = SummaryTable.render(report(paired().build()), verdicts);
        assertFalse(text.contains("anary") || text.contains("Verdicts") || text.contains("Sample ratio"), text);
        assertTrue(
                text.endsWith(
                        "\n  Anytime-valid: log_loss candidate - live n/a [n/a], min detectable effect n/a,"
                                + " McNemar e-value 1.000 (always-valid p 1.000), still needed n/a\nVerdict m:2: CONTINUE, first decided n/a ()"),
                text);
    }

    @Test
    void unboundedIntervals() {
        assertTrue(SummaryTable.interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY)
                .equals("[-inf, +inf]"));
    }
}
