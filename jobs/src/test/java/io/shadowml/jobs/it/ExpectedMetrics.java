package io.shadowml.jobs.it;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * Brute-force versions of every reported metric, written from the textbook definitions (jobs/METRICS.md)
 * over the raw per-event outputs, sharing no code with the job.
 */
final class ExpectedMetrics {
    private ExpectedMetrics() {}

    static double clip(double p) {
        return Math.min(1 - 0x1p-23, Math.max(0x1p-23, p)); // float32 epsilon, jobs/METRICS.md
    }

    static double binaryLogLoss(double p, int y) {
        return y == 1 ? -Math.log(clip(p)) : -Math.log(1 - clip(p));
    }

    /** Exact ROC AUC: the share of (positive, negative) pairs ordered correctly, ties counting one half. */
    static double exactAuc(double[] scores, int[] labels) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < scores.length; i++) {
            if (labels[i] != 1) {
                continue;
            }
            for (int j = 0; j < scores.length; j++) {
                if (labels[j] == 1) {
                    continue;
                }
                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
            }
        }
        return wins / pairs;
    }

    /** scikit-learn's macro F1: mean over classes present in y_true or y_pred. */
    static double macroF1(int[] truth, int[] predicted, int classes) {
        double sum = 0;
        int present = 0;
        for (int k = 0; k < classes; k++) {
            long tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < truth.length; i++) {
                if (predicted[i] == k && truth[i] == k) tp++;
                else if (predicted[i] == k) fp++;
                else if (truth[i] == k) fn++;
            }
            if (tp + fp + fn == 0) {
                continue;
            }
            present++;
            sum += 2.0 * tp / (2.0 * tp + fp + fn);
        }
        return sum / present;
    }

    static double mcnemar(long b, long c) {
        long n = b + c;
        if (n == 0) {
            return 1.0;
        }
        if (n < 25) {
            return Math.min(
                    1.0, 2 * new BinomialDistribution(null, (int) n, 0.5).cumulativeProbability((int) Math.min(b, c)));
        }
        double stat = Math.pow(Math.max(Math.abs(b - c) - 1, 0), 2) / n;
        return 1 - new ChiSquaredDistribution(1).cumulativeProbability(stat);
    }

    /** Two-pass mean and Student-t 95% interval. */
    static double[] meanAndCi(double[] d) {
        double mean = Arrays.stream(d).average().orElse(Double.NaN);
        double ss = 0;
        for (double v : d) {
            ss += (v - mean) * (v - mean);
        }
        double se = Math.sqrt(ss / (d.length - 1)) / Math.sqrt(d.length);
        double t = new TDistribution(d.length - 1).inverseCumulativeProbability(0.975);
        return new double[] {mean, mean - t * se, mean + t * se};
    }

    /**
     * The anytime-valid interval {mean, low, high} of the mean of {@code d} at {@code alpha}, from the
     * normal-mixture boundary written out here (Howard et al. 2021, eq. (14)): mean ± s·√(2(nρ²+1)/(n²ρ²)
     * · ln(√(nρ²+1)/α)), with ρ² found by a golden-section search for the narrowest radius at
     * {@code tuningPairs} (not by the closed form the job uses).
     */
    static double[] meanAndConfidenceSequence(double[] d, double alpha, long tuningPairs) {
        double mean = Arrays.stream(d).average().orElse(Double.NaN);
        double ss = 0;
        for (double v : d) {
            ss += (v - mean) * (v - mean);
        }
        double sd = Math.sqrt(ss / (d.length - 1));
        double lo = Math.log(1e-12);
        double hi = Math.log(1e3);
        double g = (Math.sqrt(5) - 1) / 2;
        for (int i = 0; i < 200; i++) {
            double a = hi - g * (hi - lo);
            double b = lo + g * (hi - lo);
            if (unitRadius(tuningPairs, Math.exp(a), alpha) < unitRadius(tuningPairs, Math.exp(b), alpha)) {
                hi = b;
            } else {
                lo = a;
            }
        }
        double radius = sd * unitRadius(d.length, Math.exp((lo + hi) / 2), alpha);
        return new double[] {mean, mean - radius, mean + radius};
    }

    private static double unitRadius(long n, double rho2, double alpha) {
        double x = n * rho2 + 1;
        return Math.sqrt(2 * x / ((double) n * n * rho2) * Math.log(Math.sqrt(x) / alpha));
    }

    /** Whether {@code value} is a valid q-quantile of {@code sorted} within a rank error of {@code eps}. */
    static boolean quantileWithin(double[] sorted, double q, double value, double eps) {
        int n = sorted.length;
        int lowRank = 0; // values strictly below
        int highRank = 0; // values at or below
        for (double v : sorted) {
            if (v < value) lowRank++;
            if (v <= value) highRank++;
        }
        double slack = eps + 1.0 / n;
        return (double) lowRank / n <= q + slack && (double) highRank / n >= q - slack;
    }

    static <T> Set<T> setOf(List<T> list) {
        return new HashSet<>(list);
    }

    static double[] toArray(List<Double> list) {
        return list.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static List<Double> sortedCopy(List<Double> list) {
        List<Double> s = new ArrayList<>(list);
        s.sort(null);
        return s;
    }
}
