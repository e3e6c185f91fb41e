package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import org.apache.datasketches.kll.KllSketch;
import org.junit.jupiter.api.Test;

class DisagreementAccumulatorTest {

    private static final double[] QS = {0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};

    /**
     * Checks that v is a valid q-quantile of the sorted data up to rank error eps: the fraction of
     * values strictly below v is at most q + eps and the fraction at or below v is at least q − eps.
     */
    private static void assertQuantileWithinRankError(double[] sorted, double q, double v, double eps) {
        int n = sorted.length;
        int below = lowerBound(sorted, v);
        int atOrBelow = upperBound(sorted, v);
        double rLo = (double) below / n;
        double rHi = (double) atOrBelow / n;
        assertTrue(
                rLo <= q + eps && rHi >= q - eps,
                "q=" + q + " v=" + v + " has rank [" + rLo + ", " + rHi + "], eps=" + eps);
    }

    private static int lowerBound(double[] a, double v) {
        int i = 0;
        while (i < a.length && a[i] < v) i++;
        return i;
    }

    private static int upperBound(double[] a, double v) {
        int i = 0;
        while (i < a.length && a[i] <= v) i++;
        return i;
    }

    private static double[] randomDiffs(Random rnd, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = rnd.nextDouble() < 0.2
                    ? 0.0
                    : Math.abs(0.05 * rnd.nextGaussian()) + (rnd.nextDouble() < 0.02 ? 0.5 : 0);
        }
        return d;
    }

    @Test
    void rankErrorIsTheLibraryValue() {
        DisagreementAccumulator a = new DisagreementAccumulator();
        assertEquals(200, a.sketchK());
        assertEquals(KllSketch.getNormalizedRankError(200, false), a.absDifferenceRankError(), 0.0);
        assertTrue(a.absDifferenceRankError() > 0.013 && a.absDifferenceRankError() < 0.0135);
    }

    @Test
    void matchesBruteForceOnRandomData() {
        Random rnd = new Random(17);
        int n = 50000;
        double[] d = randomDiffs(rnd, n);
        boolean[] flip = new boolean[n];
        DisagreementAccumulator a = new DisagreementAccumulator();
        long flips = 0;
        double sum = 0, max = 0;
        for (int i = 0; i < n; i++) {
            flip[i] = rnd.nextDouble() < 0.07;
            a.add(flip[i], d[i]);
            if (flip[i]) flips++;
            sum += d[i];
            max = Math.max(max, d[i]);
        }
        assertEquals(n, a.count());
        assertEquals(n, a.sketchN());
        assertEquals(flips, a.flips());
        assertClose((double) flips / n, a.flipRate(), 1e-15, "flipRate");
        assertClose(sum / n, a.meanAbsDifference(), 1e-12, "mean");
        assertEquals(max, a.maxAbsDifference(), 0.0);
        double[] sorted = d.clone();
        Arrays.sort(sorted);
        for (double q : QS) {
            assertQuantileWithinRankError(sorted, q, a.absDifferenceQuantile(q), a.absDifferenceRankError());
        }
        assertEquals(sorted[0], a.absDifferenceQuantile(0.0), 0.0);
        assertEquals(sorted[n - 1], a.absDifferenceQuantile(1.0), 0.0);
    }

    /** While n <= k the sketch holds every value, so quantiles are exact: sorted[ceil(q·n) − 1]. */
    @Test
    void smallInputIsExact() {
        double[] d = {0.3, 0.1, 0.4, 0.1, 0.5, 0.9, 0.2, 0.6, 0.5, 0.3};
        DisagreementAccumulator a = new DisagreementAccumulator();
        for (double x : d) a.add(false, x);
        double[] sorted = d.clone();
        Arrays.sort(sorted); // 0.1 0.1 0.2 0.3 0.3 0.4 0.5 0.5 0.6 0.9
        assertEquals(0.3, a.absDifferenceQuantile(0.5), 0.0); // ceil(5) - 1 = index 4
        assertEquals(0.9, a.absDifferenceQuantile(0.95), 0.0);
        for (double q : new double[] {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0}) {
            int idx = (int) Math.ceil(q * d.length) - 1;
            assertEquals(sorted[idx], a.absDifferenceQuantile(q), 0.0, "q=" + q);
        }
        assertEquals(0.0, a.flipRate());
        assertEquals(3.9 / 10, a.meanAbsDifference(), 1e-15);
    }

    @Test
    void mergeEqualsAccumulatingTheUnion() throws IOException {
        Random rnd = new Random(23);
        int n = 30000;
        double[] d = randomDiffs(rnd, n);
        boolean[] flip = new boolean[n];
        for (int i = 0; i < n; i++) flip[i] = rnd.nextDouble() < 0.1;
        double[] sorted = d.clone();
        Arrays.sort(sorted);
        DisagreementAccumulator all = new DisagreementAccumulator();
        for (int i = 0; i < n; i++) all.add(flip[i], d[i]);
        for (int trial = 0; trial < 8; trial++) {
            int parts = 2 + rnd.nextInt(6);
            int[] cuts = TestSupport.randomCuts(n, parts, rnd);
            DisagreementAccumulator merged = new DisagreementAccumulator();
            for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                DisagreementAccumulator part = new DisagreementAccumulator();
                for (int i = cuts[p]; i < cuts[p + 1]; i++) part.add(flip[i], d[i]);
                merged.merge(TestSupport.roundTrip(part::writeTo, DisagreementAccumulator::readFrom));
            }
            assertEquals(all.count(), merged.count());
            assertEquals(all.sketchN(), merged.sketchN());
            assertEquals(all.flips(), merged.flips());
            assertClose(all.meanAbsDifference(), merged.meanAbsDifference(), 1e-12, "mean");
            assertEquals(all.maxAbsDifference(), merged.maxAbsDifference(), 0.0);
            for (double q : QS) {
                assertQuantileWithinRankError(
                        sorted, q, merged.absDifferenceQuantile(q), merged.absDifferenceRankError());
            }
        }
    }

    @Test
    void serialisationRoundTripAndCopy() throws IOException {
        Random rnd = new Random(29);
        DisagreementAccumulator a = new DisagreementAccumulator();
        for (double x : randomDiffs(rnd, 5000)) a.add(rnd.nextBoolean(), x);
        DisagreementAccumulator b = TestSupport.roundTrip(a::writeTo, DisagreementAccumulator::readFrom);
        assertEquals(a, b);
        assertEquals(a.count(), b.count());
        assertEquals(a.flips(), b.flips());
        assertEquals(a.meanAbsDifference(), b.meanAbsDifference(), 0.0);
        assertEquals(a.maxAbsDifference(), b.maxAbsDifference(), 0.0);
        for (double q : QS) assertEquals(a.absDifferenceQuantile(q), b.absDifferenceQuantile(q), 0.0);
        // deserialised sketch is still updatable
        b.add(true, 0.25);
        assertEquals(a.count() + 1, b.count());

        DisagreementAccumulator c = a.copy();
        assertEquals(a, c);
        c.add(false, 7.0);
        assertEquals(a.count() + 1, c.count());
        assertEquals(7.0, c.maxAbsDifference(), 0.0);
        assertTrue(a.maxAbsDifference() < 7.0);

        DisagreementAccumulator empty = new DisagreementAccumulator();
        DisagreementAccumulator e2 = TestSupport.roundTrip(empty::writeTo, DisagreementAccumulator::readFrom);
        assertEquals(empty, e2);
        assertEquals(0, e2.count());

        byte[] bytes = TestSupport.bytes(a::writeTo);
        assertThrows(
                IOException.class,
                () -> TestSupport.read(Arrays.copyOf(bytes, bytes.length - 3), DisagreementAccumulator::readFrom));
    }

    @Test
    void edgeCases() {
        DisagreementAccumulator a = new DisagreementAccumulator();
        assertEquals(0, a.count());
        assertTrue(Double.isNaN(a.flipRate()));
        assertTrue(Double.isNaN(a.meanAbsDifference()));
        assertTrue(Double.isNaN(a.maxAbsDifference()));
        assertTrue(Double.isNaN(a.absDifferenceQuantile(0.5)));
        a.merge(new DisagreementAccumulator()); // empty into empty
        assertEquals(0, a.count());
        a.add(true, 0.0);
        assertEquals(1.0, a.flipRate());
        assertEquals(0.0, a.maxAbsDifference());
        assertEquals(0.0, a.absDifferenceQuantile(0.5));
        assertThrows(IllegalArgumentException.class, () -> a.add(false, -0.1));
        assertThrows(IllegalArgumentException.class, () -> a.add(false, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> a.add(false, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> a.absDifferenceQuantile(1.5));
        assertEquals(1, a.count());
        assertEquals(1, a.sketchN());
    }
}
