package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Decision;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReportCounts;
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

    @Test
    void unboundedIntervals() {
        assertTrue(SummaryTable.interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY)
                .equals("[-inf, +inf]"));
    }
}
