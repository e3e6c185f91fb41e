package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.Random;

import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.apache.commons.math3.distribution.TDistribution;
import org.junit.jupiter.api.Test;

class PairedComparisonAccumulatorTest {

    /** Accumulator holding exactly b live-only and c candidate-only events (plus some concordant ones). */
    private static PairedComparisonAccumulator withDiscordant(int b, int c) {
        PairedComparisonAccumulator a = new PairedComparisonAccumulator();
        for (int i = 0; i < b; i++) a.add(true, false, 0.1, 0.9);
        for (int i = 0; i < c; i++) a.add(false, true, 0.9, 0.1);
        for (int i = 0; i < 5; i++) a.add(true, true, 0.2, 0.2); // concordant: do not matter
        for (int i = 0; i < 3; i++) a.add(false, false, 0.8, 0.8);
        return a;
    }

    /** 2·Σ_{k ≤ min(b,c)} C(b+c, k) / 2^(b+c), capped at 1, in exact arithmetic. */
    private static double exactMcNemar(int b, int c) {
        int n = b + c;
        BigInteger sum = BigInteger.ZERO;
        BigInteger binom = BigInteger.ONE; // C(n, 0)
        for (int k = 0; k <= Math.min(b, c); k++) {
            sum = sum.add(binom);
            binom = binom.multiply(BigInteger.valueOf(n - k)).divide(BigInteger.valueOf(k + 1));
        }
        BigDecimal p = new BigDecimal(sum.shiftLeft(1))
                .divide(new BigDecimal(BigInteger.ONE.shiftLeft(n)), MathContext.DECIMAL64);
        return Math.min(1.0, p.doubleValue());
    }

    @Test
    void mcnemarByHand() {
        // b=1, c=6: 2·(C(7,0)+C(7,1))/2^7 = 2·8/128 = 0.125
        PairedComparisonAccumulator a = withDiscordant(1, 6);
        assertEquals(1, a.liveOnlyCorrect());
        assertEquals(6, a.candidateOnlyCorrect());
        assertEquals(0.125, a.mcnemarPValue(), 1e-12);
        // b=c=0 -> 1
        assertEquals(1.0, withDiscordant(0, 0).mcnemarPValue());
        // b=3, c=3: 2·(1+6+15+20)/64 = 84/64 > 1 -> 1
        assertEquals(1.0, withDiscordant(3, 3).mcnemarPValue());
        // b=2, c=10: 2·(1+12+66)/4096 = 158/4096
        assertEquals(158.0 / 4096, withDiscordant(2, 10).mcnemarPValue(), 1e-12);
        // b=0, c=5: 2/32
        assertEquals(2.0 / 32, withDiscordant(0, 5).mcnemarPValue(), 1e-12);
    }

    @Test
    void mcnemarExactMatchesDirectBinomialSum() {
        for (int b = 0; b < 25; b++) {
            for (int c = 0; b + c < 25; c++) {
                double expected = b + c == 0 ? 1.0 : exactMcNemar(b, c);
                assertClose(expected, PairedComparisonAccumulator.mcnemarPValue(b, c), 1e-12, "b=" + b + " c=" + c);
            }
        }
    }

    /**
     * b + c >= 25: chi-square with continuity correction. Expected values from the closed form of the
     * χ²₁ survival function, P[χ²₁ > x] = erfc(√(x/2)), evaluated independently (Python math.erfc).
     */
    @Test
    void mcnemarChiSquareByHand() {
        // b=10, c=20: (|10-20|-1)^2/30 = 2.7 -> erfc(sqrt(1.35)) = 0.10034824646229074
        assertEquals(0.10034824646229074, withDiscordant(10, 20).mcnemarPValue(), 1e-12);
        // b=5, c=20 (n = 25, first chi-square case): 14^2/25 = 7.84 -> erfc(sqrt(3.92))
        assertEquals(0.005110260660855864, withDiscordant(5, 20).mcnemarPValue(), 1e-12);
        // b=40, c=5: 34^2/45 -> erfc(sqrt(1156/90))
        assertEquals(4.0112993295804245e-07, withDiscordant(40, 5).mcnemarPValue(), 1e-15);
        // b=c -> statistic 0 -> p = 1; |b-c| = 1 -> statistic 0 -> p = 1
        assertEquals(1.0, withDiscordant(15, 15).mcnemarPValue(), 1e-15);
        assertEquals(1.0, withDiscordant(12, 13).mcnemarPValue(), 1e-15);
        // consistency with 1 - CDF of commons-math's ChiSquaredDistribution on a grid
        ChiSquaredDistribution chi1 = new ChiSquaredDistribution(1);
        for (int b = 0; b < 60; b += 3) {
            for (int c = Math.max(0, 25 - b); c < 60; c += 4) {
                double stat = Math.pow(Math.max(Math.abs(b - c) - 1, 0), 2) / (b + c);
                double expected = 1 - chi1.cumulativeProbability(stat);
                assertEquals(expected, PairedComparisonAccumulator.mcnemarPValue(b, c), 1e-9, "b=" + b + " c=" + c);
            }
        }
        // a very lopsided case stays positive (1 - cdf would round to 0): erfc(sqrt(249.002)) ~ 1e-110
        double tiny = PairedComparisonAccumulator.mcnemarPValue(500, 0);
        assertEquals(2.586404760578672e-110, tiny, 2.6e-119);
    }

    /** Differences {1,2,3,4,5}: mean 3, s = √2.5, t(0.975, 4) = 2.776445105 (table). */
    @Test
    void confidenceIntervalByHand() {
        PairedComparisonAccumulator a = new PairedComparisonAccumulator();
        double[] live = {0.5, 1.0, 0.0, 2.0, 1.5};
        double[] diff = {1, 2, 3, 4, 5};
        for (int i = 0; i < 5; i++) a.add(true, true, live[i], live[i] + diff[i]);
        assertEquals(3.0, a.meanLossDifference(), 1e-12);
        assertEquals(2.5, a.lossDifferenceVariance(), 1e-12);
        double half = 2.776445105 * Math.sqrt(2.5) / Math.sqrt(5);
        double[] ci = a.lossDifferenceCi95();
        assertEquals(3.0 - half, ci[0], 1e-8);
        assertEquals(3.0 + half, ci[1], 1e-8);
        assertEquals(1.0367568, ci[0], 1e-6);
        assertEquals(4.9632432, ci[1], 1e-6);
    }

    @Test
    void matchesTwoPassOnRandomData() {
        Random rnd = new Random(31);
        int n = 2000;
        double[] live = new double[n], cand = new double[n];
        boolean[] lc = new boolean[n], cc = new boolean[n];
        PairedComparisonAccumulator a = new PairedComparisonAccumulator();
        long b = 0, c = 0;
        for (int i = 0; i < n; i++) {
            live[i] = 1e6 + rnd.nextDouble(); // large offset: naive sum of squares would lose digits
            cand[i] = live[i] - 0.02 + 0.3 * rnd.nextGaussian();
            lc[i] = rnd.nextDouble() < 0.8;
            cc[i] = rnd.nextDouble() < 0.82;
            a.add(lc[i], cc[i], live[i], cand[i]);
            if (lc[i] && !cc[i]) b++;
            if (!lc[i] && cc[i]) c++;
        }
        double mean = 0;
        for (int i = 0; i < n; i++) mean += cand[i] - live[i];
        mean /= n;
        double ss = 0;
        for (int i = 0; i < n; i++) {
            double dd = cand[i] - live[i] - mean;
            ss += dd * dd;
        }
        double var = ss / (n - 1);
        double t = new TDistribution(n - 1).inverseCumulativeProbability(0.975);
        double half = t * Math.sqrt(var / n);

        assertEquals(n, a.count());
        assertEquals(b, a.liveOnlyCorrect());
        assertEquals(c, a.candidateOnlyCorrect());
        assertClose(mean, a.meanLossDifference(), 1e-12, "mean");
        assertClose(var, a.lossDifferenceVariance(), 1e-9, "variance");
        double[] ci = a.lossDifferenceCi95();
        assertClose(mean - half, ci[0], 1e-10, "ci low");
        assertClose(mean + half, ci[1], 1e-10, "ci high");
        assertTrue(b + c >= 25);
        double stat = Math.pow(Math.abs(b - c) - 1, 2) / (b + c);
        assertEquals(1 - new ChiSquaredDistribution(1).cumulativeProbability(stat), a.mcnemarPValue(), 1e-9);
    }

    @Test
    void mergeEqualsAccumulatingTheUnion() throws IOException {
        Random rnd = new Random(37);
        int n = 5000;
        double[] live = new double[n], cand = new double[n];
        boolean[] lc = new boolean[n], cc = new boolean[n];
        for (int i = 0; i < n; i++) {
            live[i] = 5e5 + rnd.nextGaussian();
            cand[i] = live[i] + 0.1 * rnd.nextGaussian() + 0.01;
            lc[i] = rnd.nextBoolean();
            cc[i] = rnd.nextBoolean();
        }
        PairedComparisonAccumulator all = new PairedComparisonAccumulator();
        for (int i = 0; i < n; i++) all.add(lc[i], cc[i], live[i], cand[i]);
        for (int trial = 0; trial < 20; trial++) {
            int parts = 1 + rnd.nextInt(7);
            int[] cuts = TestSupport.randomCuts(n, parts, rnd);
            PairedComparisonAccumulator merged = new PairedComparisonAccumulator();
            for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                PairedComparisonAccumulator part = new PairedComparisonAccumulator();
                for (int i = cuts[p]; i < cuts[p + 1]; i++) part.add(lc[i], cc[i], live[i], cand[i]);
                merged.merge(TestSupport.roundTrip(part::writeTo, PairedComparisonAccumulator::readFrom));
            }
            assertEquals(all.count(), merged.count());
            assertEquals(all.bothCorrect(), merged.bothCorrect());
            assertEquals(all.liveOnlyCorrect(), merged.liveOnlyCorrect());
            assertEquals(all.candidateOnlyCorrect(), merged.candidateOnlyCorrect());
            assertEquals(all.bothWrong(), merged.bothWrong());
            assertEquals(all.mcnemarPValue(), merged.mcnemarPValue(), 0.0);
            assertClose(all.meanLossDifference(), merged.meanLossDifference(), 1e-9, "mean");
            assertClose(all.lossDifferenceVariance(), merged.lossDifferenceVariance(), 1e-9, "var");
            assertClose(all.lossDifferenceCi95()[0], merged.lossDifferenceCi95()[0], 1e-9, "ci low");
            assertClose(all.lossDifferenceCi95()[1], merged.lossDifferenceCi95()[1], 1e-9, "ci high");
        }
    }

    @Test
    void serialisationRoundTripAndCopy() throws IOException {
        PairedComparisonAccumulator a = withDiscordant(7, 30);
        a.add(true, false, 0.3, 0.35);
        PairedComparisonAccumulator b = TestSupport.roundTrip(a::writeTo, PairedComparisonAccumulator::readFrom);
        assertEquals(a, b);
        assertEquals(a.mcnemarPValue(), b.mcnemarPValue(), 0.0);
        assertEquals(a.lossDifferenceCi95()[0], b.lossDifferenceCi95()[0], 0.0);
        PairedComparisonAccumulator c = a.copy();
        assertEquals(a, c);
        c.add(true, true, 0, 0);
        assertEquals(a.count() + 1, c.count());
        PairedComparisonAccumulator empty = new PairedComparisonAccumulator();
        assertEquals(empty, TestSupport.roundTrip(empty::writeTo, PairedComparisonAccumulator::readFrom));
    }

    @Test
    void edgeCases() {
        PairedComparisonAccumulator a = new PairedComparisonAccumulator();
        assertEquals(0, a.count());
        assertEquals(1.0, a.mcnemarPValue());
        assertTrue(Double.isNaN(a.meanLossDifference()));
        assertTrue(Double.isNaN(a.lossDifferenceCi95()[0]) && Double.isNaN(a.lossDifferenceCi95()[1]));
        a.merge(new PairedComparisonAccumulator());
        assertTrue(Double.isNaN(a.meanLossDifference()));
        a.add(true, true, 1.0, 0.5);
        assertEquals(-0.5, a.meanLossDifference(), 0.0);
        assertTrue(Double.isNaN(a.lossDifferenceCi95()[0]), "n = 1");
        // merging into an empty one takes the other's moments
        PairedComparisonAccumulator e = new PairedComparisonAccumulator();
        e.merge(a);
        assertEquals(a, e);
        // all differences equal -> zero-width interval
        a.add(false, false, 2.0, 1.5);
        double[] ci = a.lossDifferenceCi95();
        assertEquals(-0.5, ci[0], 1e-15);
        assertEquals(-0.5, ci[1], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> a.add(true, true, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> a.add(true, true, 0, Double.NEGATIVE_INFINITY));
        assertEquals(2, a.count());
    }

    @Test
    void perClassCountsMatchACountByHandAndSurviveMergeAndSerialisation() throws IOException {
        Random rnd = new Random(5);
        int classes = 3;
        long[][][] expected = new long[classes][2][2];
        PairedComparisonAccumulator left = new PairedComparisonAccumulator(classes);
        PairedComparisonAccumulator right = new PairedComparisonAccumulator(classes);
        for (int i = 0; i < 2000; i++) {
            int y = rnd.nextInt(classes);
            boolean lc = rnd.nextInt(10) < 8;
            boolean cc = rnd.nextInt(10) < 7;
            expected[y][lc ? 1 : 0][cc ? 1 : 0]++;
            (i % 3 == 0 ? left : right).add(y, lc, cc, 0.1, 0.2);
        }
        PairedComparisonAccumulator all = TestSupport.roundTrip(left::writeTo, PairedComparisonAccumulator::readFrom);
        all.merge(right.copy());
        long b = 0;
        for (int y = 0; y < classes; y++) {
            long classTotal = 0;
            for (int lc = 0; lc < 2; lc++) {
                for (int cc = 0; cc < 2; cc++) {
                    assertEquals(expected[y][lc][cc], all.count(y, lc == 1, cc == 1), y + "/" + lc + "/" + cc);
                    classTotal += expected[y][lc][cc];
                }
            }
            assertEquals(classTotal, all.classCount(y));
            b += expected[y][1][0];
        }
        assertEquals(b, all.liveOnlyCorrect(), "the overall counts are the sums over classes");
        assertEquals(2000, all.count());
        assertThrows(IllegalArgumentException.class, () -> all.add(3, true, true, 0, 0));
    }

    /** Format 1 (release 0.1.0: no per-class counts) is read; its pairs count overall only. */
    @Test
    void readsFormat1() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeByte(1);
        for (int k : new int[] {5, 2, 3, 1}) {
            out.writeByte(k); // a varint below 128 is its own byte
        }
        out.writeDouble(0.25);
        out.writeDouble(4.0);
        PairedComparisonAccumulator a = TestSupport.read(bytes.toByteArray(), PairedComparisonAccumulator::readFrom);
        assertEquals(11, a.count());
        assertEquals(2, a.liveOnlyCorrect());
        assertEquals(3, a.candidateOnlyCorrect());
        assertEquals(0.25, a.meanLossDifference(), 0.0);
        assertEquals(0.4, a.lossDifferenceVariance(), 1e-15);
        assertEquals(0, a.classes());
        PairedComparisonAccumulator now = new PairedComparisonAccumulator(2);
        now.add(1, false, true, 0.5, 0.1);
        a.merge(now);
        assertEquals(12, a.count());
        assertEquals(1, a.count(1, false, true), "per-class counts start with the upgrade");
    }
}
