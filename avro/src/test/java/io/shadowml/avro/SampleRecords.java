package io.shadowml.avro;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.apache.avro.specific.SpecificRecord;

/** One fully populated instance of every contract, so round-trips touch every field. */
final class SampleRecords {
    private SampleRecords() {}

    static final Instant T0 = Instant.parse("2026-01-05T10:15:30.123Z");

    static List<SpecificRecord> all() {
        return List.of(request(), label(), scoredEvent(), report(), verdict(), deadLetter());
    }

    static Request request() {
        return Request.newBuilder()
                .setRequestId("req-1")
                .setEventTime(T0)
                .setEntityId("card-7")
                .setSegments(Map.of("region", "EU", "channel", "web"))
                .setFeatures(Map.of("amount", 12.5, "hour", 3.0))
                .setVector(List.of(0.25f, -1.5f, 3.0f))
                .setServedBy("canary")
                .setProductionScore(0.91)
                .build();
    }

    static Label label() {
        return Label.newBuilder()
                .setRequestId("req-1")
                .setLabelTime(T0.plusSeconds(86_400))
                .setValue(1.0)
                .build();
    }

    static ModelOutput output(ModelRole role, String error) {
        return ModelOutput.newBuilder()
                .setModelName(role == ModelRole.LIVE ? "fraud-logreg" : "fraud-mlp")
                .setModelVersion("1.0.0")
                .setRole(role)
                .setScore(error == null ? 0.75 : null)
                .setProbabilities(error == null ? List.of(0.25f, 0.75f) : null)
                .setPredictedClass(error == null ? 1 : null)
                .setPredictedValue(null)
                .setLatencyMicros(42L)
                .setError(error)
                .build();
    }

    static ScoredEvent scoredEvent() {
        return ScoredEvent.newBuilder()
                .setExperimentId("exp-1")
                .setRequestId("req-1")
                .setEventTime(T0)
                .setEntityId("card-7")
                .setSegments(Map.of("region", "EU"))
                .setServedBy(null)
                .setOutputs(List.of(output(ModelRole.LIVE, null), output(ModelRole.CANDIDATE, "NaN output")))
                .setDisagreement(List.of(new EventDisagreement("fraud-mlp:1.0.0", true, 0.25)))
                .build();
    }

    static ComparisonReport report() {
        return ComparisonReport.newBuilder()
                .setExperimentId("exp-1")
                .setWindowKind(WindowKind.CUMULATIVE)
                .setWindowStart(T0)
                .setWindowEnd(T0.plusSeconds(3600))
                .setLiveModel("fraud-logreg:1.0.0")
                .setCounts(ReportCounts.newBuilder()
                        .setScored(100)
                        .setLabelled(80)
                        .setExpiredUnlabeled(3)
                        .setErrors(1)
                        .setDeadLettered(2)
                        .setDuplicateLabels(4)
                        .setUnknownLabels(5)
                        .build())
                .setDisagreement(List.of(Disagreement.newBuilder()
                        .setCandidate("fraud-mlp:1.0.0")
                        .setCompared(100)
                        .setFlips(7)
                        .setFlipRate(0.07)
                        .setAbsDiffMean(0.05)
                        .setAbsDiffP50(0.02)
                        .setAbsDiffP90(0.1)
                        .setAbsDiffP99(0.4)
                        .setAbsDiffMax(0.6)
                        .setMetrics(Map.of("js_divergence", 0.01))
                        .build()))
                .setQuality(List.of(ModelQuality.newBuilder()
                        .setModel("fraud-logreg:1.0.0")
                        .setRole(ModelRole.LIVE)
                        .setLabelled(80)
                        .setErrors(0)
                        .setMetrics(new java.util.HashMap<>(Map.of("accuracy", 0.9, "roc_auc", 0.85, "ece", 0.02)))
                        .setCalibration(List.of(
                                new ReliabilityBin(0.0, 0.1, 50L, 0.04, 0.06),
                                new ReliabilityBin(0.9, 1.0, 30L, 0.95, 0.9)))
                        .build()))
                .setPaired(List.of(PairedTest.newBuilder()
                        .setCandidate("fraud-mlp:1.0.0")
                        .setPairs(80)
                        .setLiveOnlyCorrect(2)
                        .setCandidateOnlyCorrect(9)
                        .setMcnemarPValue(0.065)
                        .setLossDiffMean(-0.03)
                        .setLossDiffCiLow(-0.05)
                        .setLossDiffCiHigh(-0.01)
                        .setMetrics(Map.of())
                        .setPrimaryMetric("log_loss")
                        .setPrimaryEstimate(-0.03)
                        .setPrimaryCsLow(-0.07)
                        .setPrimaryCsHigh(0.01)
                        .setMcnemarEValue(3.5)
                        .setMcnemarAlwaysValidP(0.2857)
                        .setMinDetectableEffect(0.04)
                        .setPairsNeeded(420L)
                        .setHoursNeeded(3.5)
                        .setTests(List.of(testResult()))
                        .build()))
                .setMetrics(Map.of("label_coverage", 0.8))
                .build();
    }

    static Verdict verdict() {
        return Verdict.newBuilder()
                .setExperimentId("exp-1")
                .setCandidate("fraud-mlp:1.0.0")
                .setDecidedAt(T0)
                .setDecision(Decision.PROMOTE)
                .setReasons(List.of("candidate better: McNemar p=0.001"))
                .setFirstDecidedAt(T0.minusSeconds(7200))
                .setAlpha(0.05)
                .setEvidence(List.of(testResult()))
                .build();
    }

    static TestResult testResult() {
        return TestResult.newBuilder()
                .setTest("guardrail")
                .setMetric("recall")
                .setSegment("region=EU")
                .setEstimate(-0.01)
                .setLow(-0.03)
                .setHigh(0.01)
                .setMargin(0.02)
                .setAlpha(0.003)
                .setEValue(null)
                .setPairs(900L)
                .setOutcome(TestOutcome.INCONCLUSIVE)
                .build();
    }

    static DeadLetter deadLetter() {
        return DeadLetter.newBuilder()
                .setSourceTopic("requests")
                .setPartition(2)
                .setOffset(1234L)
                .setKey(ByteBuffer.wrap(new byte[] {1, 2}))
                .setRaw(ByteBuffer.wrap(new byte[] {(byte) 0xde, (byte) 0xad}))
                .setReason("undecodable Avro: ...")
                .setFailedAt(T0)
                .setExperimentId("exp-1")
                .build();
    }
}
