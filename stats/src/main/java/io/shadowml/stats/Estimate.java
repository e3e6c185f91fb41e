package io.shadowml.stats;

/**
 * A difference (or mean) estimated from n paired observations, with the sample variance (n − 1
 * denominator) of the per-observation terms whose mean it is: for a plain mean those are the
 * observations; for a ratio such as precision they are its influence-function terms (delta method).
 * An {@link AsymptoticConfidenceSequence} turns it into an interval:
 * {@code cs.interval(e.n(), e.mean(), e.variance())}.
 *
 * @param n observations the estimate rests on
 * @param mean the estimate; NaN when undefined (e.g. no observations)
 * @param variance sample variance of the per-observation terms; NaN when n &lt; 2
 */
public record Estimate(long n, double mean, double variance) {
    public static final Estimate NONE = new Estimate(0, Double.NaN, Double.NaN);

    public Interval interval(AsymptoticConfidenceSequence cs) {
        return cs.interval(n, mean, variance);
    }

    public double standardDeviation() {
        return Math.sqrt(Math.max(variance, 0));
    }
}
