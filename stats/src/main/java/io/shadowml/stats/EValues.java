package io.shadowml.stats;

/**
 * What holds for any e-value (a nonnegative statistic with expectation at most 1 under the null) and
 * any family of tests, in one place.
 */
public final class EValues {
    private EValues() {}

    /**
     * The always-valid p-value of an e-process after the largest e-value seen so far:
     * min(1, 1 / max E). It never increases as evidence accumulates, and P(p ≤ α at some time) ≤ α
     * under the null (Ville's inequality; Ramdas, Grünwald, Vovk and Shafer, "Game-theoretic statistics
     * and safe anytime-valid inference", Statistical Science 38(4), 2023).
     */
    public static double alwaysValidPValue(double maxLogEValue) {
        if (Double.isNaN(maxLogEValue)) {
            return 1.0;
        }
        return maxLogEValue <= 0 ? 1.0 : Math.exp(-maxLogEValue);
    }

    /** Whether an e-process that reached {@code maxLogEValue} rejects at level α: max E ≥ 1/α. */
    public static boolean rejects(double maxLogEValue, double alpha) {
        return maxLogEValue >= Math.log(1 / alpha);
    }

    /**
     * Bonferroni's split of a family-wise error budget over {@code tests} tests: each gets
     * alpha / tests, and the probability that any of them ever errs is at most alpha, whatever their
     * dependence. Valid under continuous monitoring when each test is (a union bound over tests, each
     * time-uniform).
     */
    public static double bonferroni(double alpha, int tests) {
        if (tests < 1) {
            throw new IllegalArgumentException("tests must be >= 1, was " + tests);
        }
        return alpha / tests;
    }
}
