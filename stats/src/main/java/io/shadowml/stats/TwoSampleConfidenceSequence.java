package io.shadowml.stats;

/**
 * An asymptotic confidence sequence for the difference Δ = μ₁ − μ₂ of the means of two independent
 * samples (A/B or canary arms: different units, not pairs), from each arm's count, mean and sample
 * variance (n − 1 denominator). With t = n₁ + n₂ units so far and rₜ the
 * {@link AsymptoticConfidenceSequence#unitRadius unit radius} of the one-sample AsympCS at α:
 *
 * <pre>
 *   Δ̂ ± √( s₁²/n₁ + s₂²/n₂ ) · √t · rₜ,      Δ̂ = x̄₁ − x̄₂
 * </pre>
 *
 * that is, the one-sample sequence applied to the {@link #difference Estimate} (t, Δ̂,
 * t·(s₁²/n₁ + s₂²/n₂)). It covers Δ at every t simultaneously with probability ≥ 1 − α
 * asymptotically, so it may be looked at after every unit.
 *
 * <p><b>Source and derivation.</b> Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform
 * central limit theory and asymptotic confidence sequences", Annals of Statistics 52(6), 2024: the
 * AsympCS for the mean of i.i.d. terms with a consistent variance estimate (Theorem 2.2), applied, as
 * in the paper's treatment-effect application to randomized experiments, to inverse-probability-
 * weighted terms. If each unit independently goes to arm 1 with probability π, the terms
 * Zᵢ = Aᵢ(Yᵢ − μ₁)/π − (1 − Aᵢ)(Yᵢ − μ₂)/(1 − π) are i.i.d. with mean 0 and variance
 * σ₁²/π + σ₂²/(1 − π) (the cross term vanishes because Aᵢ(1 − Aᵢ) = 0). Their mean over t units is
 * (n₁/(tπ))(x̄₁ − μ₁) − (n₂/(t(1 − π)))(x̄₂ − μ₂), which differs from Δ̂ − Δ by
 * O(log log t / t) almost surely (law of the iterated logarithm for n₁/t and for each arm's mean):
 * of smaller order than the radius, which shrinks like √(log t / t), as the paper's definition of an
 * asymptotic CS allows. And t·(s₁²/n₁ + s₂²/n₂) → σ₁²/π + σ₂²/(1 − π) almost surely. Replacing π by
 * its estimate n₁/t in the weights is this class's step, not the paper's (the paper uses the known
 * assignment probability); it is what makes the variance the familiar Welch standard error
 * √(s₁²/n₁ + s₂²/n₂) scaled by √t.
 *
 * <p><b>Assumptions of {@link #interval}.</b> (1) A fixed random split: every unit goes to arm 1
 * independently with the same probability π ∈ (0, 1), whatever the outcomes and the time (e.g.
 * traffic split by a random hash at a constant canary fraction; π need not be known). (2) Within each
 * arm the outcomes are i.i.d. with finite variance, and the arms are independent. (3) The guarantee
 * is asymptotic, like {@link AsymptoticConfidenceSequence}'s: act on it only once the smaller arm
 * has some observations. In this module's simulations (α = 0.05, tuned for 1000 units, an
 * exponential and a normal arm) the rate of ever missing Δ stayed below α when looks began with 50
 * or more observations in the smaller arm, and rose to about 0.10 when they began with 6 to 15. When
 * (1) fails — a ramp-up that changes π, a split changed by hand, arms started at different times —
 * use {@link #intervalUnderAnyAllocation}.
 *
 * <p><b>Any allocation.</b> {@link #intervalUnderAnyAllocation} is the union bound over two
 * one-sample sequences at α/2 each, Cₖ = x̄ₖ ± sₖ · rₙₖ(α/2):
 *
 * <pre>
 *   [ min C₁ − max C₂,  max C₁ − min C₂ ] = Δ̂ ± ( s₁ · rₙ₁(α/2) + s₂ · rₙ₂(α/2) )
 * </pre>
 *
 * Each arm's sequence covers its mean at all of its sample sizes with probability ≥ 1 − α/2
 * (Theorem 2.2 above), so both do, at every pair (n₁, n₂) and however the units are interleaved, with
 * probability ≥ 1 − α (Bonferroni, {@link EValues#bonferroni}). It needs only assumptions (2) and
 * (3); the price is width, about 1.5 times that of {@link #interval} at an even split.
 *
 * <p>Immutable and thread-safe.
 */
public final class TwoSampleConfidenceSequence {
    private final AsymptoticConfidenceSequence pooled;
    private final AsymptoticConfidenceSequence perArm;

    private TwoSampleConfidenceSequence(AsymptoticConfidenceSequence pooled, AsymptoticConfidenceSequence perArm) {
        this.pooled = pooled;
        this.perArm = perArm;
    }

    /**
     * Tightest at {@code tuningSampleSize} units in both arms together (see
     * {@link AsymptoticConfidenceSequence#tunedFor}); the per-arm sequences of
     * {@link #intervalUnderAnyAllocation} are tuned for half of it.
     */
    public static TwoSampleConfidenceSequence tunedFor(long tuningSampleSize, double alpha) {
        return new TwoSampleConfidenceSequence(
                AsymptoticConfidenceSequence.tunedFor(tuningSampleSize, alpha),
                AsymptoticConfidenceSequence.tunedFor(Math.max(1, tuningSampleSize / 2), alpha / 2));
    }

    /** With an explicit mixture variance ρ² &gt; 0, the same for the pooled and the per-arm sequences. */
    public static TwoSampleConfidenceSequence withRhoSquared(double rhoSquared, double alpha) {
        return new TwoSampleConfidenceSequence(
                AsymptoticConfidenceSequence.withRhoSquared(rhoSquared, alpha),
                AsymptoticConfidenceSequence.withRhoSquared(rhoSquared, alpha / 2));
    }

    /**
     * Δ̂ = mean1 − mean2 as an {@link Estimate} over n = n1 + n2 units whose per-unit variance is
     * n·(var1/n1 + var2/n2), so that √(variance / n) is Welch's standard error of Δ̂. NaN mean and
     * variance when either arm is empty; NaN variance when either arm has fewer than two observations.
     */
    public static Estimate difference(long n1, double mean1, double var1, long n2, double mean2, double var2) {
        if (n1 < 0 || n2 < 0) {
            throw new IllegalArgumentException("negative sample sizes: " + n1 + ", " + n2);
        }
        if (var1 < 0 || var2 < 0) {
            throw new IllegalArgumentException("negative variance: " + var1 + ", " + var2);
        }
        long n = n1 + n2;
        if (n1 == 0 || n2 == 0) {
            return new Estimate(n, Double.NaN, Double.NaN);
        }
        double variance = n1 < 2 || n2 < 2 ? Double.NaN : n * (var1 / n1 + var2 / n2);
        return new Estimate(n, mean1 - mean2, variance);
    }

    /** {@link #difference(long, double, double, long, double, double)} of two per-arm estimates. */
    public static Estimate difference(Estimate arm1, Estimate arm2) {
        return difference(arm1.n(), arm1.mean(), arm1.variance(), arm2.n(), arm2.mean(), arm2.variance());
    }

    /**
     * The interval for μ₁ − μ₂ under a fixed random split (see the class comment);
     * {@link Interval#ALL} while either arm has fewer than two observations.
     */
    public Interval interval(long n1, double mean1, double var1, long n2, double mean2, double var2) {
        return difference(n1, mean1, var1, n2, mean2, var2).interval(pooled);
    }

    /** {@link #interval(long, double, double, long, double, double)} of two per-arm estimates. */
    public Interval interval(Estimate arm1, Estimate arm2) {
        return difference(arm1, arm2).interval(pooled);
    }

    /**
     * The interval for μ₁ − μ₂ valid however units are allocated to the arms over time (union bound
     * over the two arms, see the class comment); {@link Interval#ALL} while either arm has fewer than
     * two observations.
     */
    public Interval intervalUnderAnyAllocation(long n1, double mean1, double var1, long n2, double mean2, double var2) {
        Estimate d = difference(n1, mean1, var1, n2, mean2, var2);
        if (Double.isNaN(d.mean()) || Double.isNaN(d.variance())) {
            return Interval.ALL;
        }
        double radius = perArm.radius(n1, Math.sqrt(var1)) + perArm.radius(n2, Math.sqrt(var2));
        return Interval.around(d.mean(), radius);
    }

    public double alpha() {
        return pooled.alpha();
    }

    @Override
    public String toString() {
        return "TwoSampleConfidenceSequence{pooled=" + pooled + ", perArm=" + perArm + "}";
    }
}
