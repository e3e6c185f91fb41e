package io.shadowml.stats;

/**
 * A two-sided asymptotic confidence sequence (AsympCS) for the mean of i.i.d. observations with finite
 * variance: for every sample size n at once,
 *
 * <pre>
 *   μ̂ₙ ± σ̂ₙ · √( 2(nρ² + 1) / (n²ρ²) · ln( √(nρ² + 1) / α ) )
 * </pre>
 *
 * covers the true mean at all n simultaneously with probability ≥ 1 − α asymptotically, so it may be
 * looked at after every observation, for as long as the data keep coming, without inflating the error
 * rate. σ̂ₙ is the sample standard deviation.
 *
 * <p>The radius is the two-sided normal-mixture boundary (Robbins' Gaussian mixture martingale) of
 * Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences", Annals of Statistics 49(2), 2021, Section 3; using it with the empirical standard
 * deviation is the AsympCS of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central
 * limit theory and asymptotic confidence sequences", Annals of Statistics 52(6), 2024, Theorem 2.2.
 *
 * <p><b>Tuning.</b> ρ² sets the sample size at which the sequence is tightest. For a tuning sample size
 * m, {@link #optimalRhoSquared} returns the ρ² that minimises the radius at n = m: with
 * x = mρ² + 1, the radius at m is smallest where x − ln x = 1 − 2 ln α, i.e.
 * x = −W₋₁(−α²/e) (Lambert W, lower branch). Above m the width is not sensitive to the choice: at
 * α = 0.05 it stays within 1.07× of the width tuned for n from m/3 to 10·m, and within 1.26× from
 * m/10 to 100·m; below m/10 it widens quickly (2.9× at m/100), so pick m at the low end of the
 * sample sizes where a decision is expected. At n = m and α = 0.05 the radius is 3.03·σ/√n, 1.55 times
 * the fixed-sample 1.96·σ/√n: the price of being allowed to look at every n.
 *
 * <p>Immutable and thread-safe.
 */
public final class AsymptoticConfidenceSequence {
    private final double alpha;
    private final double rhoSquared;
    private final long tuningSampleSize;

    private AsymptoticConfidenceSequence(double alpha, double rhoSquared, long tuningSampleSize) {
        this.alpha = alpha;
        this.rhoSquared = rhoSquared;
        this.tuningSampleSize = tuningSampleSize;
    }

    /**
     * @param alpha the probability that the true mean is ever outside the sequence, in (0, 1)
     * @param tuningSampleSize the sample size at which the sequence is tightest, ≥ 1
     */
    public static AsymptoticConfidenceSequence tunedFor(long tuningSampleSize, double alpha) {
        return new AsymptoticConfidenceSequence(alpha, optimalRhoSquared(tuningSampleSize, alpha), tuningSampleSize);
    }

    /** With an explicit mixture variance ρ² &gt; 0. */
    public static AsymptoticConfidenceSequence withRhoSquared(double rhoSquared, double alpha) {
        checkAlpha(alpha);
        if (!(rhoSquared > 0) || Double.isInfinite(rhoSquared)) {
            throw new IllegalArgumentException("rhoSquared must be positive and finite, was " + rhoSquared);
        }
        return new AsymptoticConfidenceSequence(alpha, rhoSquared, -1);
    }

    /** The ρ² that makes the radius smallest at {@code n = tuningSampleSize}. */
    public static double optimalRhoSquared(long tuningSampleSize, double alpha) {
        checkAlpha(alpha);
        if (tuningSampleSize < 1) {
            throw new IllegalArgumentException("tuningSampleSize must be >= 1, was " + tuningSampleSize);
        }
        return (solveXMinusLogX(1 - 2 * Math.log(alpha)) - 1) / tuningSampleSize;
    }

    /** The root x &gt; 1 of x − ln x = c (c &gt; 1), by Newton's method from the upper side. */
    static double solveXMinusLogX(double c) {
        // f(x) = x − ln x − c is convex and increasing for x > 1, and f(c + ln c) < 0: the first step
        // lands above the root, from where Newton's method decreases monotonically onto it.
        double x = c + Math.log(c);
        for (int i = 0; i < 100; i++) {
            double f = x - Math.log(x) - c;
            double step = f / (1 - 1 / x);
            x -= step;
            if (Math.abs(step) <= 1e-15 * x) {
                break;
            }
        }
        return x;
    }

    /** The radius for a unit standard deviation at n observations: the boundary divided by n. */
    public double unitRadius(long n) {
        if (n < 1) {
            return Double.POSITIVE_INFINITY;
        }
        double x = n * rhoSquared + 1;
        return Math.sqrt(2 * x / ((double) n * n * rhoSquared) * Math.log(Math.sqrt(x) / alpha));
    }

    /** μ̂ ± radius after n observations with sample standard deviation {@code sd}. */
    public double radius(long n, double sd) {
        if (Double.isNaN(sd) || sd < 0) {
            throw new IllegalArgumentException("standard deviation must be >= 0, was " + sd);
        }
        return n < 2 ? Double.POSITIVE_INFINITY : sd * unitRadius(n);
    }

    /**
     * The interval after n observations with sample mean {@code mean} and sample variance
     * {@code variance} (n − 1 denominator); {@link Interval#ALL} below two observations.
     */
    public Interval interval(long n, double mean, double variance) {
        if (n < 2 || Double.isNaN(mean) || Double.isNaN(variance)) {
            return Interval.ALL;
        }
        return Interval.around(mean, radius(n, Math.sqrt(Math.max(variance, 0))));
    }

    /**
     * The smallest n ≥ {@code from} at which the radius for standard deviation {@code sd} is at most
     * {@code effect} (&gt; 0), or {@link Long#MAX_VALUE} if none below 2⁶². The radius decreases in n
     * once n·ρ² exceeds a small constant, so this is a search on the decreasing part.
     */
    public long sampleSizeFor(double effect, double sd, long from) {
        if (!(effect > 0) || Double.isNaN(sd)) {
            return Long.MAX_VALUE;
        }
        if (sd == 0) {
            return Math.max(2, from);
        }
        long lo = Math.max(2, from);
        if (radius(lo, sd) <= effect) {
            return lo;
        }
        long hi = lo;
        while (radius(hi, sd) > effect) {
            if (hi > (1L << 61)) {
                return Long.MAX_VALUE;
            }
            lo = hi;
            hi *= 2;
        }
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (radius(mid, sd) <= effect) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    public double alpha() {
        return alpha;
    }

    public double rhoSquared() {
        return rhoSquared;
    }

    /** The tuning sample size it was built for, or −1 when built from an explicit ρ². */
    public long tuningSampleSize() {
        return tuningSampleSize;
    }

    private static void checkAlpha(double alpha) {
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), was " + alpha);
        }
    }

    @Override
    public String toString() {
        return "AsymptoticConfidenceSequence{alpha=" + alpha + ", rho2=" + rhoSquared
                + (tuningSampleSize > 0 ? ", tuned for n=" + tuningSampleSize : "") + "}";
    }
}
