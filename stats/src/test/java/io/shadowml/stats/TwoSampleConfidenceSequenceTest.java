package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TwoSampleConfidenceSequenceTest {

    /**
     * The formula by hand at ρ² = 0.01, α = 0.05; arm 1: n = 300, mean 1.30, s² = 4; arm 2: n = 100,
     * mean 1.00, s² = 1; t = 400.
     *
     * <p>Fixed split: s₁²/n₁ + s₂²/n₂ = 4/300 + 1/100 = 0.0233333, times t = 9.333333, root 3.055050.
     * Unit radius at 400: x = 400·0.01 + 1 = 5, 2·5/(400²·0.01) = 0.00625, ln(√5/0.05) =
     * ln(44.72136) = 3.800451, product 0.02375282, root 0.1541195. Radius 3.055050·0.1541195 =
     * 0.470843, interval 0.30 ± 0.470843.
     *
     * <p>Any allocation (α/2 = 0.025 per arm): arm 1, x = 4, 2·4/(300²·0.01) = 0.00888889,
     * ln(2/0.025) = ln 80 = 4.382027, product 0.03895135, root 0.1973610, times s₁ = 2: 0.3947219;
     * arm 2, x = 2, 2·2/(100²·0.01) = 0.04, ln(√2/0.025) = ln(56.56854) = 4.035453, product
     * 0.1614181, root 0.4017687. Radius 0.3947219 + 0.4017687 = 0.7964906.
     */
    @Test
    void intervalsMatchTheFormulaComputedByHand() {
        TwoSampleConfidenceSequence cs = TwoSampleConfidenceSequence.withRhoSquared(0.01, 0.05);
        Interval pooled = cs.interval(300, 1.30, 4.0, 100, 1.00, 1.0);
        assertEquals(0.30 - 0.470843, pooled.low(), 1e-6);
        assertEquals(0.30 + 0.470843, pooled.high(), 1e-6);
        Interval any = cs.intervalUnderAnyAllocation(300, 1.30, 4.0, 100, 1.00, 1.0);
        assertEquals(0.30 - 0.7964906, any.low(), 1e-6);
        assertEquals(0.30 + 0.7964906, any.high(), 1e-6);
        assertEquals(
                pooled,
                cs.interval(new Estimate(300, 1.30, 4.0), new Estimate(100, 1.00, 1.0)),
                "the Estimate overload");
    }

    /**
     * The standard error against a published value: Student's sleep data taken as two independent
     * groups, R's {@code t.test(extra ~ group, data = sleep)} (Welch) prints "t = -1.8608, df =
     * 17.776", means 0.75 and 2.33. Welch's t is Δ̂ / √(s₁²/n₁ + s₂²/n₂), which the estimate's
     * √(variance / n) must reproduce.
     */
    @Test
    void standardErrorIsWelchsOnStudentsSleepData() {
        Estimate g1 = sampleEstimate(PairedTTestTest.SLEEP_GROUP_1);
        Estimate g2 = sampleEstimate(PairedTTestTest.SLEEP_GROUP_2);
        assertEquals(0.75, g1.mean(), 1e-12);
        assertEquals(2.33, g2.mean(), 1e-12);
        Estimate d = TwoSampleConfidenceSequence.difference(g1, g2);
        assertEquals(20, d.n());
        assertEquals(-1.58, d.mean(), 1e-12);
        assertEquals(-1.8608, d.mean() / Math.sqrt(d.variance() / d.n()), 5e-5);
    }

    @Test
    void noIntervalBeforeTwoObservationsInEachArm() {
        TwoSampleConfidenceSequence cs = TwoSampleConfidenceSequence.tunedFor(1000, 0.05);
        assertEquals(Interval.ALL, cs.interval(1, 0.5, 0.0, 500, 0.4, 0.2));
        assertEquals(Interval.ALL, cs.interval(0, Double.NaN, Double.NaN, 500, 0.4, 0.2));
        assertEquals(Interval.ALL, cs.intervalUnderAnyAllocation(500, 0.4, 0.2, 1, 0.5, Double.NaN));
        assertTrue(Double.isNaN(
                TwoSampleConfidenceSequence.difference(0, 0, 0, 3, 1, 1).mean()));
    }

    // ---------------------------------------------------------------- simulation

    private static final int STREAMS = 2000;
    private static final int UNITS = 4000;
    private static final int LOOK_EVERY = 10;
    private static final int FIRST_LOOK = 300;

    /**
     * Time-uniform coverage under continuous peeking, measured. 2000 streams of 4000 units with equal
     * arm means (true Δ = 0) and unequal, skewed arms: arm 1 is 2·Exp(1) (mean 2, sd 2), arm 2 is
     * N(2, 1). Each unit goes to arm 1 with probability 0.3. Both intervals are checked after every
     * 10 units from unit 300 on (about 90 in arm 1); a stream errs if Δ = 0 is ever outside. The
     * fraction of erring streams must be at most α plus three binomial standard errors
     * (√(0.05·0.95/2000) = 0.0049).
     */
    @Test
    void coversTheDifferenceAtAllTimesUnderAFixedSplit() {
        double alpha = 0.05;
        double[] rates = simulate(alpha, 0.0, unit -> 0.3, 42);
        double allowance = alpha + 3 * Math.sqrt(alpha * (1 - alpha) / STREAMS);
        assertTrue(rates[0] <= allowance, "fixed split: miss rate " + rates[0]);
        assertTrue(rates[1] <= allowance, "any allocation: miss rate " + rates[1]);
    }

    /**
     * The same under a ramp-up, outside the fixed-split interval's assumption: arm 1 gets 5 % of the
     * first 1000 units (about 15 of them at the first look), then 50 %. The union-bound interval must
     * keep its level.
     */
    @Test
    void theAnyAllocationIntervalCoversUnderARampUp() {
        double alpha = 0.05;
        double[] rates = simulate(alpha, 0.0, unit -> unit < 1000 ? 0.05 : 0.5, 7);
        double allowance = alpha + 3 * Math.sqrt(alpha * (1 - alpha) / STREAMS);
        assertTrue(rates[1] <= allowance, "ramp, any allocation: miss rate " + rates[1]);
    }

    /**
     * Power: the same arms with arm 1 shifted up by 0.6 (Δ = 0.6, about a third of arm 1's standard
     * deviation). Every one of 200 streams must end with both intervals strictly above 0, and none may
     * ever lie below 0.
     */
    @Test
    void detectsARealDifference() {
        TwoSampleConfidenceSequence cs = TwoSampleConfidenceSequence.tunedFor(1000, 0.05);
        SplittableRandom random = new SplittableRandom(11);
        for (int s = 0; s < 200; s++) {
            Arms arms = new Arms();
            for (int unit = 1; unit <= UNITS; unit++) {
                arms.add(random, 0.6, 0.3);
                if (unit >= FIRST_LOOK && unit % LOOK_EVERY == 0) {
                    assertTrue(
                            !arms.pooled(cs).below(0) && !arms.anyAllocation(cs).below(0), "wrong sign");
                }
            }
            assertTrue(arms.pooled(cs).above(0), "stream " + s + ": " + arms.pooled(cs));
            assertTrue(arms.anyAllocation(cs).above(0), "stream " + s + ": " + arms.anyAllocation(cs));
        }
    }

    /** Fractions of streams whose fixed-split and any-allocation intervals ever miss the true Δ. */
    private static double[] simulate(
            double alpha, double delta, java.util.function.IntToDoubleFunction split, long seed) {
        TwoSampleConfidenceSequence cs = TwoSampleConfidenceSequence.tunedFor(1000, alpha);
        SplittableRandom random = new SplittableRandom(seed);
        int pooledMisses = 0;
        int anyMisses = 0;
        for (int s = 0; s < STREAMS; s++) {
            Arms arms = new Arms();
            boolean pooledMissed = false;
            boolean anyMissed = false;
            for (int unit = 1; unit <= UNITS; unit++) {
                arms.add(random, delta, split.applyAsDouble(unit));
                if (unit >= FIRST_LOOK && unit % LOOK_EVERY == 0) {
                    pooledMissed |= !arms.pooled(cs).contains(delta);
                    anyMissed |= !arms.anyAllocation(cs).contains(delta);
                }
            }
            pooledMisses += pooledMissed ? 1 : 0;
            anyMisses += anyMissed ? 1 : 0;
        }
        return new double[] {(double) pooledMisses / STREAMS, (double) anyMisses / STREAMS};
    }

    /** Running count, mean and M2 (Welford) of each arm: arm 1 is 2·Exp(1) + delta, arm 2 is N(2, 1). */
    private static final class Arms {
        final long[] n = new long[2];
        final double[] mean = new double[2];
        final double[] m2 = new double[2];

        void add(SplittableRandom random, double delta, double probabilityArm1) {
            int arm = random.nextDouble() < probabilityArm1 ? 0 : 1;
            double x = arm == 0 ? delta - 2 * Math.log(1 - random.nextDouble()) : 2 + random.nextGaussian();
            n[arm]++;
            double d = x - mean[arm];
            mean[arm] += d / n[arm];
            m2[arm] += d * (x - mean[arm]);
        }

        double variance(int arm) {
            return n[arm] < 2 ? Double.NaN : m2[arm] / (n[arm] - 1);
        }

        Interval pooled(TwoSampleConfidenceSequence cs) {
            return cs.interval(n[0], mean[0], variance(0), n[1], mean[1], variance(1));
        }

        Interval anyAllocation(TwoSampleConfidenceSequence cs) {
            return cs.intervalUnderAnyAllocation(n[0], mean[0], variance(0), n[1], mean[1], variance(1));
        }
    }

    private static Estimate sampleEstimate(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        return new Estimate(x.length, mean, ss / (x.length - 1));
    }
}
