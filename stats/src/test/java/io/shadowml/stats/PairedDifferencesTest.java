package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class PairedDifferencesTest {

    @Test
    void accuracyDifferenceIsTheMeanAndSampleVarianceOfThePerPairDifferences() {
        long b = 17;
        long c = 29;
        long n = 250;
        double[] d = new double[(int) n];
        for (int i = 0; i < c; i++) {
            d[i] = 1;
        }
        for (int i = 0; i < b; i++) {
            d[(int) c + i] = -1;
        }
        double mean = 0;
        for (double x : d) {
            mean += x;
        }
        mean /= n;
        double ss = 0;
        for (double x : d) {
            ss += (x - mean) * (x - mean);
        }
        Estimate e = PairedDifferences.accuracy(b, c, n);
        assertEquals(n, e.n());
        assertEquals(mean, e.mean(), 1e-15);
        assertEquals(ss / (n - 1), e.variance(), 1e-12);
        assertEquals(Estimate.NONE, PairedDifferences.accuracy(0, 0, 0));
    }

    @Test
    void precisionDifferenceIsTheDifferenceOfTheTwoPrecisions() {
        long[] cells = {500, 40, 30, 20, 10, 15, 25, 160}; // index 4y + 2·ref + cand
        long refTp = cells[6] + cells[7];
        long refPos = cells[2] + cells[3] + cells[6] + cells[7];
        long candTp = cells[5] + cells[7];
        long candPos = cells[1] + cells[3] + cells[5] + cells[7];
        Estimate e = PairedDifferences.precision(cells);
        assertEquals((double) candTp / candPos - (double) refTp / refPos, e.mean(), 1e-15);
        assertTrue(Double.isNaN(
                PairedDifferences.precision(new long[] {5, 0, 0, 0, 3, 0, 0, 0}).mean()));
    }

    /**
     * The delta-method variance against Monte Carlo: 4000 samples of 2000 pairs from a fixed joint
     * distribution; the variance of the estimated precision difference across samples must match
     * variance / n within 10 %.
     */
    @Test
    void precisionVarianceMatchesMonteCarlo() {
        double[] probabilities = {0.55, 0.05, 0.04, 0.03, 0.02, 0.04, 0.05, 0.22};
        int pairs = 2000;
        int samples = 4000;
        SplittableRandom random = new SplittableRandom(5);
        double sum = 0;
        double sumSq = 0;
        double predicted = 0;
        for (int s = 0; s < samples; s++) {
            long[] cells = new long[8];
            for (int i = 0; i < pairs; i++) {
                double u = random.nextDouble();
                int cell = 0;
                while (cell < 7 && u >= probabilities[cell]) {
                    u -= probabilities[cell];
                    cell++;
                }
                cells[cell]++;
            }
            Estimate e = PairedDifferences.precision(cells);
            sum += e.mean();
            sumSq += e.mean() * e.mean();
            predicted += e.variance() / pairs;
        }
        double mcVariance = (sumSq - sum * sum / samples) / (samples - 1);
        predicted /= samples;
        assertEquals(1.0, predicted / mcVariance, 0.10);
    }
}
