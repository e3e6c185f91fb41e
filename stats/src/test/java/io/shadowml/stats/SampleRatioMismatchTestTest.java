package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.apache.commons.math3.analysis.UnivariateFunction;
import org.apache.commons.math3.analysis.integration.IterativeLegendreGaussIntegrator;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.util.CombinatoricsUtils;
import org.junit.jupiter.api.Test;

class SampleRatioMismatchTestTest {

    // ---------------------------------------------------------------- published values

    /**
     * ssrm's regression test (github.com/optimizely/ssrm, commit c44f538,
     * {@code ssrm_test/test_ssrm_test.py} lines 242–259, {@code test_regression}): null shares
     * [0.1, 0.5, 0.4], the default prior, ten unit-level assignments drawn with
     * {@code np.random.seed(0); multinomial.rvs(1, [0.1, 0.49, 0.41], size=10)}. Published: last
     * Bayes factor 1.0017496120131435, last sequential p-value (min over the ten looks of 1/BF)
     * 0.9980534145723241, last posterior probability (prior odds 1) 0.5004370206949569 = BF/(1 + BF).
     * The ten rows are not in the test file; they were regenerated with numpy's legacy RandomState
     * stream (frozen across numpy versions; numpy 2.4.6, scipy 1.17.1): arms 2, 2, 2, 2, 0, 2, 2, 0,
     * 1, 2 (final counts [2, 1, 7]).
     */
    @Test
    void reproducesSsrmRegressionTest() {
        int[] arms = {2, 2, 2, 2, 0, 2, 2, 0, 1, 2};
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(new double[] {0.1, 0.5, 0.4}, 0.05);
        long[] counts = new long[3];
        double pValue = 1;
        for (int arm : arms) {
            counts[arm]++;
            pValue = Math.min(pValue, 1 / test.eValue(counts));
        }
        assertEquals(1.0017496120131435, test.eValue(counts), 1e-10);
        assertEquals(0.9980534145723241, pValue, 1e-10);
        double bf = test.eValue(counts);
        assertEquals(0.5004370206949569, bf / (1 + bf), 1e-10);
        assertFalse(test.mismatch(counts));
    }

    /**
     * ssrm's {@code test_sequential_posteriors} (same file, lines 94–199): null [0.4, 0.4, 0.2], prior
     * Dirichlet(1, 1, 1) ({@code dirichlet_probability=[1, 1, 1]}, {@code dirichlet_concentration=1};
     * not of the form c · p, hence the package-private {@code logBayesFactor}). The published log
     * marginal likelihoods under M1 and M0 after each look; ln BF is their difference. Unit-level
     * data [1,0,0], [0,1,0], [1,0,0], [0,1,0], [0,0,1] (lines 96–128) and time-aggregated batches
     * [20,17,9], [18,21,8], [4,6,4], [18,19,11] (lines 152–185), here as cumulative counts.
     */
    @Test
    void reproducesSsrmSequentialPosteriorsTest() {
        double[] p = {0.4, 0.4, 0.2};
        double[] a = {1, 1, 1};
        long[][] cumulative = {
            {1, 0, 0}, {1, 1, 0}, {2, 1, 0}, {2, 2, 0}, {2, 2, 1}, {20, 17, 9}, {38, 38, 17}, {42, 44, 21}, {60, 63, 32}
        };
        double[][] published = { // {log marginal likelihood M1, log marginal likelihood M0}
            {-1.0986122886681096, -0.916290731874155},
            {-2.4849066497880004, -1.83258146374831},
            {-3.401197381662155, -2.748872195622465},
            {-4.499809670330265, -3.66516292749662},
            {-6.4457198193855785, -5.27460083993072},
            {-7.028201432058012, -4.0776406466061985},
            {-11.947847738358888, -8.265946861099877},
            {-15.471401950257842, -11.610743519545139},
            {-19.96484521090386, -15.781031228536165},
        };
        for (int i = 0; i < cumulative.length; i++) {
            assertEquals(
                    published[i][0] - published[i][1],
                    SampleRatioMismatchTest.logBayesFactor(cumulative[i], p, a),
                    1e-12,
                    Arrays.toString(cumulative[i]));
        }
    }

    /**
     * By hand: with p = (⅓, ⅓, ⅓) and c = 3 the prior is Dirichlet(1, 1, 1), whose probability of a
     * given sequence is 2! ∏ nᵢ! / (n + 2)!. For counts (2, 1, 0): 2 · 2 / 5! = 1/30, against
     * (⅓)³ = 1/27 under H0, so E = 27/30 = 0.9. For (5, 0, 0): 2 · 120 / 7! = 1/21, E = 243/21.
     */
    @Test
    void uniformPriorMatchesHandArithmetic() {
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(new double[] {1, 1, 1}, 0.05, 3);
        assertEquals(0.9, test.eValue(new long[] {2, 1, 0}), 1e-13);
        assertEquals(243.0 / 21, test.eValue(new long[] {5, 0, 0}), 1e-11);
        assertEquals(243.0 / 21, test.eValue(new long[] {0, 0, 5}), 1e-11);
    }

    // ---------------------------------------------------------------- brute force

    /**
     * Two arms: the Dirichlet is a Beta(a₁, a₂), and the probability of a sequence with counts
     * (n₁, n₂) is ∫ θ^(a₁+n₁−1) (1−θ)^(a₂+n₂−1) dθ / ∫ θ^(a₁−1) (1−θ)^(a₂−1) dθ, both integrals
     * computed numerically (Gauss–Legendre), then divided by p₁^n₁ p₂^n₂. Non-integer prior.
     */
    @Test
    void twoArmsMatchANumericalIntegralOverTheBetaPrior() {
        double[] shares = {0.3, 0.7};
        double c = 11;
        double a1 = c * 0.3;
        double a2 = c * 0.7;
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(shares, 0.05, c);
        long[][] cases = {{4, 2}, {0, 9}, {13, 5}, {1, 0}};
        for (long[] n : cases) {
            double num = integrate(t -> Math.pow(t, a1 + n[0] - 1) * Math.pow(1 - t, a2 + n[1] - 1), 0, 1);
            double den = integrate(t -> Math.pow(t, a1 - 1) * Math.pow(1 - t, a2 - 1), 0, 1);
            double expected = Math.log(num / den) - n[0] * Math.log(0.3) - n[1] * Math.log(0.7);
            assertEquals(expected, test.logEValue(n), 1e-9, Arrays.toString(n));
        }
    }

    /**
     * Three arms: the same with a double integral over the simplex θ₁ + θ₂ ≤ 1 of
     * θ₁^(a₁+n₁−1) θ₂^(a₂+n₂−1) (1−θ₁−θ₂)^(a₃+n₃−1), normalised by the same integral at n = 0.
     */
    @Test
    void threeArmsMatchANumericalIntegralOverTheSimplex() {
        double[] shares = {0.45, 0.35, 0.2};
        double c = 10;
        double[] a = {4.5, 3.5, 2};
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(shares, 0.05, c);
        long[][] cases = {{1, 4, 2}, {6, 0, 1}, {0, 0, 3}};
        double den = simplexIntegral(a, new long[3]);
        for (long[] n : cases) {
            double expected = Math.log(simplexIntegral(a, n) / den);
            for (int i = 0; i < 3; i++) {
                expected -= n[i] * Math.log(shares[i]);
            }
            assertEquals(expected, test.logEValue(n), 1e-8, Arrays.toString(n));
        }
    }

    private static double simplexIntegral(double[] a, long[] n) {
        return integrate(
                t1 -> integrate(
                        t2 -> Math.pow(t1, a[0] + n[0] - 1)
                                * Math.pow(t2, a[1] + n[1] - 1)
                                * Math.pow(Math.max(0, 1 - t1 - t2), a[2] + n[2] - 1),
                        0,
                        1 - t1),
                0,
                1);
    }

    private static double integrate(UnivariateFunction f, double lo, double hi) {
        if (hi <= lo) {
            return 0;
        }
        return new IterativeLegendreGaussIntegrator(16, 1e-13, 1e-15).integrate(10_000_000, f, lo, hi);
    }

    /**
     * The Pólya-urn chain rule, with no Gamma function: the mixture's probability of the next request
     * going to arm i is (aᵢ + nᵢ) / (A + n), so ln Eₙ is the running sum of
     * ln((aᵢ + nᵢ)/(A + n)) − ln pᵢ over the requests. 20 000 requests at the default prior,
     * 90/10 shares drawn at 89/11, compared at every 1 000.
     */
    @Test
    void matchesThePolyaUrnProductOverASequence() {
        double[] shares = {0.9, 0.1};
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(shares, 0.05);
        double[] a = {9000, 1000};
        SplittableRandom random = new SplittableRandom(3);
        long[] counts = new long[2];
        double log = 0;
        for (int t = 1; t <= 20_000; t++) {
            int arm = random.nextDouble() < 0.89 ? 0 : 1;
            log += Math.log((a[arm] + counts[arm]) / (10_000.0 + t - 1)) - Math.log(shares[arm]);
            counts[arm]++;
            if (t % 1000 == 0) {
                assertEquals(log, test.logEValue(counts), 1e-8 * Math.max(1, Math.abs(log)), "t = " + t);
            }
        }
    }

    /**
     * The e-value has expectation exactly 1 under H0 at any fixed n: Σ over all count vectors of the
     * multinomial probability times Eₙ. Two arms (binomial pmf from commons-math, n = 200) and three
     * arms (multinomial pmf by hand, n = 40).
     */
    @Test
    void hasExpectationOneUnderTheNull() {
        SampleRatioMismatchTest two = new SampleRatioMismatchTest(new double[] {0.9, 0.1}, 0.05, 50);
        BinomialDistribution binomial = new BinomialDistribution(null, 200, 0.9);
        double sum = 0;
        for (int k = 0; k <= 200; k++) {
            sum += binomial.probability(k) * two.eValue(new long[] {k, 200 - k});
        }
        assertEquals(1.0, sum, 1e-10);

        double[] p = {0.5, 0.3, 0.2};
        SampleRatioMismatchTest three = new SampleRatioMismatchTest(p, 0.05, 7);
        int n = 40;
        sum = 0;
        for (int k1 = 0; k1 <= n; k1++) {
            for (int k2 = 0; k1 + k2 <= n; k2++) {
                int k3 = n - k1 - k2;
                double logPmf = CombinatoricsUtils.factorialLog(n)
                        - CombinatoricsUtils.factorialLog(k1)
                        - CombinatoricsUtils.factorialLog(k2)
                        - CombinatoricsUtils.factorialLog(k3)
                        + k1 * Math.log(p[0])
                        + k2 * Math.log(p[1])
                        + k3 * Math.log(p[2]);
                sum += Math.exp(logPmf + three.logEValue(new long[] {k1, k2, k3}));
            }
        }
        assertEquals(1.0, sum, 1e-10);
    }

    // ---------------------------------------------------------------- properties

    @Test
    void zeroCountsGiveOneAndSharesAreNormalised() {
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(new double[] {9, 1}, 0.05);
        assertEquals(0.0, test.logEValue(new long[] {0, 0}));
        assertEquals(1.0, test.eValue(new long[] {0, 0}));
        SampleRatioMismatchTest normalised = new SampleRatioMismatchTest(new double[] {0.9, 0.1}, 0.05);
        assertEquals(normalised.logEValue(new long[] {880, 120}), test.logEValue(new long[] {880, 120}), 1e-12);
        assertEquals(20.0, test.threshold(), 1e-12);
        assertEquals(0.05, test.alpha());
    }

    @Test
    void hugeImbalanceGivesAnInfiniteEValueAndAMismatch() {
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(new double[] {1, 1}, 0.01);
        long[] counts = {1_000_000_000L, 0};
        assertTrue(test.logEValue(counts) > 6e8);
        assertEquals(Double.POSITIVE_INFINITY, test.eValue(counts));
        assertTrue(test.mismatch(counts));
        assertFalse(test.mismatch(new long[] {50_000, 50_000}));
    }

    @Test
    void rejectsInvalidArguments() {
        double[] ok = {0.5, 0.5};
        assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(null, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(new double[] {1}, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(new double[] {1, 0}, 0.05));
        assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(new double[] {1, -1}, 0.05));
        assertThrows(
                IllegalArgumentException.class, () -> new SampleRatioMismatchTest(new double[] {1, Double.NaN}, 0.05));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SampleRatioMismatchTest(new double[] {1, Double.POSITIVE_INFINITY}, 0.05));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SampleRatioMismatchTest(new double[] {Double.MAX_VALUE, Double.MAX_VALUE}, 0.05));
        for (double alpha : new double[] {0, 1, -0.1, 1.5, Double.NaN}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(ok, alpha));
            assertTrue(e.getMessage().contains("alpha"), e.getMessage());
        }
        for (double c : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> new SampleRatioMismatchTest(ok, 0.05, c));
            assertTrue(e.getMessage().contains("priorConcentration"), e.getMessage());
        }
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(ok, 0.05);
        IllegalArgumentException length =
                assertThrows(IllegalArgumentException.class, () -> test.logEValue(new long[] {1, 2, 3}));
        assertTrue(length.getMessage().contains("3 arms"), length.getMessage());
        assertThrows(IllegalArgumentException.class, () -> test.logEValue(null));
        assertThrows(IllegalArgumentException.class, () -> test.eValue(new long[] {5, -1}));
        assertThrows(IllegalArgumentException.class, () -> test.mismatch(new long[] {Long.MAX_VALUE, 1}));
    }

    // ---------------------------------------------------------------- simulation

    /**
     * False alarms under continuous monitoring, measured (A/A: traffic really follows the configured
     * shares). 2000 experiments of 20 000 requests each, default prior, α = 0.05, the test checked
     * after every batch of 100 requests; the share of experiments ever flagged must be at most α.
     */
    @Test
    void aaExperimentsAreFlaggedAtMostAlphaOfTheTime() {
        double alpha = 0.05;
        for (double[] shares : new double[][] {{0.5, 0.5}, {0.9, 0.1}}) {
            SampleRatioMismatchTest test = new SampleRatioMismatchTest(shares, alpha);
            SplittableRandom random = new SplittableRandom(2024);
            int experiments = 2000;
            int flagged = 0;
            for (int e = 0; e < experiments; e++) {
                if (firstDetection(test, shares[0], 20_000, 100, random) > 0) {
                    flagged++;
                }
            }
            double rate = (double) flagged / experiments;
            System.out.printf(
                    "SRM A/A %s: flagged in %d of %d experiments (rate %.4f, alpha %.2f)%n",
                    Arrays.toString(shares), flagged, experiments, rate, alpha);
            assertTrue(rate <= alpha, "false-alarm rate " + rate + " for " + Arrays.toString(shares));
        }
    }

    /**
     * Power, measured: 500 experiments each, default prior, α = 0.05, checked after every 100
     * requests. A 48/52 split against a configured 50/50 must be flagged by 50 000 requests in at
     * least 90% of them; so must 88/12 against a configured 90/10 by {@link #POWER_N_88_12}. Measured
     * (seeds 11 and 13): 48/52 flagged in 500 of 500 by 50 000, median n at detection 8 500, 90% by
     * 13 500; 88/12 flagged in 497 of 500 by 10 000, median 4 500, 90% by 6 700.
     */
    @Test
    void detectsSmallMismatches() {
        assertPower(new double[] {0.5, 0.5}, 0.48, 50_000, 11);
        assertPower(new double[] {0.9, 0.1}, 0.88, POWER_N_88_12, 13);
    }

    /**
     * 10 000 requests: in the measured run 90% of the 88/12 experiments were flagged by 6 700 and the
     * median by 4 500 (an independent numpy simulation of 2000 experiments gave power 0.997 at 10 000).
     */
    private static final int POWER_N_88_12 = 10_000;

    private static void assertPower(double[] shares, double trueFirstShare, int maxN, long seed) {
        SampleRatioMismatchTest test = new SampleRatioMismatchTest(shares, 0.05);
        SplittableRandom random = new SplittableRandom(seed);
        int experiments = 500;
        long[] detectedAt = new long[experiments];
        int detected = 0;
        for (int e = 0; e < experiments; e++) {
            long at = firstDetection(test, trueFirstShare, maxN, 100, random);
            detectedAt[e] = at > 0 ? at : Long.MAX_VALUE;
            if (at > 0) {
                detected++;
            }
        }
        Arrays.sort(detectedAt);
        long median = detectedAt[experiments / 2];
        long ninetieth = detectedAt[(int) Math.ceil(0.9 * experiments) - 1];
        double power = (double) detected / experiments;
        System.out.printf(
                "SRM power, configured %s, true first share %.2f: flagged by n = %d in %d of %d (%.3f), "
                        + "median n at detection %s, 90%% flagged by n = %s%n",
                Arrays.toString(shares),
                trueFirstShare,
                maxN,
                detected,
                experiments,
                power,
                median == Long.MAX_VALUE ? "not reached" : Long.toString(median),
                ninetieth == Long.MAX_VALUE ? "not reached" : Long.toString(ninetieth));
        assertTrue(power >= 0.9, "power " + power);
    }

    /**
     * Sends up to {@code maxN} requests to arm 0 with probability {@code firstShare}, else arm 1,
     * checking after every {@code batch}; the number of requests at the first mismatch, or −1.
     */
    private static long firstDetection(
            SampleRatioMismatchTest test, double firstShare, int maxN, int batch, SplittableRandom random) {
        long[] counts = new long[2];
        for (int t = 1; t <= maxN; t++) {
            counts[random.nextDouble() < firstShare ? 0 : 1]++;
            if (t % batch == 0 && test.mismatch(counts)) {
                return t;
            }
        }
        return -1;
    }
}
