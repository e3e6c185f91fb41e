package io.shadowml.jobs.report;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.shadowml.avro.Decision;
import io.shadowml.avro.TestOutcome;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.config.VerdictMetric;
import io.shadowml.jobs.config.VerdictPolicyConfig;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.PairedComparisonAccumulator;
import io.shadowml.jobs.metrics.SegmentSlices;
import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.stats.AsymptoticConfidenceSequence;
import io.shadowml.stats.BernoulliConfidenceSequence;
import io.shadowml.stats.EValues;
import io.shadowml.stats.Estimate;
import io.shadowml.stats.Interval;
import io.shadowml.stats.PairedDifferences;
import io.shadowml.stats.SequentialSignTest;

/**
 * Decides on a candidate from anytime-valid tests, so that the verdict may be read after every window
 * for weeks without inflating its error rate. The rule and the split of {@code alpha} are in
 * jobs/METRICS.md, "Verdict"; in short, with α_c = alpha / candidates:
 *
 * <ul>
 *   <li>the primary metric's confidence sequence gets α_c / 2; the other half is split equally
 *       (Bonferroni) over the sequential McNemar test, the error-rate test, each guardrail, and the
 *       per-segment family (itself split over every slice it can have);
 *   <li>REJECT when the error rate's lower bound exceeds {@code max_candidate_error_rate} (at any
 *       time), or, from {@code min_labelled_pairs} on, when the primary interval lies on the worse side
 *       of 0, McNemar's e-value reaches 1/α with live right more often, or a guardrail's interval lies
 *       beyond its margin (naming the metric and the segment);
 *   <li>PROMOTE when the primary interval lies on the better side of 0 and every guardrail has been
 *       tested on enough pairs without a violation;
 *   <li>CONTINUE otherwise. A PROMOTE or REJECT, once reached, stands ({@link VerdictMemory}).
 * </ul>
 *
 * Pure: everything it remembers between looks lives in the {@link VerdictMemory} it is given.
 */
public final class VerdictPolicy implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Share of discordant pairs the McNemar prior is tuned for, as a fraction of {@code tuning_pairs}. */
    static final double TUNING_DISCORDANCE = 0.1;

    private final VerdictPolicyConfig config;
    private final int candidates;

    /** @param candidates candidates compared in the experiment, each getting alpha / candidates */
    public VerdictPolicy(VerdictPolicyConfig config, int candidates) {
        if (candidates < 1) {
            throw new IllegalArgumentException("need at least one candidate, had " + candidates);
        }
        this.config = config;
        this.candidates = candidates;
    }

    /** One candidate's share of {@code alpha}. */
    public double candidateAlpha() {
        return config.alpha() / candidates;
    }

    /** What the policy looks at for one candidate: the accumulators' cumulative (or window) state. */
    public record Evidence(
            Task task,
            PairedComparisonAccumulator paired,
            long errors,
            long scored,
            SegmentSlices segments,
            int index) {

        /**
         * The matured evidence of {@code acc} (paired counts and segments of the requests older than
         * label_maturity, jobs/METRICS.md "Matured evidence"); the error rate, known at scoring, from
         * every request scored.
         */
        public static Evidence of(ExperimentAccumulator acc, int candidate) {
            return new Evidence(
                    acc.task(),
                    acc.matured().paired(candidate),
                    acc.errors(candidate),
                    acc.scoredBy(candidate),
                    acc.matured().segments(),
                    candidate);
        }

        /** Every labelled pair of {@code acc} as it arrived, matured or not: descriptive, never decides. */
        public static Evidence soFar(ExperimentAccumulator acc, int candidate) {
            return new Evidence(
                    acc.task(),
                    acc.paired(candidate),
                    acc.errors(candidate),
                    acc.scoredBy(candidate),
                    acc.segments(),
                    candidate);
        }
    }

    /**
     * Everything concluded about one candidate at one look.
     *
     * @param firstDecidedAt when PROMOTE or REJECT was first reached, or −1
     * @param primary the test of the primary metric
     * @param mcnemarEValue the sequential McNemar e-value (with memory: the largest so far); NaN for regression
     * @param minDetectableEffect half-width of the primary metric's current interval
     * @param pairsNeeded further labelled pairs until the observed primary difference would be decided:
     *     0 once decided, −1 when it cannot be estimated
     * @param hoursNeeded pairsNeeded at the observed rate of labelled pairs, −1 when unknown
     * @param tests every test, primary first
     */
    public record Assessment(
            Decision decision,
            List<String> reasons,
            long firstDecidedAt,
            double alpha,
            TestResult primary,
            double mcnemarEValue,
            double minDetectableEffect,
            long pairsNeeded,
            double hoursNeeded,
            List<TestResult> tests) {

        /** 1 / the McNemar e-value, at most 1 (with memory: the always-valid p-value). */
        public double mcnemarAlwaysValidP() {
            return Double.isNaN(mcnemarEValue) ? Double.NaN : EValues.alwaysValidPValue(Math.log(mcnemarEValue));
        }
    }

    /**
     * Assesses one candidate.
     *
     * @param memory the candidate's memory across looks, updated here (running intersections, largest
     *     e-values, the first decision); null to assess one window on its own, without stickiness
     * @param at event time of the look (end of the window)
     * @param pairsPerHour observed rate of labelled pairs, for {@code hours_needed}; NaN if unknown
     */
    public Assessment assess(Evidence ev, VerdictMemory.Candidate memory, long at, double pairsPerHour) {
        Look look = new Look(ev, memory);
        List<String> rejections = new ArrayList<>();
        List<String> blockers = new ArrayList<>();

        TestResult errorRate = look.errorRate();
        if (errorRate.getOutcome() == TestOutcome.VIOLATED) {
            rejections.add(format(
                    "error rate %.4f, lower bound %.4f above the allowed %.4f (%d of %d requests failed)",
                    errorRate.getEstimate(),
                    errorRate.getLow(),
                    config.maxCandidateErrorRate(),
                    ev.errors(),
                    ev.scored()));
        }
        long n = ev.paired().count();
        boolean enough = n >= config.minLabelledPairs();
        TestResult primary = look.primary(enough);
        double mcnemarE = Double.NaN;
        if (ev.task() != Task.REGRESSION) {
            mcnemarE = look.mcnemar(enough, rejections);
        }
        look.tests.add(errorRate);
        for (Map.Entry<VerdictMetric, Double> g : config.guardrails().entrySet()) {
            if (g.getKey() == VerdictMetric.SEGMENT_ACCURACY) {
                continue;
            }
            TestResult t = look.guardrail(g.getKey(), g.getValue());
            if (t.getOutcome() == TestOutcome.VIOLATED) {
                rejections.add(describe("guardrail violated", t));
            } else if (t.getPairs() < config.minLabelledPairs()) {
                blockers.add(format(
                        "guardrail %s: %d pairs, %d needed before a promotion",
                        t.getMetric(), t.getPairs(), config.minLabelledPairs()));
            }
        }
        if (ev.segments() != null && ev.task() != Task.REGRESSION) {
            look.segments(rejections);
        }

        if (enough && primary.getOutcome() == TestOutcome.CANDIDATE_WORSE) {
            rejections.add(0, describe("candidate significantly worse", primary));
        }
        Decision decision;
        List<String> reasons = new ArrayList<>();
        if (!rejections.isEmpty()) {
            decision = Decision.REJECT;
            reasons.addAll(rejections);
        } else if (!enough) {
            decision = Decision.CONTINUE;
            reasons.add(
                    format("%d labelled pairs, %d needed before a statistical decision", n, config.minLabelledPairs()));
        } else if (primary.getOutcome() == TestOutcome.CANDIDATE_BETTER && blockers.isEmpty()) {
            decision = Decision.PROMOTE;
            reasons.add(describe("candidate significantly better", primary));
        } else {
            decision = Decision.CONTINUE;
            reasons.add(describe(
                    primary.getOutcome() == TestOutcome.CANDIDATE_BETTER ? "candidate better" : "no decision yet",
                    primary));
            reasons.addAll(blockers);
        }

        long firstDecidedAt = -1;
        if (memory != null) {
            if (!memory.decided() && decision != Decision.CONTINUE) {
                memory.decide(decision.name(), at, reasons);
            }
            if (memory.decided()) {
                decision = Decision.valueOf(memory.decision);
                firstDecidedAt = memory.firstDecidedAt;
                reasons = new ArrayList<>(memory.decisiveReasons);
                reasons.add("decided at " + Instant.ofEpochMilli(firstDecidedAt) + "; decisions stand once reached");
            }
        }

        double mde = look.primaryRadius;
        long pairsNeeded = decision != Decision.CONTINUE ? 0 : look.pairsNeeded(n);
        double hoursNeeded = pairsNeeded < 0 || !(pairsPerHour > 0) ? -1 : pairsNeeded / pairsPerHour;
        return new Assessment(
                decision,
                List.copyOf(reasons),
                firstDecidedAt,
                candidateAlpha(),
                primary,
                mcnemarE,
                mde,
                pairsNeeded,
                hoursNeeded,
                List.copyOf(look.tests));
    }

    /** The verdict record of an assessment. */
    public Verdict verdict(String experimentId, String candidate, long decidedAt, Assessment a) {
        return Verdict.newBuilder()
                .setExperimentId(experimentId)
                .setCandidate(candidate)
                .setDecidedAt(Instant.ofEpochMilli(decidedAt))
                .setDecision(a.decision())
                .setReasons(new ArrayList<>(a.reasons()))
                .setFirstDecidedAt(a.firstDecidedAt() < 0 ? null : Instant.ofEpochMilli(a.firstDecidedAt()))
                .setAlpha(a.alpha())
                .setEvidence(new ArrayList<>(a.tests()))
                .build();
    }

    /** The shares of the candidate's alpha: see the class comment. */
    double testAlpha(Task task, boolean segments) {
        int others = 1; // error rate
        if (task != Task.REGRESSION) {
            others++; // McNemar
            if (segments) {
                others++;
            }
        }
        for (VerdictMetric m : config.guardrails().keySet()) {
            if (m != VerdictMetric.SEGMENT_ACCURACY) {
                others++;
            }
        }
        return candidateAlpha() / 2 / others;
    }

    double primaryAlpha() {
        return candidateAlpha() / 2;
    }

    /** One look at one candidate: builds the tests in order and remembers what the caller reports. */
    private final class Look {
        final Evidence ev;
        final VerdictMemory.Candidate memory;
        final double otherAlpha;
        final List<TestResult> tests = new ArrayList<>();
        Estimate primaryEstimate = Estimate.NONE;
        AsymptoticConfidenceSequence primaryCs;
        double primaryRadius = Double.POSITIVE_INFINITY;

        Look(Evidence ev, VerdictMemory.Candidate memory) {
            this.ev = ev;
            this.memory = memory;
            this.otherAlpha = testAlpha(ev.task(), ev.segments() != null);
        }

        TestResult primary(boolean enough) {
            VerdictMetric metric = config.primaryMetric();
            primaryEstimate = estimate(metric, ev.paired());
            primaryCs = AsymptoticConfidenceSequence.tunedFor(config.tuningPairs(), primaryAlpha());
            Interval now = primaryEstimate.interval(primaryCs);
            if (now != Interval.ALL) {
                primaryRadius = now.width() / 2;
            }
            Interval interval = narrow("primary:" + metric.configName(), now, enough);
            TestResult t = result("primary", metric, null, primaryEstimate, interval, 0, primaryAlpha());
            t.setOutcome(enough ? outcome(metric, interval) : TestOutcome.INCONCLUSIVE);
            tests.add(t);
            return t;
        }

        double mcnemar(boolean enough, List<String> rejections) {
            PairedComparisonAccumulator p = ev.paired();
            long b = p.liveOnlyCorrect();
            long c = p.candidateOnlyCorrect();
            double a = SequentialSignTest.concentrationFor(
                    Math.max(1, Math.round(config.tuningPairs() * TUNING_DISCORDANCE)), otherAlpha);
            double logE = SequentialSignTest.logEValue(c, b, a);
            // Evidence in each direction is remembered apart: an e-value reached while the candidate was
            // ahead must not count against it once it falls behind.
            double worse = b > c ? raise("mcnemar:worse", logE) : max("mcnemar:worse");
            double better = c > b ? raise("mcnemar:better", logE) : max("mcnemar:better");
            double shown = memory == null ? logE : Math.max(worse, better);
            Estimate accuracy = PairedDifferences.accuracy(b, c, p.count());
            TestResult t = result("mcnemar", VerdictMetric.ACCURACY, null, accuracy, Interval.ALL, 0, otherAlpha);
            t.setEValue(Math.exp(shown));
            TestOutcome outcome = TestOutcome.INCONCLUSIVE;
            if (enough && EValues.rejects(worse, otherAlpha)) {
                outcome = TestOutcome.CANDIDATE_WORSE;
                rejections.add(format(
                        "McNemar: live right on %d pairs the candidate got wrong, the candidate on %d; e-value %.3g"
                                + " ≥ 1/%.4g",
                        b, c, Math.exp(worse), otherAlpha));
            } else if (enough && EValues.rejects(better, otherAlpha)) {
                outcome = TestOutcome.CANDIDATE_BETTER;
            }
            t.setOutcome(outcome);
            tests.add(t);
            return Math.exp(shown);
        }

        TestResult errorRate() {
            BernoulliConfidenceSequence cs = new BernoulliConfidenceSequence(otherAlpha);
            long k = Math.min(ev.errors(), ev.scored());
            Interval interval = narrow("error_rate", cs.interval(k, ev.scored()), true);
            double rate = ev.scored() == 0 ? Double.NaN : (double) k / ev.scored();
            TestResult t = TestResult.newBuilder()
                    .setTest("error_rate")
                    .setMetric("error_rate")
                    .setEstimate(rate)
                    .setLow(interval.low())
                    .setHigh(interval.high())
                    .setMargin(config.maxCandidateErrorRate())
                    .setAlpha(otherAlpha)
                    .setPairs(ev.scored())
                    .setOutcome(
                            interval.low() > config.maxCandidateErrorRate()
                                    ? TestOutcome.VIOLATED
                                    : TestOutcome.INCONCLUSIVE)
                    .build();
            return t;
        }

        TestResult guardrail(VerdictMetric metric, double margin) {
            Estimate e = estimate(metric, ev.paired());
            boolean enough = e.n() >= config.minLabelledPairs() && !Double.isNaN(e.mean());
            AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(config.tuningPairs(), otherAlpha);
            Interval interval = narrow("guardrail:" + metric.configName(), e.interval(cs), enough);
            TestResult t = result("guardrail", metric, null, e, interval, margin, otherAlpha);
            t.setOutcome(enough ? guardrailOutcome(metric, interval, margin) : TestOutcome.INCONCLUSIVE);
            tests.add(t);
            return t;
        }

        /** Paired accuracy per slice; a violation rejects only when segment_accuracy is a guardrail. */
        void segments(List<String> rejections) {
            SegmentSlices s = ev.segments();
            Double margin = config.guardrails().get(VerdictMetric.SEGMENT_ACCURACY);
            double sliceAlpha = otherAlpha / ((double) s.fields() * (s.maxValues() + 2));
            AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(
                    Math.max(config.minLabelledPairs(), config.tuningPairs() / 10), sliceAlpha);
            int c = ev.index();
            for (int f = 0; f < s.fields(); f++) {
                for (Map.Entry<String, SegmentSlices.Slice> e : s.slices(f).entrySet()) {
                    SegmentSlices.Slice slice = e.getValue();
                    long pairs = slice.pairs(c);
                    if (pairs == 0) {
                        continue;
                    }
                    String segment = s.field(f) + "=" + e.getKey();
                    Estimate est =
                            PairedDifferences.accuracy(slice.liveOnlyCorrect(c), slice.candidateOnlyCorrect(c), pairs);
                    boolean enough = pairs >= config.minLabelledPairs();
                    Interval interval = narrow("segment:accuracy:" + segment, est.interval(cs), enough);
                    double m = margin == null ? 0 : margin;
                    TestResult t = result("segment", VerdictMetric.ACCURACY, segment, est, interval, m, sliceAlpha);
                    TestOutcome outcome =
                            enough ? guardrailOutcome(VerdictMetric.ACCURACY, interval, m) : TestOutcome.INCONCLUSIVE;
                    if (margin == null && outcome == TestOutcome.VIOLATED) {
                        outcome = TestOutcome.CANDIDATE_WORSE; // named, but not a guardrail: no REJECT
                    }
                    t.setOutcome(outcome);
                    if (outcome == TestOutcome.VIOLATED) {
                        rejections.add(describe("guardrail violated in segment " + segment, t));
                    }
                    tests.add(t);
                }
            }
        }

        long pairsNeeded(long n) {
            double effect = Math.abs(primaryEstimate.mean());
            if (n < 2 || !(effect > 0) || Double.isNaN(primaryEstimate.variance())) {
                return n < config.minLabelledPairs() && n >= 2 ? config.minLabelledPairs() - n : -1;
            }
            long total = primaryCs.sampleSizeFor(effect, primaryEstimate.standardDeviation(), n);
            if (total == Long.MAX_VALUE) {
                return -1;
            }
            return Math.max(total, config.minLabelledPairs()) - n;
        }

        /** With memory and enough evidence, the running intersection; else the interval itself. */
        private Interval narrow(String key, Interval latest, boolean enough) {
            return memory == null || !enough || latest == Interval.ALL ? latest : memory.narrow(key, latest);
        }

        private double raise(String key, double logE) {
            return memory == null ? logE : memory.raise(key, logE);
        }

        private double max(String key) {
            return memory == null ? 0 : memory.maxLogEValues.getOrDefault(key, 0.0);
        }
    }

    /** candidate − live on a metric, from the paired counts. */
    static Estimate estimate(VerdictMetric metric, PairedComparisonAccumulator p) {
        switch (metric) {
            case LOG_LOSS:
            case SQUARED_ERROR:
                return new Estimate(p.count(), p.meanLossDifference(), p.lossDifferenceVariance());
            case ACCURACY:
            case SEGMENT_ACCURACY:
                return PairedDifferences.accuracy(p.liveOnlyCorrect(), p.candidateOnlyCorrect(), p.count());
            case RECALL:
                return PairedDifferences.accuracy(p.count(1, true, false), p.count(1, false, true), p.classCount(1));
            case PRECISION:
                return PairedDifferences.precision(decisionCells(p));
            default:
                throw new IllegalArgumentException("no paired estimate for " + metric);
        }
    }

    /**
     * The (true class, live decision, candidate decision) table of a binary comparison from its
     * (true class, live correct, candidate correct) counts: a decision is the true class when correct.
     */
    static long[] decisionCells(PairedComparisonAccumulator p) {
        long[] cells = new long[8];
        for (int y = 0; y < 2; y++) {
            for (int lc = 0; lc < 2; lc++) {
                for (int cc = 0; cc < 2; cc++) {
                    int live = lc == 1 ? y : 1 - y;
                    int cand = cc == 1 ? y : 1 - y;
                    cells[4 * y + 2 * live + cand] += p.count(y, lc == 1, cc == 1);
                }
            }
        }
        return cells;
    }

    /** What an interval of candidate − live shows in the metric's direction: better, worse or neither. */
    static TestOutcome outcome(VerdictMetric metric, Interval interval) {
        boolean higherBetter = metric.higherIsBetter();
        if (higherBetter ? interval.above(0) : interval.below(0)) {
            return TestOutcome.CANDIDATE_BETTER;
        }
        if (higherBetter ? interval.below(0) : interval.above(0)) {
            return TestOutcome.CANDIDATE_WORSE;
        }
        return TestOutcome.INCONCLUSIVE;
    }

    /** A guardrail's outcome: VIOLATED when the whole interval is worse than live by more than the margin. */
    static TestOutcome guardrailOutcome(VerdictMetric metric, Interval interval, double margin) {
        boolean beyond = metric.higherIsBetter() ? interval.below(-margin) : interval.above(margin);
        return beyond ? TestOutcome.VIOLATED : outcome(metric, interval);
    }

    private static TestResult result(
            String test,
            VerdictMetric metric,
            String segment,
            Estimate e,
            Interval interval,
            double margin,
            double alpha) {
        return TestResult.newBuilder()
                .setTest(test)
                .setMetric(metric == VerdictMetric.SEGMENT_ACCURACY ? "accuracy" : metric.configName())
                .setSegment(segment)
                .setEstimate(e.mean())
                .setLow(interval.low())
                .setHigh(interval.high())
                .setMargin(margin)
                .setAlpha(alpha)
                .setPairs(e.n())
                .setOutcome(TestOutcome.INCONCLUSIVE)
                .build();
    }

    private static String describe(String what, TestResult t) {
        String margin = t.getMargin() > 0 ? format(", margin %.4g", t.getMargin()) : "";
        return format(
                "%s: %s difference %.5f, anytime-valid interval [%.5f, %.5f] at alpha %.3g%s (%d pairs)",
                what, t.getMetric(), t.getEstimate(), t.getLow(), t.getHigh(), t.getAlpha(), margin, t.getPairs());
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
