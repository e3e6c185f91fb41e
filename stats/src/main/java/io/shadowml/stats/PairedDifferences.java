package io.shadowml.stats;

/**
 * Differences between two classifiers scored on the same labelled examples (candidate − reference),
 * computed from counts, as {@link Estimate}s an {@link AsymptoticConfidenceSequence} turns into
 * anytime-valid intervals.
 *
 * <p>Counts by agreement: b = pairs only the reference got right, c = pairs only the candidate got
 * right, n = all pairs. Per pair the difference of correctness is +1 (c), −1 (b) or 0.
 */
public final class PairedDifferences {
    private PairedDifferences() {}

    /**
     * Accuracy difference: mean = (c − b) / n; variance of the ±1/0 terms = (b + c − n·mean²)/(n − 1).
     * Restricted to the pairs of one true class, the same counts give that class's recall difference.
     */
    public static Estimate accuracy(long b, long c, long n) {
        if (b < 0 || c < 0 || b + c > n) {
            throw new IllegalArgumentException("need 0 <= b, c and b + c <= n: b=" + b + " c=" + c + " n=" + n);
        }
        if (n == 0) {
            return Estimate.NONE;
        }
        double mean = (double) (c - b) / n;
        double variance = n < 2 ? Double.NaN : Math.max(0, (b + c - n * mean * mean) / (n - 1));
        return new Estimate(n, mean, variance);
    }

    /**
     * Precision difference P_cand − P_ref of a binary classifier from the 2×2×2 table of (true class
     * y, reference decision, candidate decision): {@code cells[4y + 2·ref + cand]} pairs, decisions 1 =
     * positive. Precision P = TP / predicted positives is a ratio, so its per-pair terms are the
     * delta-method influence terms ŷ·(y − P)/s with s the predicted-positive fraction (Waudby-Smith et
     * al. 2024, Section 3, for asymptotic confidence sequences of such estimators). NaN when either
     * model predicted no positive.
     */
    public static Estimate precision(long[] cells) {
        if (cells.length != 8) {
            throw new IllegalArgumentException(
                    "cells must have 8 entries (y, reference, candidate), had " + cells.length);
        }
        long n = 0;
        long refPos = 0;
        long refTp = 0;
        long candPos = 0;
        long candTp = 0;
        for (int i = 0; i < 8; i++) {
            long k = cells[i];
            if (k < 0) {
                throw new IllegalArgumentException("negative count in cell " + i);
            }
            int y = i >> 2;
            int ref = (i >> 1) & 1;
            int cand = i & 1;
            n += k;
            refPos += ref * k;
            refTp += ref * y * k;
            candPos += cand * k;
            candTp += cand * y * k;
        }
        if (refPos == 0 || candPos == 0) {
            return new Estimate(n, Double.NaN, Double.NaN);
        }
        double sRef = (double) refPos / n;
        double sCand = (double) candPos / n;
        double pRef = (double) refTp / refPos;
        double pCand = (double) candTp / candPos;
        double sumSquares = 0;
        for (int i = 0; i < 8; i++) {
            int y = i >> 2;
            int ref = (i >> 1) & 1;
            int cand = i & 1;
            double term = cand * (y - pCand) / sCand - ref * (y - pRef) / sRef;
            sumSquares += cells[i] * term * term;
        }
        // The terms have mean exactly 0 at the plug-in estimates.
        return new Estimate(n, pCand - pRef, n < 2 ? Double.NaN : sumSquares / (n - 1));
    }
}
