package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class AsymptoticConfidenceSequenceTest {

    /**
     * The R implementation accompanying Waudby-Smith et al. (2024), std_conjmix_margin(t, rho2, alpha) =
     * sqrt(2 (t rho2 + 1) log(sqrt(t rho2 + 1) / alpha) / (t^2 rho2)), evaluated by hand at t = 100,
     * rho2 = 0.1, alpha = 0.05: x = 11, 2·11/(10⁴·0.1) = 0.022, ln(√11 / 0.05) = ln(66.3325) = 4.194681,
     * product 0.0922830, root 0.303781.
     */
    @Test
    void radiusMatchesTheReferenceMarginComputedByHand() {
        AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.withRhoSquared(0.1, 0.05);
        assertEquals(0.303781, cs.unitRadius(100), 1e-6);
        assertEquals(2 * 0.303781, cs.radius(100, 2.0), 2e-6);
    }

    /**
     * The radius is where Robbins' Gaussian mixture martingale
     * M = (1 + nρ²)^(-1/2) · exp(ρ² S² / (2 (1 + nρ²))), S = n · radius (unit variance), reaches 1/α:
     * an independent characterisation of the boundary.
     */
    @Test
    void atTheRadiusTheMixtureMartingaleEqualsOneOverAlpha() {
        for (double alpha : new double[] {0.1, 0.05, 0.0125, 1e-4}) {
            for (double rho2 : new double[] {1e-5, 1e-3, 0.5}) {
                AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.withRhoSquared(rho2, alpha);
                for (long n : new long[] {2, 17, 1000, 123_456}) {
                    double s = n * cs.unitRadius(n);
                    double logM = -0.5 * Math.log1p(n * rho2) + rho2 * s * s / (2 * (1 + n * rho2));
                    assertEquals(Math.log(1 / alpha), logM, 1e-9, "alpha=" + alpha + " rho2=" + rho2 + " n=" + n);
                }
            }
        }
    }

    @Test
    void tunedRhoMinimisesTheRadiusAtTheTuningSampleSize() {
        for (double alpha : new double[] {0.05, 0.01, 0.0125}) {
            long nStar = 10_000;
            AsymptoticConfidenceSequence tuned = AsymptoticConfidenceSequence.tunedFor(nStar, alpha);
            double best = tuned.unitRadius(nStar);
            // Brute force over a fine log grid of rho².
            for (double log10 = -8; log10 <= 0; log10 += 0.001) {
                double other = AsymptoticConfidenceSequence.withRhoSquared(Math.pow(10, log10), alpha)
                        .unitRadius(nStar);
                assertTrue(other >= best * (1 - 1e-12), "rho2=1e" + log10 + " gives " + other + " < " + best);
            }
        }
    }

    @Test
    void theLambertRootSolvesItsEquation() {
        for (double c : new double[] {1.5, 3, 7.0, 19.4, 60}) {
            double x = AsymptoticConfidenceSequence.solveXMinusLogX(c);
            assertEquals(c, x - Math.log(x), 1e-12);
            assertTrue(x > 1);
        }
    }

    @Test
    void atTheTuningSizeTheWidthIsAboutOnePointFiveFiveTimesTheFixedSampleInterval() {
        AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(10_000, 0.05);
        assertEquals(1.5486, cs.unitRadius(10_000) * Math.sqrt(10_000) / 1.959964, 1e-3);
    }

    @Test
    void beforeTwoObservationsThereIsNoInterval() {
        AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(1000, 0.05);
        assertEquals(Interval.ALL, cs.interval(1, 0.3, 0.0));
        assertEquals(Interval.ALL, cs.interval(0, Double.NaN, Double.NaN));
    }

    @Test
    void sampleSizeForAnEffectIsTheFirstNWhoseRadiusIsSmallEnough() {
        AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(5000, 0.025);
        double sd = 0.9;
        double effect = 0.04;
        long n = cs.sampleSizeFor(effect, sd, 2);
        assertTrue(cs.radius(n, sd) <= effect);
        assertTrue(cs.radius(n - 1, sd) > effect);
        assertEquals(n, cs.sampleSizeFor(effect, sd, 100));
        assertEquals(Long.MAX_VALUE, cs.sampleSizeFor(0, sd, 2));
    }

    /**
     * Time-uniform coverage, measured: 2000 streams of 5000 observations (skewed: exponential, and
     * Bernoulli(0.1)), the interval checked after every observation from n = 500 on. The fraction of
     * streams where the true mean is ever outside must be at most alpha, within three binomial standard
     * errors. The guarantee is asymptotic: checked from n = 30 on, the Bernoulli(0.1) streams miss 10 %
     * of the time (a run of early zeros has sample variance 0), which is why the verdict waits for
     * min_labelled_pairs.
     */
    @Test
    void coversTheMeanAtAllTimesWithProbabilityAtLeastOneMinusAlpha() {
        double alpha = 0.05;
        AsymptoticConfidenceSequence cs = AsymptoticConfidenceSequence.tunedFor(1000, alpha);
        SplittableRandom random = new SplittableRandom(42);
        int streams = 2000;
        for (int dist = 0; dist < 2; dist++) {
            double trueMean = dist == 0 ? 1.0 : 0.1;
            int misses = 0;
            for (int s = 0; s < streams; s++) {
                double mean = 0;
                double m2 = 0;
                boolean missed = false;
                for (int n = 1; n <= 5000 && !missed; n++) {
                    double x = dist == 0 ? -Math.log(1 - random.nextDouble()) : (random.nextDouble() < 0.1 ? 1 : 0);
                    double delta = x - mean;
                    mean += delta / n;
                    m2 += delta * (x - mean);
                    if (n >= 500) {
                        missed = !cs.interval(n, mean, m2 / (n - 1)).contains(trueMean);
                    }
                }
                if (missed) {
                    misses++;
                }
            }
            double rate = (double) misses / streams;
            double se = Math.sqrt(alpha * (1 - alpha) / streams);
            assertTrue(rate <= alpha + 3 * se, "distribution " + dist + ": miss rate " + rate);
        }
    }
}
