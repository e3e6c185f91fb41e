package io.shadowml.stats;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.special.Gamma;

/**
 * McNemar's test for two classifiers scored on the same examples, from the discordant pairs alone:
 * b = pairs only the reference got right, c = pairs only the candidate got right. Under H0 (both
 * are right equally often) each discordant pair is b or c with probability ½, whatever the
 * concordant pairs do. All p-values are two-sided. A fixed-sample test: valid for one look at a
 * sample size fixed in advance; for a look after every batch use {@link SequentialSignTest}.
 *
 * <ul>
 *   <li>{@link #exactPValue}, the exact conditional test: p = min(1, 2·P[X ≤ min(b, c)]),
 *       X ~ Binomial(b + c, ½).
 *   <li>{@link #asymptoticPValue}, McNemar's statistic (b − c)² / (b + c) against χ²₁ (McNemar,
 *       "Note on the sampling error of the difference between correlated proportions or
 *       percentages", Psychometrika 12(2), 1947).
 *   <li>{@link #continuityCorrectedPValue}: (max(|b − c| − 1, 0))² / (b + c) against χ²₁ (Edwards,
 *       "Note on the 'correction for continuity' in testing the significance of the difference
 *       between correlated proportions", Psychometrika 13(3), 1948). The max(…, 0) gives p = 1 at
 *       b = c, where (|b − c| − 1)² would give a spurious positive statistic 1/(b + c).
 *   <li>{@link #pValue}: the exact test below {@link #EXACT_BELOW} discordant pairs, the continuity
 *       corrected one from there on.
 * </ul>
 *
 * The three tests are among those compared by Fagerland, Lydersen and Laake, "The McNemar test for
 * binary matched-pairs data: mid-p and asymptotic are better than exact conditional", BMC Medical
 * Research Methodology 13:91, 2013: in their evaluation the exact conditional and the
 * continuity-corrected tests are conservative ("did not perform well for any of the considered
 * scenarios"), while the uncorrected asymptotic test is close to the nominal level with small,
 * frequent violations. {@link #pValue} keeps the rule the shadowml job has always reported. The χ²₁
 * upper tail P[χ²₁ &gt; x] is the regularised upper incomplete gamma function Q(½, x/2), computed
 * directly rather than as 1 − CDF, so tiny p-values do not round to 0.
 */
public final class McNemarTest {
    /** Below this many discordant pairs (b + c) {@link #pValue} uses the exact test. */
    public static final int EXACT_BELOW = 25;

    private McNemarTest() {}

    /**
     * The exact test below {@link #EXACT_BELOW} discordant pairs, the continuity-corrected χ²
     * approximation from there on; 1 when b + c = 0.
     */
    public static double pValue(long b, long c) {
        long n = discordant(b, c);
        if (n == 0) {
            return 1.0;
        }
        return n < EXACT_BELOW ? exactPValue(b, c) : continuityCorrectedPValue(b, c);
    }

    /** Exact conditional test: min(1, 2·P[X ≤ min(b, c)]), X ~ Binomial(b + c, ½); 1 when b + c = 0. */
    public static double exactPValue(long b, long c) {
        long n = discordant(b, c);
        if (n == 0) {
            return 1.0;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("exact test needs b + c <= " + Integer.MAX_VALUE + ", was " + n);
        }
        BinomialDistribution binom = new BinomialDistribution(null, (int) n, 0.5);
        return Math.min(1.0, 2.0 * binom.cumulativeProbability((int) Math.min(b, c)));
    }

    /** McNemar's statistic (b − c)² / (b + c) against χ²₁, without correction; 1 when b + c = 0. */
    public static double asymptoticPValue(long b, long c) {
        long n = discordant(b, c);
        if (n == 0) {
            return 1.0;
        }
        double diff = Math.abs((double) b - (double) c);
        return chiSquaredOneUpperTail(diff * diff / n);
    }

    /** Edwards' corrected statistic max(|b − c| − 1, 0)² / (b + c) against χ²₁; 1 when b + c = 0. */
    public static double continuityCorrectedPValue(long b, long c) {
        long n = discordant(b, c);
        if (n == 0) {
            return 1.0;
        }
        double diff = Math.max(Math.abs((double) b - (double) c) - 1.0, 0.0);
        return chiSquaredOneUpperTail(diff * diff / n);
    }

    /** P[χ²₁ &gt; stat] = Q(½, stat/2). */
    private static double chiSquaredOneUpperTail(double stat) {
        return Gamma.regularizedGammaQ(0.5, stat / 2.0);
    }

    private static long discordant(long b, long c) {
        if (b < 0 || c < 0) {
            throw new IllegalArgumentException("negative counts: " + b + ", " + c);
        }
        if (b > Long.MAX_VALUE - c) {
            throw new IllegalArgumentException("b + c overflows: " + b + ", " + c);
        }
        return b + c;
    }
}
