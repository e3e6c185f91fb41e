package io.shadowml.jobs.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.ArmReport;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.SampleRatioTest;
import io.shadowml.avro.StickyAssignment;
import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.metrics.ArmEvidence;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.models.ModelDescriptor.Task;

/** The canary sections of a report: per arm, the sample ratio test, sticky assignment (jobs/METRICS.md). */
final class CanaryReports {
    private CanaryReports() {}

    /**
     * Adds the sections to {@code report}; {@code assessments} holds one per non-control arm of
     * {@code arms}, in order.
     */
    static void addTo(
            ComparisonReport report,
            ArmEvidence evidence,
            ArmLayout arms,
            CanaryConfig config,
            Task task,
            CanaryPolicy.SrmResult srm,
            List<CanaryPolicy.Assessment> assessments) {
        long total = 0;
        for (ArmEvidence.Arm a : evidence.arms()) {
            total += a.scored();
        }
        List<ArmReport> out = new ArrayList<>();
        for (ArmEvidence.Arm a : evidence.arms()) {
            // -1: evidence of an arm no longer configured (another model serves it since a restore)
            int index = arms.indexOf(a.arm(), a.model());
            CanaryPolicy.Assessment assessment = index > 0 ? assessments.get(index - 1) : null;
            out.add(ArmReport.newBuilder()
                    .setArm(a.arm())
                    .setModel(a.model())
                    .setControl(a.control())
                    .setScored(a.scored())
                    .setShare(total == 0 ? Double.NaN : (double) a.scored() / total)
                    .setExpectedShare(index < 0 ? 0.0 : config.expectedShares()[index])
                    .setErrors(a.errors())
                    .setEntities(a.entities())
                    .setLabelled(a.soFar().labelled())
                    .setMaturedLabelled(a.matured().labelled())
                    .setMetrics(metrics(a, task, config))
                    .setParity(
                            a.parity().count() == 0
                                    ? null
                                    : ReportFactory.disagreement(a.model() + " vs logged", a.parity(), new HashMap<>()))
                    .setTests(assessment == null ? new ArrayList<>() : new ArrayList<>(assessment.tests()))
                    .build());
        }
        report.setArms(out);
        report.setSampleRatio(SampleRatioTest.newBuilder()
                .setUnit(srm.unit())
                .setRequests(srm.units())
                .setEValue(srm.eValue())
                .setAlpha(srm.alpha())
                .setMismatch(srm.mismatch())
                .build());
        report.setStickyAssignment(StickyAssignment.newBuilder()
                .setEntities(evidence.entities())
                .setMultiArmEntities(evidence.multiArmEntities())
                .setRate(stickyViolationRate(evidence))
                .build());
        report.getMetrics().put("served_by_unmapped", (double) evidence.unmapped());
    }

    /** Entities served by more than one arm / entities served; NaN before any. */
    static double stickyViolationRate(ArmEvidence evidence) {
        return evidence.entities() == 0 ? Double.NaN : (double) evidence.multiArmEntities() / evidence.entities();
    }

    /** The arm's quality on its labelled outcomes as they arrived (report metric names, jobs/METRICS.md). */
    static Map<String, Double> metrics(ArmEvidence.Arm a, Task task, CanaryConfig config) {
        Map<String, Double> m = new HashMap<>();
        ArmEvidence.Outcomes o = a.soFar();
        if (task != Task.REGRESSION) {
            m.put("accuracy", o.accuracy());
        }
        m.put("mean_loss", o.meanLoss());
        if (config.business() != null) {
            m.put(config.business().name(), o.businessMean());
        }
        m.put("error_rate", a.scored() == 0 ? Double.NaN : (double) a.errors() / a.scored());
        return m;
    }
}
