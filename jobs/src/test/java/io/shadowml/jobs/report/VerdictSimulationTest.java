package io.shadowml.jobs.report;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.Decision;
import io.shadowml.jobs.config.VerdictMetric;
import io.shadowml.jobs.config.VerdictPolicyConfig;
import io.shadowml.jobs.metrics.Loss;
import io.shadowml.jobs.metrics.PairedComparisonAccumulator;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * The verdict's error rate under continuous looking, measured: experiments of 14 days with a look every
 * hour at 500 new labelled pairs, run through the real {@link PairedComparisonAccumulator} (a window's
 * pairs merged into the cumulative state, as the report assembler does) and the real
 * {@link VerdictPolicy} with its {@link VerdictMemory}, at the default verdict settings.
 *
 * <p>Each pair: the true class is a fair coin; a model is correct with its accuracy (independently, or
 * with correlated correctness), and gives the true class a probability drawn from U(½, 1) when correct
 * and U(0, ½) when wrong; its loss is the clipped log loss of that probability. The figures printed
 * here are the ones jobs/METRICS.md quotes.
 */
class VerdictSimulationTest {
    static final int EXPERIMENTS = 1000;
    static final int LOOKS = 14 * 24;
    static final int PAIRS_PER_LOOK = 500;
    static final long HOUR = 3_600_000L;

    /** What happened in one experiment: the decision (CONTINUE if none) and the pairs it took. */
    record Outcome(Decision decision, long pairs) {}

    static VerdictPolicy policy(double alpha) {
        return new VerdictPolicy(
                new VerdictPolicyConfig(500, alpha, 0.01, 10_000, VerdictMetric.LOG_LOSS, Map.of()), 1);
    }

    /**
     * One experiment. {@code correlation}: of the correctness indicators of the two models (same
     * marginal accuracy required for it to be exact; used for A/A only).
     */
    static Outcome run(
            VerdictPolicy policy, double liveAccuracy, double candidateAccuracy, double correlation, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        PairedComparisonAccumulator cumulative = new PairedComparisonAccumulator(2);
        VerdictMemory.Candidate memory = new VerdictMemory().candidate("candidate");
        double givenRight = candidateAccuracy + correlation * (1 - candidateAccuracy);
        double givenWrong = candidateAccuracy * (1 - correlation);
        for (int look = 1; look <= LOOKS; look++) {
            PairedComparisonAccumulator window = new PairedComparisonAccumulator(2);
            for (int i = 0; i < PAIRS_PER_LOOK; i++) {
                int y = rnd.nextInt(2);
                boolean live = rnd.nextDouble() < liveAccuracy;
                boolean candidate = correlation == 0
                        ? rnd.nextDouble() < candidateAccuracy
                        : rnd.nextDouble() < (live ? givenRight : givenWrong);
                window.add(y, live, candidate, loss(live, rnd), loss(candidate, rnd));
            }
            cumulative.merge(window);
            VerdictPolicy.Evidence ev =
                    new VerdictPolicy.Evidence(Task.BINARY, cumulative, 0, cumulative.count(), null, 1);
            VerdictPolicy.Assessment a = policy.assess(ev, memory, look * HOUR, PAIRS_PER_LOOK);
            if (a.decision() != Decision.CONTINUE) {
                return new Outcome(a.decision(), cumulative.count());
            }
        }
        return new Outcome(Decision.CONTINUE, cumulative.count());
    }

    private static double loss(boolean correct, SplittableRandom rnd) {
        double u = rnd.nextDouble() * 0.5;
        return Loss.logLoss(correct ? 1 - u : u);
    }

    static Outcome[] runAll(VerdictPolicy policy, double live, double candidate, double correlation, long seed) {
        return IntStream.range(0, EXPERIMENTS)
                .parallel()
                .mapToObj(k -> run(policy, live, candidate, correlation, seed * 1_000_003L + k))
                .toArray(Outcome[]::new);
    }

    /** False decisions in A/A experiments must stay within alpha, up to three binomial standard errors. */
    private static void assertFalseDecisionsWithinAlpha(String name, double alpha, double correlation) {
        Outcome[] outcomes = runAll(policy(alpha), 0.90, 0.90, correlation, 11);
        long promote = Arrays.stream(outcomes)
                .filter(o -> o.decision() == Decision.PROMOTE)
                .count();
        long reject = Arrays.stream(outcomes)
                .filter(o -> o.decision() == Decision.REJECT)
                .count();
        double rate = (double) (promote + reject) / EXPERIMENTS;
        double se = Math.sqrt(alpha * (1 - alpha) / EXPERIMENTS);
        System.out.printf(
                Locale.ROOT,
                "A/A %s, alpha %.2f: %d experiments × %d hourly looks × %d pairs: false PROMOTE %d, false REJECT %d,"
                        + " rate %.4f (binomial SE at alpha %.4f)%n",
                name,
                alpha,
                EXPERIMENTS,
                LOOKS,
                PAIRS_PER_LOOK,
                promote,
                reject,
                rate,
                se);
        assertTrue(rate <= alpha + 3 * se, name + ": false decision rate " + rate + " above alpha " + alpha);
    }

    @Test
    void aaWithIndependentErrorsStaysWithinAlpha() {
        assertFalseDecisionsWithinAlpha("independent errors", 0.05, 0);
    }

    @Test
    void aaWithCorrelatedErrorsStaysWithinAlpha() {
        assertFalseDecisionsWithinAlpha("correlated errors (0.8)", 0.05, 0.8);
    }

    @Test
    void aaAtAlpha001StaysWithinAlpha() {
        assertFalseDecisionsWithinAlpha("independent errors", 0.01, 0);
    }

    /** Accuracy 0.92 against 0.90 is promoted in at least 90% of experiments, and the pairs it takes. */
    @Test
    void powerAgainstATwoPointAccuracyGain() {
        Outcome[] outcomes = runAll(policy(0.05), 0.90, 0.92, 0, 23);
        long[] pairs = Arrays.stream(outcomes)
                .filter(o -> o.decision() == Decision.PROMOTE)
                .mapToLong(Outcome::pairs)
                .sorted()
                .toArray();
        long rejected = Arrays.stream(outcomes)
                .filter(o -> o.decision() == Decision.REJECT)
                .count();
        double power = (double) pairs.length / EXPERIMENTS;
        double mean = Arrays.stream(pairs).average().orElse(Double.NaN);
        long p90 = pairs.length == 0 ? -1 : pairs[(int) Math.ceil(0.9 * pairs.length) - 1];
        System.out.printf(
                Locale.ROOT,
                "power, 0.90 vs 0.92, alpha 0.05: PROMOTE in %.3f of %d experiments within 14 days (REJECT %d);"
                        + " pairs to PROMOTE: mean %.0f, p90 %d (%.1f h at %d pairs/h)%n",
                power,
                EXPERIMENTS,
                rejected,
                mean,
                p90,
                p90 / (double) PAIRS_PER_LOOK,
                PAIRS_PER_LOOK);
        assertTrue(power >= 0.90, "power " + power);
        assertTrue(rejected == 0, "a better candidate rejected " + rejected + " times");
    }

    /**
     * Outcome-dependent label delays (jobs/METRICS.md, "Matured evidence"): positives (20%) are labelled
     * uniformly within 10 days, negatives within 1 day, 10× sooner. The candidate is better on the
     * negatives (accuracy 0.90 against 0.85) and worse on the positives (0.65 against 0.85): 0.8 · 0.05 =
     * 0.2 · 0.20, equal on the whole traffic, so any decision is false. Requests mature 10 days
     * (label_maturity = the horizon) after their event time, as the job's windows count them.
     *
     * <p>Evidence "as labels arrive" sees negatives for days before the first positive: its verdict would
     * PROMOTE nearly always. The matured evidence, on which the verdict decides, stays within alpha.
     */
    @Test
    void outcomeDependentDelaysBiasTheEvidenceSoFarButNotTheMaturedVerdict() {
        int experiments = 400;
        int maturityHours = 240;
        double alpha = 0.05;
        VerdictPolicy policy = policy(alpha);
        Decision[][] decisions = IntStream.range(0, experiments)
                .parallel()
                .mapToObj(k -> runWithDelays(policy, maturityHours, 31L * 1_000_003L + k))
                .toArray(Decision[][]::new);
        long soFarFalse =
                Arrays.stream(decisions).filter(d -> d[0] != Decision.CONTINUE).count();
        long maturedFalse =
                Arrays.stream(decisions).filter(d -> d[1] != Decision.CONTINUE).count();
        double maturedRate = (double) maturedFalse / experiments;
        double se = Math.sqrt(alpha * (1 - alpha) / experiments);
        System.out.printf(
                Locale.ROOT,
                "outcome-dependent delays (positives 10x later), equal models, alpha %.2f, %d experiments × %d"
                        + " hourly looks × %d requests: false decisions on evidence so far %d (%.3f), on matured"
                        + " evidence %d (%.4f, binomial SE at alpha %.4f)%n",
                alpha,
                experiments,
                LOOKS,
                PAIRS_PER_LOOK,
                soFarFalse,
                (double) soFarFalse / experiments,
                maturedFalse,
                maturedRate,
                se);
        assertTrue(soFarFalse > experiments / 2, "the scenario biases the evidence so far: " + soFarFalse);
        assertTrue(maturedRate <= alpha + 3 * se, "matured false decision rate " + maturedRate);
    }

    /** The first decision {evidence so far, matured evidence} of one experiment; CONTINUE if none. */
    static Decision[] runWithDelays(VerdictPolicy policy, int maturityHours, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        PairedComparisonAccumulator[] arriving = new PairedComparisonAccumulator[LOOKS + 1];
        PairedComparisonAccumulator[] maturing = new PairedComparisonAccumulator[LOOKS + 1];
        for (int t = 0; t <= LOOKS; t++) {
            arriving[t] = new PairedComparisonAccumulator(2);
            maturing[t] = new PairedComparisonAccumulator(2);
        }
        for (int hour = 0; hour < LOOKS; hour++) {
            for (int i = 0; i < PAIRS_PER_LOOK; i++) {
                int y = rnd.nextDouble() < 0.2 ? 1 : 0;
                boolean live = rnd.nextDouble() < 0.85;
                boolean candidate = rnd.nextDouble() < (y == 0 ? 0.90 : 0.65);
                double liveLoss = loss(live, rnd);
                double candidateLoss = loss(candidate, rnd);
                double delayHours = rnd.nextDouble() * (y == 1 ? 240 : 24);
                // Known at the first look after event time + delay; decides at the first after maturity.
                int arrives = hour + 1 + (int) delayHours;
                if (arrives <= LOOKS) {
                    arriving[arrives].add(y, live, candidate, liveLoss, candidateLoss);
                }
                if (delayHours <= maturityHours && hour + maturityHours + 1 <= LOOKS) {
                    maturing[hour + maturityHours + 1].add(y, live, candidate, liveLoss, candidateLoss);
                }
            }
        }
        return new Decision[] {firstDecision(policy, arriving), firstDecision(policy, maturing)};
    }

    private static Decision firstDecision(VerdictPolicy policy, PairedComparisonAccumulator[] windows) {
        PairedComparisonAccumulator cumulative = new PairedComparisonAccumulator(2);
        VerdictMemory.Candidate memory = new VerdictMemory().candidate("candidate");
        for (int look = 1; look <= LOOKS; look++) {
            cumulative.merge(windows[look]);
            VerdictPolicy.Evidence ev = new VerdictPolicy.Evidence(Task.BINARY, cumulative, 0, 1, null, 1);
            Decision d = policy.assess(ev, memory, look * HOUR, PAIRS_PER_LOOK).decision();
            if (d != Decision.CONTINUE) {
                return d;
            }
        }
        return Decision.CONTINUE;
    }
}
