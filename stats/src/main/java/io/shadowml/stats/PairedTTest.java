package io.shadowml.stats;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Student's paired t-test and interval on n per-pair differences dᵢ with mean d̄ and sample variance
 * s² (n − 1 denominator):
 *
 * <pre>
 *   interval:  d̄ ± t₁₋α/₂,ₙ₋₁ · s / √n
 *   statistic: t = d̄ / (s / √n),   two-sided p = 2 · P[Tₙ₋₁ &gt; |t|]
 * </pre>
 *
 * with t₁₋α/₂,ₙ₋₁ the quantile of Student's t distribution with n − 1 degrees of freedom (Student,
 * "The probable error of a mean", Biometrika 6(1), 1908). Exact for normal differences, and
 * asymptotically valid for any i.i.d. differences with finite variance. A fixed-sample interval: it covers
 * the mean with probability 1 − α at one sample size fixed in advance, not at every n of a stream
 * that is looked at repeatedly; for that use {@link AsymptoticConfidenceSequence}.
 */
public final class PairedTTest {
    private PairedTTest() {}

    /**
     * The half-width t₁₋α/₂,ₙ₋₁ · √(variance / n); +∞ below two pairs, NaN when the variance is.
     *
     * @param alpha one minus the confidence level, in (0, 1): 0.05 for a 95% interval
     */
    public static double radius(long n, double variance, double alpha) {
        checkAlpha(alpha);
        if (variance < 0) {
            throw new IllegalArgumentException("variance must be >= 0, was " + variance);
        }
        if (n < 2) {
            return Double.POSITIVE_INFINITY;
        }
        double t = new TDistribution(null, n - 1.0).inverseCumulativeProbability(1 - alpha / 2);
        return t * Math.sqrt(variance / n);
    }

    /**
     * The interval d̄ ± {@link #radius}; {@link Interval#ALL} below two pairs or when the mean or
     * variance is NaN.
     */
    public static Interval interval(long n, double mean, double variance, double alpha) {
        if (n < 2 || Double.isNaN(mean) || Double.isNaN(variance)) {
            checkAlpha(alpha);
            return Interval.ALL;
        }
        return Interval.around(mean, radius(n, variance, alpha));
    }

    /** {@link #interval(long, double, double, double)} of the estimate's n, mean and variance. */
    public static Interval interval(Estimate differences, double alpha) {
        return interval(differences.n(), differences.mean(), differences.variance(), alpha);
    }

    /**
     * Two-sided p-value of H0: the mean difference is 0; NaN below two pairs. The tail is computed
     * as 2·P[Tₙ₋₁ ≤ −|t|], without the cancellation of 1 − CDF. A zero variance gives 1 for a zero
     * mean and 0 otherwise.
     */
    public static double pValue(long n, double mean, double variance) {
        if (variance < 0) {
            throw new IllegalArgumentException("variance must be >= 0, was " + variance);
        }
        if (n < 2 || Double.isNaN(mean) || Double.isNaN(variance)) {
            return Double.NaN;
        }
        if (variance == 0) {
            return mean == 0 ? 1.0 : 0.0;
        }
        double t = mean / Math.sqrt(variance / n);
        return Math.min(1.0, 2 * new TDistribution(null, n - 1.0).cumulativeProbability(-Math.abs(t)));
    }

    private static void checkAlpha(double alpha) {
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), was " + alpha);
        }
    }
}
