package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class BinaryQualityAccumulatorTest {

    /** Raw events kept by the test so every expectation is computed from them directly. */
    private static final class Events {
        final double[] score;
        final boolean[] label;

        Events(double[] score, boolean[] label) {
            this.score = score;
            this.label = label;
        }

        int n() {
            return score.length;
        }
    }

    private static Events randomEvents(long seed, int n, double separation) {
        Random rnd = new Random(seed);
        double[] s = new double[n];
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextDouble() < 0.3;
            double z = rnd.nextGaussian() + (y[i] ? separation : 0.0);
            s[i] = (float) (1.0 / (1.0 + Math.exp(-(z - separation / 2)))); // model scores are float32
        }
        return new Events(s, y);
    }

    private static BinaryQualityAccumulator accumulate(Events e, int from, int to, double thr) {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(thr);
        for (int i = from; i < to; i++) {
            a.add(e.score[i], e.label[i]);
        }
        return a;
    }

    /** Exact AUC: O(P·N) Mann–Whitney over all (positive, negative) pairs, ties count 1/2. */
    private static double exactAuc(Events e) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < e.n(); i++) {
            if (!e.label[i]) {
                continue;
            }
            for (int j = 0; j < e.n(); j++) {
                if (e.label[j]) {
                    continue;
                }
                pairs++;
                if (e.score[i] > e.score[j]) {
                    wins += 1;
                } else if (e.score[i] == e.score[j]) {
                    wins += 0.5;
                }
            }
        }
        return wins / pairs;
    }

    @Test
    void matchesBruteForceOnRandomData() {
        for (long seed = 1; seed <= 3; seed++) {
            Events e = randomEvents(seed, 4000, 1.0 + seed * 0.5);
            double thr = 0.35 + 0.1 * seed;
            BinaryQualityAccumulator a = accumulate(e, 0, e.n(), thr);

            long tp = 0, fp = 0, tn = 0, fn = 0, pos = 0;
            double logLoss = 0, brier = 0;
            for (int i = 0; i < e.n(); i++) {
                boolean pred = e.score[i] >= (float) thr;
                double y = e.label[i] ? 1 : 0;
                if (e.label[i]) {
                    pos++;
                }
                if (pred && e.label[i]) tp++;
                if (pred && !e.label[i]) fp++;
                if (!pred && !e.label[i]) tn++;
                if (!pred && e.label[i]) fn++;
                double p = Math.min(Math.max(e.score[i], 0x1p-23), 1 - 0x1p-23);
                logLoss += -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
                brier += (e.score[i] - y) * (e.score[i] - y);
            }
            int n = e.n();
            assertEquals(n, a.count());
            assertEquals(pos, a.positives());
            assertEquals(tp, a.truePositives());
            assertEquals(fp, a.falsePositives());
            assertEquals(tn, a.trueNegatives());
            assertEquals(fn, a.falseNegatives());
            double precision = (double) tp / (tp + fp);
            double recall = (double) tp / (tp + fn);
            assertClose((double) (tp + tn) / n, a.accuracy(), 1e-12, "accuracy");
            assertClose(precision, a.precision(), 1e-12, "precision");
            assertClose(recall, a.recall(), 1e-12, "recall");
            assertClose(2 * precision * recall / (precision + recall), a.f1(), 1e-12, "f1");
            assertClose(logLoss / n, a.logLoss(), 1e-12, "logLoss");
            assertClose(brier / n, a.brier(), 1e-12, "brier");

            double exact = exactAuc(e);
            double binned = a.rocAuc();
            double bound = a.rocAucMaxError();
            assertTrue(Math.abs(binned - exact) <= bound + 1e-12, "|" + binned + " - " + exact + "| > bound " + bound);
            assertTrue(Math.abs(binned - exact) <= 0.002, "binned " + binned + " vs exact " + exact);
            assertTrue(bound <= 0.002, "bound " + bound);
        }
    }

    /** DeLong variance from all (positive, negative) placements, O(P·N): V10, V01 and their sample variances. */
    private static double bruteForceDeLongVariance(Events e) {
        List<Double> pos = new ArrayList<>();
        List<Double> neg = new ArrayList<>();
        for (int i = 0; i < e.n(); i++) {
            (e.label[i] ? pos : neg).add(e.score[i]);
        }
        double[] v10 = new double[pos.size()];
        double[] v01 = new double[neg.size()];
        for (int i = 0; i < pos.size(); i++) {
            for (int j = 0; j < neg.size(); j++) {
                double w = pos.get(i) > neg.get(j) ? 1 : pos.get(i).equals(neg.get(j)) ? 0.5 : 0;
                v10[i] += w / neg.size();
                v01[j] += w / pos.size();
            }
        }
        return sampleVariance(v10) / pos.size() + sampleVariance(v01) / neg.size();
    }

    private static double sampleVariance(double[] x) {
        double mean = Arrays.stream(x).average().orElseThrow();
        return Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum() / (x.length - 1);
    }

    @Test
    void aucIntervalIsTheDeLongNormalInterval() {
        Events e = randomEvents(7, 1500, 1.5);
        BinaryQualityAccumulator a = accumulate(e, 0, e.n(), 0.5);
        double exact = exactAuc(e);
        double half = 1.959963984540054 * Math.sqrt(bruteForceDeLongVariance(e));
        // the bins are fine enough here that AUC and placements are (near) exact
        assertTrue(a.rocAucMaxError() < 1e-3, "bound " + a.rocAucMaxError());
        double[] ci = a.rocAucCi95();
        assertEquals(exact - half, ci[0], 2e-3);
        assertEquals(exact + half, ci[1], 2e-3);
        assertEquals(a.rocAuc(), (ci[0] + ci[1]) / 2, 1e-12, "symmetric around the AUC when not clipped");
        Map<String, Double> m = new HashMap<>();
        a.putMetrics(m);
        assertEquals(ci[0], m.get("roc_auc_ci_low"));
        assertEquals(ci[1], m.get("roc_auc_ci_high"));
        assertEquals(a.rocAucMaxError(), m.get("roc_auc_max_error"));

        // perfectly separated: AUC 1, variance 0, interval [1, 1]; one positive: no variance, NaN
        BinaryQualityAccumulator sep = new BinaryQualityAccumulator(0.5);
        sep.add(0.1, false);
        sep.add(0.2, false);
        sep.add(0.8, true);
        sep.add(0.9, true);
        assertArrayEquals(new double[] {1.0, 1.0}, sep.rocAucCi95());
        BinaryQualityAccumulator onePos = new BinaryQualityAccumulator(0.5);
        onePos.add(0.1, false);
        onePos.add(0.2, false);
        onePos.add(0.9, true);
        assertTrue(Double.isNaN(onePos.rocAucCi95()[0]) && Double.isNaN(onePos.rocAucCi95()[1]));
    }

    /**
     * Reliability bins and ECE by brute force: bin membership decided exactly with BigDecimal
     * (i/10 ≤ p < (i+1)/10, 1.0 in the last bin), means and ECE summed per bin here.
     */
    @Test
    void reliabilityBinsAndEceByBruteForce() {
        Events e = randomEvents(11, 3000, 1.0);
        BinaryQualityAccumulator a = accumulate(e, 0, e.n(), 0.5);
        // scores on the bin edges, too
        float[] edges = {0f, 0.1f, 0.3f, 0.7f, 0.9f, 1f, Math.nextDown(0.5f), 0.5f};
        List<Double> scores = new ArrayList<>();
        List<Boolean> labels = new ArrayList<>();
        for (int i = 0; i < e.n(); i++) {
            scores.add(e.score[i]);
            labels.add(e.label[i]);
        }
        for (int i = 0; i < edges.length; i++) {
            a.add(edges[i], i % 2 == 0);
            scores.add((double) edges[i]);
            labels.add(i % 2 == 0);
        }
        long[] count = new long[10];
        double[] sumP = new double[10];
        long[] pos = new long[10];
        for (int i = 0; i < scores.size(); i++) {
            BigDecimal p = new BigDecimal(scores.get(i));
            int bin = 9;
            for (int b = 0; b < 10; b++) {
                if (p.compareTo(BigDecimal.valueOf(b + 1, 1)) < 0) {
                    bin = b;
                    break;
                }
            }
            count[bin]++;
            sumP[bin] += scores.get(i);
            pos[bin] += labels.get(i) ? 1 : 0;
        }
        List<ReliabilityHistogram.Bin> bins = a.reliability();
        int k = 0;
        double ece = 0;
        for (int b = 0; b < 10; b++) {
            if (count[b] == 0) {
                continue;
            }
            ReliabilityHistogram.Bin got = bins.get(k++);
            assertEquals(b / 10.0, got.lower(), 1e-15);
            assertEquals((b + 1) / 10.0, got.upper(), 1e-15);
            assertEquals(count[b], got.count(), "bin " + b);
            assertEquals(sumP[b] / count[b], got.meanPredicted(), 1e-12);
            assertEquals((double) pos[b] / count[b], got.observed(), 1e-15);
            ece += (double) count[b] / scores.size() * Math.abs((double) pos[b] / count[b] - sumP[b] / count[b]);
        }
        assertEquals(k, bins.size(), "only the non-empty bins");
        assertEquals(ece, a.ece(), 1e-12);
        Map<String, Double> m = new HashMap<>();
        a.putMetrics(m);
        assertEquals(a.ece(), m.get("ece"));
    }

    /** A tiny case worked by hand. */
    @Test
    void eceByHand() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        // bin 0: 0.05 (negative), 0.08 (positive) -> mean predicted 0.065, observed 0.5
        // bin 9: 0.95 and 1.0, both positive -> mean predicted 0.975, observed 1
        a.add(0.05f, false);
        a.add(0.08f, true);
        a.add(0.95f, true);
        a.add(1.0f, true);
        // ECE = 2/4 * |0.5 - 0.065| + 2/4 * |1 - 0.975| = 0.2175 + 0.0125 = 0.23
        assertEquals(0.23, a.ece(), 1e-7);
        assertEquals(2, a.reliability().size());
        assertEquals(0.9, a.reliability().get(1).lower(), 1e-15);
        assertTrue(Double.isNaN(new BinaryQualityAccumulator(0.5).ece()));
    }

    /** Worked by hand, threshold 0.5. */
    @Test
    void smallCaseByHand() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        // positives: 0.9 (bin 9), 0.45 (bin 4), 0.5 (bin 5, exactly at threshold -> predicted positive)
        // negatives: 0.41 (bin 4), 0.2 (bin 2), 0.7 (bin 7)
        a.add(0.9, true);
        a.add(0.45, true);
        a.add(0.5, true);
        a.add(0.41, false);
        a.add(0.2, false);
        a.add(0.7, false);
        // predicted positive: 0.9, 0.5 (positives), 0.7 (negative) -> tp=2, fn=1, fp=1, tn=2
        assertEquals(2, a.truePositives());
        assertEquals(1, a.falseNegatives());
        assertEquals(1, a.falsePositives());
        assertEquals(2, a.trueNegatives());
        assertEquals(4.0 / 6, a.accuracy(), 1e-15);
        assertEquals(2.0 / 3, a.precision(), 1e-15);
        assertEquals(2.0 / 3, a.recall(), 1e-15);
        assertEquals(2.0 / 3, a.f1(), 1e-15);
        // exact pairs: 0.9 beats all 3; 0.45 beats 0.41, 0.2, loses to 0.7; 0.5 beats 0.41, 0.2 -> 7/9.
        // Bins in [1/4, 1/2) are 2^-11 wide, so 0.45 (bin 921) and 0.41 (bin 839) are apart: exact.
        assertEquals(7.0 / 9, a.rocAuc(), 1e-15);
        assertEquals(0.0, a.rocAucMaxError());
        // A negative 0.4501 (floor(0.4501 * 2048) = 921) shares 0.45's bin. Exactly, 0.9 and 0.5 beat
        // it and 0.45 does not: 9 of 12 pairs. Binned, the shared pair counts 1/2: 9.5/12, bound 0.5/12.
        BinaryQualityAccumulator b = a.copy();
        b.add(0.4501, false);
        assertEquals(9.5 / 12, b.rocAuc(), 1e-15);
        assertEquals(0.5 / 12, b.rocAucMaxError(), 1e-15);
        // Brier: (0.1^2 + 0.55^2 + 0.5^2 + 0.41^2 + 0.2^2 + 0.7^2) / 6 = 1.0906 / 6
        assertEquals((0.01 + 0.3025 + 0.25 + 0.1681 + 0.04 + 0.49) / 6, a.brier(), 1e-12);
        double ll =
                -(Math.log(0.9) + Math.log(0.45) + Math.log(0.5) + Math.log(0.59) + Math.log(0.8) + Math.log(0.3)) / 6;
        assertEquals(ll, a.logLoss(), 1e-12);
    }

    @Test
    void mergeEqualsAccumulatingTheUnion() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 20; trial++) {
            Events e = randomEvents(100 + trial, 2000, 1.2);
            BinaryQualityAccumulator all = accumulate(e, 0, e.n(), 0.5);
            int parts = 1 + rnd.nextInt(6);
            int[] cuts = TestSupport.randomCuts(e.n(), parts, rnd);
            BinaryQualityAccumulator[] acc = new BinaryQualityAccumulator[parts];
            for (int p = 0; p < parts; p++) {
                acc[p] = accumulate(e, cuts[p], cuts[p + 1], 0.5);
            }
            BinaryQualityAccumulator merged = null;
            for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                if (merged == null) {
                    merged = acc[p].copy();
                } else {
                    merged.merge(acc[p]);
                }
            }
            assertSameMetrics(all, merged);
            assertEquals(all.rocAuc(), merged.rocAuc(), 0.0);
            assertEquals(all.rocAucMaxError(), merged.rocAucMaxError(), 0.0);
            assertArrayEquals(all.rocAucCi95(), merged.rocAucCi95(), 1e-12);
            assertEquals(all.ece(), merged.ece(), 1e-12);
            assertEquals(all.reliability().size(), merged.reliability().size());
        }
    }

    @Test
    void mergeRejectsDifferentConfig() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new BinaryQualityAccumulator(0.5).merge(new BinaryQualityAccumulator(0.6)));
    }

    @Test
    void serialisationRoundTrip() throws IOException {
        Events e = randomEvents(9, 3000, 1.0);
        BinaryQualityAccumulator a = accumulate(e, 0, e.n(), 0.42);
        BinaryQualityAccumulator b = TestSupport.roundTrip(a::writeTo, BinaryQualityAccumulator::readFrom);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertSameMetrics(a, b);
        assertEquals(a.rocAuc(), b.rocAuc(), 0.0);
        assertEquals(0.42, b.threshold());

        BinaryQualityAccumulator empty = new BinaryQualityAccumulator(0.5);
        assertEquals(empty, TestSupport.roundTrip(empty::writeTo, BinaryQualityAccumulator::readFrom));

        // compact: 3 events -> 29 bytes of counts and sums, 3 AUC bins (~5 bytes each), 10 + 2 · 9 reliability
        BinaryQualityAccumulator small = new BinaryQualityAccumulator(0.5);
        small.add(0.1, false);
        small.add(0.9, true);
        small.add(0.95, true);
        byte[] bytes = TestSupport.bytes(small::writeTo);
        assertTrue(bytes.length < 96, "serialised size " + bytes.length);
        assertEquals(small, TestSupport.roundTrip(small::writeTo, BinaryQualityAccumulator::readFrom));

        // truncated input fails with IOException
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 1);
        assertThrows(IOException.class, () -> TestSupport.read(truncated, BinaryQualityAccumulator::readFrom));
    }

    @Test
    void copyIsIndependent() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        a.add(0.3, true);
        BinaryQualityAccumulator c = a.copy();
        assertEquals(a, c);
        c.add(0.8, false);
        assertEquals(1, a.count());
        assertEquals(2, c.count());
        assertNotEquals(a, c);
    }

    @Test
    void emptyIsNaN() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        assertEquals(0, a.count());
        assertTrue(Double.isNaN(a.accuracy()));
        assertTrue(Double.isNaN(a.precision()));
        assertTrue(Double.isNaN(a.recall()));
        assertTrue(Double.isNaN(a.f1()));
        assertTrue(Double.isNaN(a.logLoss()));
        assertTrue(Double.isNaN(a.brier()));
        assertTrue(Double.isNaN(a.rocAuc()));
        assertTrue(Double.isNaN(a.rocAucMaxError()));
    }

    @Test
    void allOneClass() {
        BinaryQualityAccumulator neg = new BinaryQualityAccumulator(0.5);
        neg.add(0.2, false);
        neg.add(0.3, false);
        assertEquals(1.0, neg.accuracy());
        assertTrue(Double.isNaN(neg.precision()), "nothing predicted positive");
        assertTrue(Double.isNaN(neg.recall()), "no positives");
        assertTrue(Double.isNaN(neg.f1()), "no positives and no positive predictions");
        assertTrue(Double.isNaN(neg.rocAuc()));

        BinaryQualityAccumulator negWithFp = new BinaryQualityAccumulator(0.5);
        negWithFp.add(0.7, false);
        assertEquals(0.0, negWithFp.precision());
        assertTrue(Double.isNaN(negWithFp.recall()));
        assertEquals(0.0, negWithFp.f1(), "tp = 0, fp > 0 -> F1 = 0");

        BinaryQualityAccumulator pos = new BinaryQualityAccumulator(0.5);
        pos.add(0.2, true);
        pos.add(0.9, true);
        assertEquals(0.5, pos.recall());
        assertEquals(1.0, pos.precision());
        assertTrue(Double.isNaN(pos.rocAuc()));
    }

    @Test
    void scoreExactlyAtThresholdIsPositive() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        a.add(0.5, true);
        a.add(0.5, false);
        a.add(Math.nextDown(0.5), true);
        assertEquals(1, a.truePositives());
        assertEquals(1, a.falsePositives());
        assertEquals(1, a.falseNegatives());
        assertEquals(0, a.trueNegatives());
    }

    /** 0.7f is 0.699999988 as a double, below the double 0.7; the model's float32 score is at the threshold. */
    @Test
    void float32ScoreEqualToTheThresholdIsPositive() {
        assertTrue((double) 0.7f < 0.7, "the tie this test is about");
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.7);
        a.addLabelled(new float[] {0.7f}, 0, 1.0);
        a.addLabelled(new float[] {0.7f}, 0, 0.0);
        a.addLabelled(new float[] {Math.nextDown(0.7f)}, 0, 1.0);
        assertEquals(1, a.truePositives());
        assertEquals(1, a.falsePositives());
        assertEquals(1, a.falseNegatives());
        assertEquals(0, a.trueNegatives());
    }

    @Test
    void logLossClipsZeroAndOne() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        a.add(0.0, true); // -ln(2^-23) = 23 ln 2
        assertEquals(23 * Math.log(2), a.logLoss(), 1e-12);
        assertEquals(15.942385152878742, a.logLoss(), 1e-9);

        BinaryQualityAccumulator b = new BinaryQualityAccumulator(0.5);
        b.add(1.0, true);
        b.add(0.0, false);
        // each costs -ln(1 - 2^-23) ~ 2^-23
        assertEquals(0x1p-23, b.logLoss(), 1e-13);
        assertEquals(0.0, b.brier());
        assertEquals(1.0, b.rocAuc());

        BinaryQualityAccumulator c = new BinaryQualityAccumulator(0.5);
        c.add(1.0, false); // -ln(1 - (1 - 2^-23)) = 23 ln 2
        assertEquals(23 * Math.log(2), c.logLoss(), 1e-12);
        assertTrue(Double.isFinite(c.logLoss()));
        assertTrue(Double.isNaN(c.rocAuc()), "only negatives");
    }

    @Test
    void rejectsInvalidScoresWithoutChangingState() {
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(0.5);
        a.add(0.3, true);
        BinaryQualityAccumulator before = a.copy();
        assertThrows(IllegalArgumentException.class, () -> a.add(Double.NaN, true));
        assertThrows(IllegalArgumentException.class, () -> a.add(-0.01, true));
        assertThrows(IllegalArgumentException.class, () -> a.add(1.01, false));
        assertEquals(before, a);
    }

    private static void assertSameMetrics(BinaryQualityAccumulator x, BinaryQualityAccumulator y) {
        assertEquals(x.count(), y.count());
        assertEquals(x.positives(), y.positives());
        assertEquals(x.truePositives(), y.truePositives());
        assertEquals(x.falsePositives(), y.falsePositives());
        assertEquals(x.trueNegatives(), y.trueNegatives());
        assertEquals(x.falseNegatives(), y.falseNegatives());
        assertClose(x.accuracy(), y.accuracy(), 0, "accuracy");
        assertClose(x.f1(), y.f1(), 0, "f1");
        assertClose(x.logLoss(), y.logLoss(), 1e-12, "logLoss");
        assertClose(x.brier(), y.brier(), 1e-12, "brier");
        assertClose(x.rocAuc(), y.rocAuc(), 0, "auc");
        assertClose(x.rocAucMaxError(), y.rocAucMaxError(), 0, "auc bound");
    }
}
