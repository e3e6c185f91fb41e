package io.shadowml.jobs.report;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import io.shadowml.avro.Decision;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.metrics.ArmEvidence;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.stats.Interval;
import io.shadowml.stats.SampleRatioMismatchTest;
import io.shadowml.stats.TwoSampleConfidenceSequence;

/**
 * The canary verdict of each non-control arm against the control arm (jobs/METRICS.md, "Canary and
 * A/B"), re-read after every window for weeks, so every rule is anytime-valid:
 *
 * <ul>
 *   <li><b>Sample ratio mismatch</b> ({@link SampleRatioMismatchTest}, at canary.srm_alpha): the split of
 *       the arms' scored requests is not the configured one. The comparison is then invalid: ROLLBACK.
 *   <li><b>Quality</b>: arm minus control in accuracy (classification) or squared error (regression) on
 *       the matured labelled outcomes, an unpaired confidence sequence valid under any allocation of
 *       traffic over time ({@link TwoSampleConfidenceSequence#intervalUnderAnyAllocation}, since canaries
 *       ramp up), intersected with every earlier one. Shown worse than control by more than canary.margin:
 *       ROLLBACK; shown no worse than that: PROCEED.
 *   <li><b>Business metric</b> (optional, lower is better): shown worse by more than its margin: ROLLBACK.
 * </ul>
 *
 * canary.alpha is split evenly over the non-control arms and, within an arm, over its quality and
 * business tests (Bonferroni). No quality decision before both arms have canary.min_labelled matured
 * outcomes. Decisions are sticky: the first PROCEED or ROLLBACK stands, with its reasons.
 */
public final class CanaryPolicy implements Serializable {
    private static final long serialVersionUID = 1L;

    private final CanaryConfig config;
    private final Task task;

    public CanaryPolicy(CanaryConfig config, Task task) {
        this.config = config;
        this.task = task;
    }

    /** The quality metric an arm is compared on. */
    public String qualityMetric() {
        return task == Task.REGRESSION ? "squared_error" : "accuracy";
    }

    /** Each test's share of canary.alpha. */
    double testAlpha() {
        int tests = config.business() == null ? 1 : 2;
        return config.alpha() / (config.arms().size() - 1) / tests;
    }

    /** The SRM test over the arms in {@code arms}' order. */
    public SrmResult sampleRatio(ArmEvidence evidence, ArmLayout arms, VerdictMemory.Candidate memory) {
        long[] counts = new long[arms.arms()];
        long total = 0;
        for (int a = 0; a < counts.length; a++) {
            ArmEvidence.Arm arm = evidence.arm(arms.arm(a), arms.modelId(a));
            counts[a] = arm == null ? 0 : config.srmByEntity() ? arm.entities() : arm.scored();
            total += counts[a];
        }
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(config.expectedShares(), config.srmAlpha());
        double logE = test.logEValue(counts);
        double maxLogE = memory == null ? logE : memory.raise("srm", logE);
        boolean mismatch = maxLogE >= Math.log(test.threshold());
        String unit = config.srmByEntity() ? "entity" : "request";
        return new SrmResult(unit, counts, total, Math.exp(maxLogE), config.srmAlpha(), mismatch);
    }

    /** The sample ratio test's figures; e-value the largest so far when assessed with memory. */
    public record SrmResult(String unit, long[] counts, long units, double eValue, double alpha, boolean mismatch) {}

    /**
     * Arm {@code a} (not the control, 0) on {@code evidence}; with {@code memory}, its intervals are
     * intersected with the earlier ones and its decision is sticky, as for a verdict.
     */
    public Assessment assess(
            ArmEvidence evidence, ArmLayout arms, int a, SrmResult srm, VerdictMemory.Candidate memory, long end) {
        ArmEvidence.Arm arm = evidence.arm(arms.arm(a), arms.modelId(a));
        ArmEvidence.Arm control = evidence.arm(arms.arm(0), arms.modelId(0));
        ArmEvidence.Outcomes mine = arm == null ? new ArmEvidence.Outcomes() : arm.matured();
        ArmEvidence.Outcomes theirs = control == null ? new ArmEvidence.Outcomes() : control.matured();
        double alpha = testAlpha();
        TwoSampleConfidenceSequence cs = TwoSampleConfidenceSequence.tunedFor(config.tuningLabelled(), alpha);
        List<TestResult> tests = new ArrayList<>();
        List<String> rollback = new ArrayList<>();
        long pairs = mine.labelled() + theirs.labelled();
        boolean enough = mine.labelled() >= config.minLabelled() && theirs.labelled() >= config.minLabelled();

        boolean higherIsBetter = task != Task.REGRESSION;
        Interval quality = higherIsBetter
                ? cs.intervalUnderAnyAllocation(
                        mine.labelled(),
                        mine.accuracy(),
                        orZero(mine.accuracyVariance()),
                        theirs.labelled(),
                        theirs.accuracy(),
                        orZero(theirs.accuracyVariance()))
                : cs.intervalUnderAnyAllocation(
                        mine.labelled(),
                        mine.meanLoss(),
                        orZero(mine.lossVariance()),
                        theirs.labelled(),
                        theirs.meanLoss(),
                        orZero(theirs.lossVariance()));
        if (mine.labelled() < 2 || theirs.labelled() < 2) {
            quality = Interval.ALL;
        }
        String qualityKey = "canary_quality";
        if (memory != null) {
            quality = memory.narrow(qualityKey, quality);
        }
        double estimate = higherIsBetter ? mine.accuracy() - theirs.accuracy() : mine.meanLoss() - theirs.meanLoss();
        double margin = config.margin();
        // Worse by more than the margin, or no worse than that: in the metric's own direction.
        boolean worse = higherIsBetter ? quality.high() < -margin : quality.low() > margin;
        boolean nonInferior = higherIsBetter ? quality.low() > -margin : quality.high() < margin;
        tests.add(test(qualityKey, qualityMetric(), estimate, quality, margin, alpha, pairs, worse, nonInferior));
        if (enough && worse) {
            rollback.add(String.format(
                    Locale.ROOT,
                    "%s %s than control by more than the margin %s: %s minus control %.4f, anytime-valid interval [%.4f, %.4f]",
                    qualityMetric(),
                    higherIsBetter ? "lower" : "higher",
                    margin,
                    arms.arm(a),
                    estimate,
                    quality.low(),
                    quality.high()));
        }

        CanaryConfig.BusinessMetric business = config.business();
        if (business != null) {
            Interval b = mine.businessCount() < 2 || theirs.businessCount() < 2
                    ? Interval.ALL
                    : cs.intervalUnderAnyAllocation(
                            mine.businessCount(),
                            mine.businessMean(),
                            orZero(mine.businessVariance()),
                            theirs.businessCount(),
                            theirs.businessMean(),
                            orZero(theirs.businessVariance()));
            if (memory != null) {
                b = memory.narrow("canary_business", b);
            }
            double bEstimate = mine.businessMean() - theirs.businessMean();
            boolean bWorse = b.low() > business.margin();
            tests.add(test(
                    "canary_business",
                    business.name(),
                    bEstimate,
                    b,
                    business.margin(),
                    alpha,
                    mine.businessCount() + theirs.businessCount(),
                    bWorse,
                    b.high() < business.margin()));
            if (enough && bWorse) {
                rollback.add(String.format(
                        Locale.ROOT,
                        "%s per request higher than control by more than the margin %s: %s minus control %.4f,"
                                + " anytime-valid interval [%.4f, %.4f]",
                        business.name(),
                        business.margin(),
                        arms.arm(a),
                        bEstimate,
                        b.low(),
                        b.high()));
            }
        }
        tests.add(srmTest(srm, a, config.expectedShares()[a]));
        if (srm.mismatch()) {
            rollback.add(
                    0,
                    String.format(
                            Locale.ROOT,
                            "sample ratio mismatch: the arms' split %s is not the configured one (e-value %.3g >= 1/srm_alpha = %.3g);"
                                    + " the comparison is invalid",
                            Arrays.toString(srm.counts()) + " " + srm.unit() + "s",
                            srm.eValue(),
                            1 / srm.alpha()));
        }

        Decision decision;
        List<String> reasons;
        if (!rollback.isEmpty()) {
            decision = Decision.ROLLBACK;
            reasons = rollback;
        } else if (enough && nonInferior) {
            decision = Decision.PROCEED;
            reasons = List.of(String.format(
                    Locale.ROOT,
                    "%s no worse than control by more than the margin %s: %s minus control %.4f, anytime-valid"
                            + " interval [%.4f, %.4f]",
                    qualityMetric(),
                    margin,
                    arms.arm(a),
                    estimate,
                    quality.low(),
                    quality.high()));
        } else {
            decision = Decision.CONTINUE;
            reasons = List.of(
                    enough
                            ? "the comparison with control is not decided yet"
                            : String.format(
                                    Locale.ROOT,
                                    "%d and %d matured labelled outcomes (arm, control), canary.min_labelled is %d",
                                    mine.labelled(),
                                    theirs.labelled(),
                                    config.minLabelled()));
        }
        long firstDecidedAt = -1;
        if (memory != null) {
            if (!memory.decided() && decision != Decision.CONTINUE) {
                memory.decide(decision.name(), end, reasons);
            }
            if (memory.decided()) {
                decision = Decision.valueOf(memory.decision);
                reasons = memory.decisiveReasons;
                firstDecidedAt = memory.firstDecidedAt;
            }
        }
        return new Assessment(
                arms.arm(a), arms.modelId(a), decision, List.copyOf(reasons), tests, quality, firstDecidedAt);
    }

    /** The canary verdict record of an assessment, keyed {@code <experiment>/canary/<arm>}. */
    public Verdict verdict(String experimentId, long decidedAt, Assessment a) {
        return Verdict.newBuilder()
                .setExperimentId(experimentId)
                .setCandidate(a.model())
                .setArm(a.arm())
                .setDecidedAt(Instant.ofEpochMilli(decidedAt))
                .setDecision(a.decision())
                .setReasons(new ArrayList<>(a.reasons()))
                .setFirstDecidedAt(a.firstDecidedAt() < 0 ? null : Instant.ofEpochMilli(a.firstDecidedAt()))
                .setAlpha(testAlpha() * (config.business() == null ? 1 : 2))
                .setEvidence(new ArrayList<>(a.tests()))
                .build();
    }

    /** The sample ratio test, from arm {@code a}'s side: estimate = its observed share minus its expected one. */
    private static TestResult srmTest(SrmResult srm, int a, double expectedShare) {
        double share = srm.units() == 0 ? Double.NaN : (double) srm.counts()[a] / srm.units();
        return TestResult.newBuilder()
                .setTest("srm")
                .setMetric("sample_ratio")
                .setEstimate(share - expectedShare)
                .setLow(Double.NEGATIVE_INFINITY)
                .setHigh(Double.POSITIVE_INFINITY)
                .setAlpha(srm.alpha())
                .setEValue(srm.eValue())
                .setPairs(srm.units())
                .setOutcome(srm.mismatch() ? TestOutcome.VIOLATED : TestOutcome.INCONCLUSIVE)
                .build();
    }

    private static TestResult test(
            String name,
            String metric,
            double estimate,
            Interval interval,
            double margin,
            double alpha,
            long pairs,
            boolean worse,
            boolean nonInferior) {
        return TestResult.newBuilder()
                .setTest(name)
                .setMetric(metric)
                .setEstimate(estimate)
                .setLow(interval.low())
                .setHigh(interval.high())
                .setMargin(margin)
                .setAlpha(alpha)
                .setPairs(pairs)
                .setOutcome(
                        worse
                                ? TestOutcome.VIOLATED
                                : nonInferior ? TestOutcome.CANDIDATE_BETTER : TestOutcome.INCONCLUSIVE)
                .build();
    }

    /** A variance the interval can take: a single outcome's NaN is none yet. */
    private static double orZero(double variance) {
        return Double.isNaN(variance) ? 0.0 : variance;
    }

    /** One arm's canary verdict and the tests behind it (arm minus control). */
    public record Assessment(
            String arm,
            String model,
            Decision decision,
            List<String> reasons,
            List<TestResult> tests,
            Interval quality,
            long firstDecidedAt) {}
}
