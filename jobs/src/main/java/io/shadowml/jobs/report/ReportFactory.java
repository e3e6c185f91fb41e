package io.shadowml.jobs.report;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.LabelDelay;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReliabilityBin;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.metrics.DisagreementAccumulator;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.LabelDelays;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.MulticlassQualityAccumulator;
import io.shadowml.jobs.metrics.PairedComparisonAccumulator;
import io.shadowml.jobs.metrics.ReliabilityHistogram;
import io.shadowml.jobs.metrics.SegmentSlices;
import io.shadowml.models.ModelDescriptor.Task;

/** Turns an accumulator into the report record; the metric names here are the ones jobs/README.md lists. */
public final class ReportFactory {
    private ReportFactory() {}

    /** A report without the verdict's tests (their fields keep the contract's defaults). */
    public static ComparisonReport report(
            String experimentId, WindowKind kind, long start, long end, ExperimentAccumulator acc, ModelLayout layout) {
        return report(experimentId, kind, start, end, acc, layout, List.of(), List.of());
    }

    /**
     * A report whose paired sections carry each candidate's anytime-valid tests: {@code assessments} (of
     * the matured evidence, section {@code paired}) and {@code soFar} (of every labelled pair, section
     * {@code paired_so_far}) hold one per candidate slot in layout order (candidate c at c − 1), or are
     * empty. Slots without a model ({@link ModelLayout#modelId} null) are left out.
     */
    public static ComparisonReport report(
            String experimentId,
            WindowKind kind,
            long start,
            long end,
            ExperimentAccumulator acc,
            ModelLayout layout,
            List<VerdictPolicy.Assessment> assessments,
            List<VerdictPolicy.Assessment> soFar) {
        List<Disagreement> disagreement = new ArrayList<>();
        List<PairedTest> paired = new ArrayList<>();
        List<PairedTest> pairedSoFar = new ArrayList<>();
        List<ModelQuality> quality = new ArrayList<>();
        SegmentSlices segments = acc.segments();
        for (int m = 0; m < layout.models(); m++) {
            if (layout.modelId(m) == null) {
                continue; // an empty slot (models.candidate_slots)
            }
            Map<String, Double> q = qualityMetrics(acc, m);
            if (segments != null) {
                segmentQuality(segments, acc.task(), m, q);
            }
            quality.add(ModelQuality.newBuilder()
                    .setModel(layout.modelId(m))
                    .setRole(m == 0 ? ModelRole.LIVE : ModelRole.CANDIDATE)
                    .setLabelled(acc.quality(m).count())
                    .setErrors(acc.errors(m))
                    .setMetrics(q)
                    .setCalibration(calibration(acc.quality(m).reliability()))
                    .build());
        }
        for (int c = 1; c < layout.models(); c++) {
            if (layout.modelId(c) == null) {
                continue;
            }
            disagreement.add(disagreement(
                    layout.modelId(c),
                    acc.disagreement(c),
                    segments == null ? new HashMap<>() : segmentDisagreement(segments, c)));
            paired.add(pairedTest(
                    layout.modelId(c), acc.matured().paired(c), assessments.isEmpty() ? null : assessments.get(c - 1)));
            pairedSoFar.add(pairedTest(layout.modelId(c), acc.paired(c), soFar.isEmpty() ? null : soFar.get(c - 1)));
        }
        Map<String, Double> experiment = new HashMap<>();
        experiment.put("label_coverage", acc.labelCoverage());
        experiment.put("explicit_label_coverage", acc.explicitLabelCoverage());
        experiment.put("matured_label_coverage", acc.matured().labelCoverage());
        if (segments != null) {
            for (int f = 0; f < segments.fields(); f++) {
                for (Map.Entry<String, SegmentSlices.Slice> e :
                        segments.slices(f).entrySet()) {
                    experiment.put(key("scored", segments.field(f), e.getKey()), (double)
                            e.getValue().scored());
                }
            }
        }
        return ComparisonReport.newBuilder()
                .setExperimentId(experimentId)
                .setWindowKind(kind)
                .setWindowStart(Instant.ofEpochMilli(start))
                .setWindowEnd(Instant.ofEpochMilli(end))
                .setLiveModel(layout.modelId(0))
                .setCounts(ReportCounts.newBuilder()
                        .setScored(acc.scored())
                        .setLabelled(acc.labelled())
                        .setExpiredUnlabeled(acc.expired())
                        .setErrors(acc.totalErrors())
                        .setDeadLettered(acc.deadLettered())
                        .setDuplicateLabels(acc.duplicateLabels())
                        .setDuplicateRequests(acc.duplicateRequests())
                        .setUnknownLabels(acc.unknownLabels())
                        .setImplicitLabels(acc.implicitLabels())
                        .setMaturedRequests(acc.matured().requests())
                        .setMaturedLabelled(acc.matured().labelled())
                        .setUnsampledRequests(acc.unsampledRequests())
                        .setUnsampledLabels(acc.unsampledLabels())
                        .build())
                .setDisagreement(disagreement)
                .setParity(
                        acc.parity().count() == 0
                                ? null
                                : disagreement(layout.modelId(0) + " vs logged", acc.parity(), new HashMap<>()))
                .setQuality(quality)
                .setLabelDelays(labelDelays(acc.labelDelays(), acc.task()))
                .setPaired(paired)
                .setPairedSoFar(pairedSoFar)
                .setMetrics(experiment)
                .build();
    }

    private static PairedTest pairedTest(
            String candidate, PairedComparisonAccumulator p, VerdictPolicy.Assessment assessment) {
        double[] ci = p.lossDifferenceCi95();
        PairedTest.Builder test = PairedTest.newBuilder()
                .setCandidate(candidate)
                .setPairs(p.count())
                .setLiveOnlyCorrect(p.liveOnlyCorrect())
                .setCandidateOnlyCorrect(p.candidateOnlyCorrect())
                .setMcnemarPValue(p.mcnemarPValue())
                .setLossDiffMean(p.meanLossDifference())
                .setLossDiffCiLow(ci[0])
                .setLossDiffCiHigh(ci[1])
                .setMetrics(new HashMap<>());
        if (assessment != null) {
            setTests(test, assessment);
        }
        return test.build();
    }

    private static List<LabelDelay> labelDelays(LabelDelays delays, Task task) {
        List<LabelDelay> out = new ArrayList<>();
        for (int k = 0; k < delays.classes(); k++) {
            if (delays.count(k) > 0) {
                out.add(new LabelDelay(
                        task == Task.REGRESSION ? "all" : Integer.toString(k),
                        delays.count(k),
                        delays.quantileSeconds(k, 0.5),
                        delays.quantileSeconds(k, 0.9),
                        delays.quantileSeconds(k, 0.99)));
            }
        }
        return out;
    }

    static Disagreement disagreement(String what, DisagreementAccumulator d, Map<String, Double> metrics) {
        return Disagreement.newBuilder()
                .setCandidate(what)
                .setCompared(d.count())
                .setFlips(d.flips())
                .setFlipRate(d.flipRate())
                .setAbsDiffMean(d.meanAbsDifference())
                .setAbsDiffP50(d.absDifferenceQuantile(0.5))
                .setAbsDiffP90(d.absDifferenceQuantile(0.9))
                .setAbsDiffP99(d.absDifferenceQuantile(0.99))
                .setAbsDiffMax(d.maxAbsDifference())
                .setMetrics(metrics)
                .build();
    }

    private static void setTests(PairedTest.Builder test, VerdictPolicy.Assessment a) {
        test.setPrimaryMetric(a.primary().getMetric())
                .setPrimaryEstimate(a.primary().getEstimate())
                .setPrimaryCsLow(a.primary().getLow())
                .setPrimaryCsHigh(a.primary().getHigh())
                .setMcnemarEValue(a.mcnemarEValue())
                .setMcnemarAlwaysValidP(a.mcnemarAlwaysValidP())
                .setMinDetectableEffect(a.minDetectableEffect())
                .setPairsNeeded(a.pairsNeeded())
                .setHoursNeeded(a.hoursNeeded())
                .setTests(new ArrayList<>(a.tests()));
    }

    /** {@code name[field=value]}, the key of a per-segment figure in the reports' metric maps. */
    public static String key(String name, String field, String value) {
        return name + "[" + field + "=" + value + "]";
    }

    private static Map<String, Double> segmentDisagreement(SegmentSlices segments, int candidate) {
        Map<String, Double> d = new HashMap<>();
        for (int f = 0; f < segments.fields(); f++) {
            String field = segments.field(f);
            for (Map.Entry<String, SegmentSlices.Slice> e : segments.slices(f).entrySet()) {
                SegmentSlices.Slice s = e.getValue();
                d.put(key("compared", field, e.getKey()), (double) s.compared(candidate));
                d.put(key("flip_rate", field, e.getKey()), s.flipRate(candidate));
                d.put(key("abs_diff_mean", field, e.getKey()), s.absDiffMean(candidate));
            }
        }
        return d;
    }

    private static void segmentQuality(SegmentSlices segments, Task task, int model, Map<String, Double> q) {
        for (int f = 0; f < segments.fields(); f++) {
            String field = segments.field(f);
            for (Map.Entry<String, SegmentSlices.Slice> e : segments.slices(f).entrySet()) {
                SegmentSlices.Slice s = e.getValue();
                q.put(key("labelled", field, e.getKey()), (double) s.labelled(model));
                if (task == Task.REGRESSION) {
                    q.put(key("mae", field, e.getKey()), s.mae(model));
                } else {
                    q.put(key("accuracy", field, e.getKey()), s.accuracy(model));
                }
            }
        }
    }

    static Map<String, Double> qualityMetrics(ExperimentAccumulator acc, int m) {
        Map<String, Double> q = new HashMap<>();
        acc.quality(m).putMetrics(q);
        if (acc.task() == Task.MULTICLASS) {
            // Every model over the same classes, or live and candidate F1 are not comparable.
            q.put("macro_f1", ((MulticlassQualityAccumulator) acc.quality(m)).macroF1(classesOfAllModels(acc)));
        }
        q.put("label_coverage", acc.labelCoverage());
        long attempts = acc.scoredBy(m);
        q.put("error_rate", attempts == 0 ? Double.NaN : (double) acc.errors(m) / attempts);
        q.put("latency_mean_micros", acc.latencyMeanMicros(m));
        return q;
    }

    /** Union over the report's models of the classes each saw as true or predicted (jobs/METRICS.md). */
    static boolean[] classesOfAllModels(ExperimentAccumulator acc) {
        boolean[] union = null;
        for (int m = 0; m < acc.models(); m++) {
            boolean[] present = ((MulticlassQualityAccumulator) acc.quality(m)).presentClasses();
            if (union == null) {
                union = present;
            } else {
                for (int k = 0; k < union.length; k++) {
                    union[k] |= present[k];
                }
            }
        }
        return union;
    }

    private static List<ReliabilityBin> calibration(List<ReliabilityHistogram.Bin> bins) {
        List<ReliabilityBin> out = new ArrayList<>(bins.size());
        for (ReliabilityHistogram.Bin b : bins) {
            out.add(new ReliabilityBin(b.lower(), b.upper(), b.count(), b.meanPredicted(), b.observed()));
        }
        return out;
    }
}
