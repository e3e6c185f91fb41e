package io.shadowml.stats;

import org.apache.commons.math3.special.Gamma;

/**
 * An anytime-valid sample-ratio-mismatch (SRM) test: do the requests reaching each arm of an
 * experiment (live model, shadow candidates, canary…) still follow the configured traffic shares?
 * Each request goes to arm i with probability pᵢ under H0; the cumulative counts nᵢ (n = Σ nᵢ) are
 * tested after every window, for as long as the experiment runs.
 *
 * <p>The e-value is the Bayes factor of a Dirichlet(a₁, …, a_K) mixture of multinomial alternatives
 * against the point null p (Lindon and Malek, "Anytime-valid inference for multinomial count data",
 * NeurIPS 2022, arXiv:2011.03567, the sequential multinomial test; implemented in Optimizely's
 * {@code ssrm} package, github.com/optimizely/ssrm, {@code ssrm_test/ssrm_test.py}):
 *
 * <pre>
 *   ln Eₙ = ln Γ(A) − ln Γ(A + n) + Σᵢ [ ln Γ(aᵢ + nᵢ) − ln Γ(aᵢ) ] − Σᵢ nᵢ ln pᵢ,     A = Σᵢ aᵢ
 * </pre>
 *
 * the Dirichlet-multinomial probability of the observed sequence over its multinomial probability
 * ∏ pᵢ^nᵢ (the multinomial coefficients cancel). Under H0 it is a nonnegative martingale with
 * E = 1 in the number of requests, so by Ville's inequality P(Eₙ ≥ 1/α for some n) ≤ α: flagging a
 * mismatch the first time Eₙ ≥ 1/α is valid however often one looks and however long the experiment
 * runs. 1 / maxₛ≤ₙ Eₛ is the always-valid p-value ({@link EValues#alwaysValidPValue}); it is
 * {@code ssrm}'s {@code sequential_p_values} (ssrm_test.py line 102: p = min(1/BF, previous p)).
 * Eₙ depends on the counts only, not on their order, so counts summed over windows and partitions
 * (mergeable counters) are all it needs; they must be cumulative from the start of the experiment,
 * since restarting the count starts a new test with its own α.
 *
 * <p><b>Prior.</b> aᵢ = c · pᵢ: centred on the configured shares, with concentration c. Each share
 * then has prior variance pᵢ(1 − pᵢ)/(c + 1), so c sets the size of mismatch the test is tuned for:
 * the default c = 10 000 puts the prior standard deviation of a 50/50 share at 0.005 (half a
 * percentage point, 0.003 for a 90/10 share). In this module's simulations (α = 0.05, a look every
 * 100 requests) the default flagged a true 48/52 split of configured 50/50 traffic after a median
 * of 8 500 requests (90% by 13 500), and a true 88/12 of configured 90/10 after a median of 4 500
 * (90% by 6 700). The default is {@code ssrm}'s: {@code dirichlet_concentration=10000} with
 * {@code dirichlet_probability=None} meaning the null probabilities (ssrm_test.py, commit c44f538,
 * lines 173, 208, 250, 285 and 325–327; {@code srm_test} uses both defaults, line 376), so with the
 * default concentration the e-value equals {@code ssrm}'s Bayes factor, 1 / its p-value at a
 * single look, and its posterior odds at prior odds 1. A smaller c detects gross mismatches
 * sooner and the smallest ones later: in a side simulation of 50/50 traffic (same α and looks), a
 * true 60/40 was flagged after a median of 300 requests at c = 100 and 1 400 at c = 10 000, a true
 * 49.5/50.5 after 117 000 at c = 100 and 79 000 at c = 10 000.
 *
 * <p><b>Assumptions.</b> Under H0 requests are assigned independently with the same shares
 * throughout. A share changed mid-experiment (a ramp-up) is a mismatch against the configured
 * shares and will be flagged; start a new test at the change instead.
 *
 * <p>Immutable and thread-safe.
 */
public final class SampleRatioMismatchTest {
    /** ssrm's default Dirichlet concentration, {@code dirichlet_concentration=10000}. */
    static final double DEFAULT_PRIOR_CONCENTRATION = 10_000;

    private final double[] logShares;
    private final double[] prior;
    private final double[] logGammaPrior;
    private final double priorSum;
    private final double logGammaPriorSum;
    private final double alpha;

    /**
     * With ssrm's default prior concentration, 10 000.
     *
     * @param expectedShares the configured traffic share of each arm, at least two, positive and
     *     finite; normalised to sum to 1 (so {1, 1} and {0.5, 0.5} are the same)
     * @param alpha the level, in (0, 1): the probability that a mismatch is ever flagged when there is
     *     none is at most alpha
     * @throws IllegalArgumentException naming the problem
     */
    public SampleRatioMismatchTest(double[] expectedShares, double alpha) {
        this(expectedShares, alpha, DEFAULT_PRIOR_CONCENTRATION);
    }

    /**
     * With Dirichlet prior aᵢ = priorConcentration · pᵢ.
     *
     * @param expectedShares the configured traffic share of each arm, at least two, positive and
     *     finite; normalised to sum to 1
     * @param alpha the level, in (0, 1)
     * @param priorConcentration c &gt; 0, finite: larger tunes the test to smaller mismatches
     * @throws IllegalArgumentException naming the problem
     */
    public SampleRatioMismatchTest(double[] expectedShares, double alpha, double priorConcentration) {
        if (expectedShares == null) {
            throw new IllegalArgumentException("expectedShares must not be null");
        }
        if (expectedShares.length < 2) {
            throw new IllegalArgumentException("expectedShares needs at least 2 arms, had " + expectedShares.length);
        }
        double total = 0;
        for (int i = 0; i < expectedShares.length; i++) {
            double w = expectedShares[i];
            if (!(w > 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("expectedShares[" + i + "] must be positive and finite, was " + w);
            }
            total += w;
        }
        if (Double.isInfinite(total)) {
            throw new IllegalArgumentException("expectedShares sum overflows");
        }
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), was " + alpha);
        }
        if (!(priorConcentration > 0) || Double.isInfinite(priorConcentration)) {
            throw new IllegalArgumentException(
                    "priorConcentration must be positive and finite, was " + priorConcentration);
        }
        int k = expectedShares.length;
        this.logShares = new double[k];
        this.prior = new double[k];
        this.logGammaPrior = new double[k];
        double a = 0;
        for (int i = 0; i < k; i++) {
            double p = expectedShares[i] / total;
            logShares[i] = Math.log(p);
            prior[i] = priorConcentration * p;
            if (!(prior[i] > 0)) {
                throw new IllegalArgumentException("priorConcentration · share of arm " + i + " underflows to 0");
            }
            logGammaPrior[i] = Gamma.logGamma(prior[i]);
            a += prior[i];
        }
        this.priorSum = a;
        this.logGammaPriorSum = Gamma.logGamma(a);
        this.alpha = alpha;
    }

    /**
     * ln Eₙ for the cumulative counts of each arm, in the order of the shares: 0 when all are 0.
     *
     * @throws IllegalArgumentException if counts is null, has the wrong length, holds a negative
     *     count or its total overflows
     */
    public double logEValue(long[] counts) {
        if (counts == null) {
            throw new IllegalArgumentException("counts must not be null");
        }
        if (counts.length != prior.length) {
            throw new IllegalArgumentException(
                    "counts has " + counts.length + " arms, the shares have " + prior.length);
        }
        long n = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 0) {
                throw new IllegalArgumentException("counts[" + i + "] is negative: " + counts[i]);
            }
            if (counts[i] > Long.MAX_VALUE - n) {
                throw new IllegalArgumentException("total count overflows");
            }
            n += counts[i];
        }
        if (n == 0) {
            return 0.0;
        }
        double log = logGammaPriorSum - Gamma.logGamma(priorSum + n);
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                log += Gamma.logGamma(prior[i] + counts[i]) - logGammaPrior[i] - counts[i] * logShares[i];
            }
        }
        return log;
    }

    /** Eₙ = exp(ln Eₙ); +∞ when it overflows a double (ln Eₙ &gt; about 709). */
    public double eValue(long[] counts) {
        return Math.exp(logEValue(counts));
    }

    /** Whether the counts show a mismatch at level α: Eₙ ≥ 1/α (compared as ln Eₙ ≥ ln(1/α)). */
    public boolean mismatch(long[] counts) {
        return EValues.rejects(logEValue(counts), alpha);
    }

    /** The e-value at which a mismatch is flagged, 1/α. */
    public double threshold() {
        return 1 / alpha;
    }

    /** The level α. */
    public double alpha() {
        return alpha;
    }

    /**
     * ln Eₙ for an arbitrary Dirichlet prior {@code a} (not necessarily proportional to the null
     * shares {@code p}, which must sum to 1): ssrm's {@code dirichlet_probability} ·
     * {@code dirichlet_concentration}. For checking against ssrm's published values that use such
     * priors; no validation.
     */
    static double logBayesFactor(long[] counts, double[] p, double[] a) {
        double aSum = 0;
        long n = 0;
        double log = 0;
        for (int i = 0; i < counts.length; i++) {
            aSum += a[i];
            n += counts[i];
            log += Gamma.logGamma(a[i] + counts[i]) - Gamma.logGamma(a[i]) - counts[i] * Math.log(p[i]);
        }
        return log + Gamma.logGamma(aSum) - Gamma.logGamma(aSum + n);
    }
}
