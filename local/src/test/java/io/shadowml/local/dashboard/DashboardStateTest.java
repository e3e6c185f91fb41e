package io.shadowml.local.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Decision;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;

/** The anytime-valid fields in {@code /api/summary}: Avro defaults read as "not reported", not as numbers. */
class DashboardStateTest {
    static final Instant END = Instant.parse("2026-01-05T06:00:00Z");

    static ComparisonReport report(PairedTest p) {
        return ComparisonReport.newBuilder()
                .setExperimentId("e")
                .setWindowKind(WindowKind.CUMULATIVE)
                .setWindowStart(END.minusSeconds(21_600))
                .setWindowEnd(END)
                .setLiveModel("m:1")
                .setCounts(ReportCounts.newBuilder().build())
                .setQuality(List.of(quality("m:1", ModelRole.LIVE), quality("m:2", ModelRole.CANDIDATE)))
                .setPaired(List.of(p))
                .build();
    }

    static ModelQuality quality(String model, ModelRole role) {
        return ModelQuality.newBuilder()
                .setModel(model)
                .setRole(role)
                .setLabelled(0)
                .setMetrics(Map.of("accuracy", Double.NaN))
                .build();
    }

    static PairedTest.Builder paired() {
        return PairedTest.newBuilder()
                .setCandidate("m:2")
                .setPairs(0)
                .setLiveOnlyCorrect(0)
                .setCandidateOnlyCorrect(0)
                .setMcnemarPValue(Double.NaN)
                .setLossDiffMean(Double.NaN)
                .setLossDiffCiLow(Double.NaN)
                .setLossDiffCiHigh(Double.NaN);
    }

    @Test
    void avroDefaultsAreShownAsMissing() {
        DashboardState state = new DashboardState();
        state.addReport(report(paired().build()));
        state.addVerdict(Verdict.newBuilder()
                .setExperimentId("e")
                .setCandidate("m:2")
                .setDecidedAt(END)
                .setDecision(Decision.CONTINUE)
                .build());
        JsonNode s = state.summary();
        JsonNode p = s.at("/latest/paired/0");
        assertEquals("log_loss", p.get("primary_metric").asText());
        for (String k : List.of(
                "primary_estimate",
                "primary_cs_low",
                "primary_cs_high",
                "min_detectable_effect",
                "pairs_needed",
                "hours_needed")) {
            assertTrue(p.get(k).isNull(), k + " must be null, was " + p.get(k));
        }
        assertEquals(1.0, p.get("mcnemar_e_value").asDouble(), "e = 1: no evidence against the null");
        assertEquals(1.0, p.get("mcnemar_always_valid_p").asDouble());
        assertEquals(0, p.get("tests").size());
        assertEquals(0, s.at("/latest/quality/0/calibration").size());
        assertTrue(s.at("/cumulative/primary/m:2/estimate/0").isNull());
        JsonNode v = s.at("/verdicts/0");
        assertTrue(v.get("first_decided_at").isNull());
        assertTrue(v.get("alpha").isNull());
        assertEquals(0, v.get("evidence").size());
    }

    @Test
    void unboundedIntervalsAndWhatIsStillNeeded() {
        DashboardState state = new DashboardState();
        state.addReport(report(paired().setPrimaryEstimate(0.0)
                .setPrimaryCsLow(Double.NEGATIVE_INFINITY)
                .setPrimaryCsHigh(Double.POSITIVE_INFINITY)
                .setMinDetectableEffect(Double.POSITIVE_INFINITY)
                .setPairsNeeded(1200)
                .setHoursNeeded(5.25)
                .build()));
        JsonNode p = state.summary().at("/latest/paired/0");
        assertEquals(0.0, p.get("primary_estimate").asDouble());
        assertEquals("-Infinity", p.get("primary_cs_low").asText());
        assertEquals("Infinity", p.get("primary_cs_high").asText());
        assertTrue(p.get("min_detectable_effect").isNull());
        assertEquals(1200, p.get("pairs_needed").asLong());
        assertEquals(5.25, p.get("hours_needed").asDouble());
        assertTrue(state.summaryJson().contains("\"primary_cs_low\" : \"-Infinity\""));
    }

    @Test
    void aCanaryVerdictIsKeptApartFromTheShadowVerdict() {
        DashboardState state = new DashboardState();
        Verdict.Builder v =
                Verdict.newBuilder().setExperimentId("e").setCandidate("m:2").setDecidedAt(END);
        state.addVerdict(v.setDecision(Decision.PROMOTE).build());
        state.addVerdict(v.setDecision(Decision.PROCEED).setArm("canary").build());
        JsonNode verdicts = state.summary().get("verdicts");
        assertEquals(2, verdicts.size(), verdicts.toString());
        assertEquals("PROMOTE", verdicts.get(0).get("decision").asText());
        assertTrue(verdicts.get(0).get("arm") == null, "a shadow verdict has no arm");
        assertEquals("PROCEED", verdicts.get(1).get("decision").asText());
        assertEquals("canary", verdicts.get(1).get("arm").asText());
        assertEquals("canary", state.summary().at("/verdict_history/1/arm").asText());
    }
}
