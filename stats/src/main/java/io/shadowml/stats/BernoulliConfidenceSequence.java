package io.shadowml.stats;

import org.apache.commons.math3.special.Beta;

/**
 * An anytime-valid confidence sequence for a rate (the success probability p of i.i.d. Bernoulli
 * trials), from Robbins' Beta-binomial mixture: after k successes in n trials,
 *
 * <pre>
 *   Eₙ(p₀) = B(k + a, n − k + b) / B(a, b) / ( p₀^k (1 − p₀)^(n−k) )
 * </pre>
 *
 * is a nonnegative martingale with mean 1 when p = p₀, so {p₀ : Eₙ(p₀) &lt; 1/α} covers the true p at
 * every n simultaneously with probability ≥ 1 − α (Ville's inequality; Robbins, "Statistical methods
 * related to the law of the iterated logarithm", Ann. Math. Statist. 41(5), 1970; Howard et al. 2021,
 * Section 3). ln Eₙ is convex in p₀, so the set is an interval around the maximum-likelihood k/n, found
 * here by bisection on each side. Because it covers the true p at all n, "the lower bound exceeds a
 * threshold" is a valid test of p ≤ threshold however often it is checked.
 *
 * <p>The prior Beta(a, b) defaults to Jeffreys' Beta(½, ½), whose density grows towards 0 and 1, where
 * the rates this is used for (model error rates) live.
 */
public final class BernoulliConfidenceSequence {
    private static final int BISECTION_STEPS = 100;

    private final double alpha;
    private final double a;
    private final double b;

    public BernoulliConfidenceSequence(double alpha) {
        this(alpha, 0.5, 0.5);
    }

    public BernoulliConfidenceSequence(double alpha, double a, double b) {
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), was " + alpha);
        }
        if (!(a > 0) || !(b > 0) || Double.isInfinite(a) || Double.isInfinite(b)) {
            throw new IllegalArgumentException("prior parameters must be positive and finite: " + a + ", " + b);
        }
        this.alpha = alpha;
        this.a = a;
        this.b = b;
    }

    /** ln Eₙ(p₀): the evidence against p = p₀ after k successes in n trials. */
    public double logEValue(long k, long n, double p0) {
        checkCounts(k, n);
        if (!(p0 >= 0 && p0 <= 1)) {
            throw new IllegalArgumentException("p0 must be in [0, 1], was " + p0);
        }
        double logLikelihood = (k == 0 ? 0 : k * Math.log(p0)) + (n - k == 0 ? 0 : (n - k) * Math.log1p(-p0));
        return Beta.logBeta(k + a, n - k + b) - Beta.logBeta(a, b) - logLikelihood;
    }

    /** The interval of rates not rejected after k successes in n trials ([0, 1] for n = 0). */
    public Interval interval(long k, long n) {
        checkCounts(k, n);
        if (n == 0) {
            return new Interval(0, 1);
        }
        double threshold = Math.log(1 / alpha);
        double mle = (double) k / n;
        double low = logEValue(k, n, 0) < threshold ? 0 : boundary(k, n, 0, mle, threshold);
        double high = logEValue(k, n, 1) < threshold ? 1 : boundary(k, n, 1, mle, threshold);
        return new Interval(low, high);
    }

    /** Bisection between a rejected end {@code out} and the unrejected {@code in}; returns the inner side. */
    private double boundary(long k, long n, double out, double in, double threshold) {
        for (int i = 0; i < BISECTION_STEPS; i++) {
            double mid = (out + in) / 2;
            if (logEValue(k, n, mid) >= threshold) {
                out = mid;
            } else {
                in = mid;
            }
        }
        return in;
    }

    public double alpha() {
        return alpha;
    }

    private static void checkCounts(long k, long n) {
        if (k < 0 || n < 0 || k > n) {
            throw new IllegalArgumentException("need 0 <= k <= n, was k=" + k + " n=" + n);
        }
    }
}
