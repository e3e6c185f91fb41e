package io.shadowml.stats;

import org.apache.commons.math3.special.Beta;

/**
 * An anytime-valid sign test: are successes and failures equally likely (H0: p = ½)? Applied to the
 * discordant pairs of a paired comparison it is a sequential McNemar test: c = pairs only the candidate
 * got right, b = pairs only the live model got right.
 *
 * <p>The e-value is the likelihood ratio of a Beta(a, a) mixture of Bernoulli(p) alternatives against
 * p = ½ (Robbins' mixture; the Beta-binomial case of Lindon and Malek, "Anytime-valid inference for
 * multinomial count data", NeurIPS 2022):
 *
 * <pre>
 *   Eₙ = B(a + c, a + b) / B(a, a) · 2^(b + c),      n = b + c
 * </pre>
 *
 * It is a nonnegative martingale with mean 1 under H0, so by Ville's inequality
 * P(Eₙ ≥ 1/α for some n) ≤ α: rejecting H0 the first time Eₙ ≥ 1/α is valid however often one looks.
 * The symmetric prior makes the test two-sided; the sign of c − b tells the direction. 1 / maxₛ≤ₙ Eₛ
 * is the always-valid p-value ({@link EValues#alwaysValidPValue}).
 *
 * <p>The prior concentration {@code a} trades early power against power for small effects: the prior
 * puts its mass on |p − ½| of about 1/(2√(2a + 1)). {@link #concentrationFor} picks a for a number of
 * discordant pairs.
 */
public final class SequentialSignTest {
    private SequentialSignTest() {}

    /** ln Eₙ for {@code successes} (c) and {@code failures} (b) under a Beta(a, a) mixture, a &gt; 0. */
    public static double logEValue(long successes, long failures, double a) {
        if (successes < 0 || failures < 0) {
            throw new IllegalArgumentException("negative counts: " + successes + ", " + failures);
        }
        if (!(a > 0) || Double.isInfinite(a)) {
            throw new IllegalArgumentException("a must be positive and finite, was " + a);
        }
        return Beta.logBeta(a + successes, a + failures) - Beta.logBeta(a, a) + (successes + failures) * Math.log(2);
    }

    /**
     * A concentration tuned for about {@code discordantPairs} pairs: the prior's standard deviation of
     * p, 1/(2√(2a + 1)), is set to √(ln(1/α) / (2n)), the spread of the normal mixture that is optimal
     * at n for the ±1 increments (see {@link AsymptoticConfidenceSequence}, ρ² ≈ 2 ln(1/α) / n on the
     * drift 2p − 1). That is a = (n / (2 ln(1/α)) − 1) / 2, at least ½ (Jeffreys).
     */
    public static double concentrationFor(long discordantPairs, double alpha) {
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), was " + alpha);
        }
        double a = (discordantPairs / (2 * Math.log(1 / alpha)) - 1) / 2;
        return Math.max(0.5, a);
    }
}
