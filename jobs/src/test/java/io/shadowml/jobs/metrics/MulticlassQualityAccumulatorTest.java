package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.ReliabilityBin;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.report.ReportFactory;

class MulticlassQualityAccumulatorTest {

    private static float[] uniform(int k) {
        float[] p = new float[k];
        java.util.Arrays.fill(p, 1f / k);
        return p;
    }

    /**
     * y_true = [0,0,1,1,2,2,0], y_pred = [0,1,1,1,0,2,2], K = 4 (class 3 never occurs).
     * Confusion (true rows): [1,1,1,0], [0,2,0,0], [1,0,1,0], [0,0,0,0].
     * F1_0 = 2·1/(2+1+2) = 0.4, F1_1 = 4/5 = 0.8, F1_2 = 2/4 = 0.5; class 3 is not present, so
     * macro F1 = (0.4 + 0.8 + 0.5)/3 = 0.5666…, as sklearn's f1_score(average='macro').
     */
    @Test
    void smallCaseByHand() {
        int[] yTrue = {0, 0, 1, 1, 2, 2, 0};
        int[] yPred = {0, 1, 1, 1, 0, 2, 2};
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(4);
        for (int i = 0; i < yTrue.length; i++) {
            a.add(uniform(4), yPred[i], yTrue[i]);
        }
        long[][] expected = {{1, 1, 1, 0}, {0, 2, 0, 0}, {1, 0, 1, 0}, {0, 0, 0, 0}};
        long[][] m = a.confusionMatrix();
        for (int t = 0; t < 4; t++) {
            assertArrayEquals(expected[t], m[t]);
        }
        assertEquals(7, a.count());
        assertEquals(4.0 / 7, a.accuracy(), 1e-15);
        assertEquals(0.4, a.f1(0), 1e-15);
        assertEquals(0.8, a.f1(1), 1e-15);
        assertEquals(0.5, a.f1(2), 1e-15);
        assertTrue(Double.isNaN(a.f1(3)));
        assertEquals(1.7 / 3, a.macroF1(), 1e-15);
        assertEquals(-Math.log(0.25), a.logLoss(), 1e-7); // float 0.25 is exact
    }

    /** A class only predicted (never true) counts with F1 = 0; sklearn gives (2/3 + 0)/2. */
    @Test
    void classOnlyPredictedCountsAsZero() {
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(3);
        a.add(uniform(3), 0, 0);
        a.add(uniform(3), 1, 0);
        assertEquals(2.0 / 3, a.f1(0), 1e-15);
        assertEquals(0.0, a.f1(1));
        assertTrue(Double.isNaN(a.f1(2)));
        assertEquals(1.0 / 3, a.macroF1(), 1e-15);
    }

    @Test
    void matchesBruteForceOnRandomData() {
        Random rnd = new Random(5);
        int k = 6;
        int n = 5000;
        int[] yTrue = new int[n];
        int[] yPred = new int[n];
        float[][] probs = new float[n][];
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(k);
        for (int i = 0; i < n; i++) {
            yTrue[i] = rnd.nextInt(k - 1); // class k-1 never true
            float[] p = new float[k];
            float sum = 0;
            for (int j = 0; j < k; j++) {
                p[j] = (float) rnd.nextDouble() + (j == yTrue[i] ? 1.5f : 0f);
                sum += p[j];
            }
            int arg = 0;
            for (int j = 0; j < k; j++) {
                p[j] /= sum;
                if (p[j] > p[arg]) arg = j;
            }
            if (i % 97 == 0) p[yTrue[i]] = 0f; // exercise clipping
            probs[i] = p;
            yPred[i] = arg;
            a.add(p, yPred[i], yTrue[i]);
        }
        // brute force: matrix, per-class precision/recall with zero_division=0, labels present
        long[][] cm = new long[k][k];
        double ll = 0;
        int correct = 0;
        boolean[] present = new boolean[k];
        for (int i = 0; i < n; i++) {
            cm[yTrue[i]][yPred[i]]++;
            present[yTrue[i]] = true;
            present[yPred[i]] = true;
            if (yTrue[i] == yPred[i]) correct++;
            double p = Math.max(probs[i][yTrue[i]], 0x1p-23);
            ll -= Math.log(Math.min(p, 1 - 0x1p-23));
        }
        double f1Sum = 0;
        int labels = 0;
        for (int c = 0; c < k; c++) {
            if (!present[c]) continue;
            labels++;
            long tp = cm[c][c], predicted = 0, actual = 0;
            for (int j = 0; j < k; j++) {
                predicted += cm[j][c];
                actual += cm[c][j];
            }
            double prec = predicted == 0 ? 0 : (double) tp / predicted;
            double rec = actual == 0 ? 0 : (double) tp / actual;
            f1Sum += prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec);
        }
        long[][] m = a.confusionMatrix();
        for (int t = 0; t < k; t++) {
            assertArrayEquals(cm[t], m[t]);
        }
        assertEquals(n, a.count());
        assertClose((double) correct / n, a.accuracy(), 1e-12, "accuracy");
        assertClose(f1Sum / labels, a.macroF1(), 1e-12, "macroF1");
        assertClose(ll / n, a.logLoss(), 1e-12, "logLoss");
    }

    @Test
    void mergeEqualsAccumulatingTheUnion() throws IOException {
        Random rnd = new Random(11);
        int k = 5, n = 3000;
        int[] yt = new int[n], yp = new int[n];
        float[][] pr = new float[n][];
        for (int i = 0; i < n; i++) {
            yt[i] = rnd.nextInt(k);
            yp[i] = rnd.nextDouble() < 0.6 ? yt[i] : rnd.nextInt(k);
            pr[i] = new float[k];
            for (int j = 0; j < k; j++) pr[i][j] = (float) rnd.nextDouble();
        }
        MulticlassQualityAccumulator all = new MulticlassQualityAccumulator(k);
        for (int i = 0; i < n; i++) all.add(pr[i], yp[i], yt[i]);
        for (int trial = 0; trial < 20; trial++) {
            int parts = 1 + rnd.nextInt(6);
            int[] cuts = TestSupport.randomCuts(n, parts, rnd);
            MulticlassQualityAccumulator merged = new MulticlassQualityAccumulator(k);
            for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                MulticlassQualityAccumulator part = new MulticlassQualityAccumulator(k);
                for (int i = cuts[p]; i < cuts[p + 1]; i++) part.add(pr[i], yp[i], yt[i]);
                // also exercise serialisation of the parts on the way
                merged.merge(TestSupport.roundTrip(part::writeTo, MulticlassQualityAccumulator::readFrom));
            }
            assertEquals(all.count(), merged.count());
            for (int t = 0; t < k; t++) assertArrayEquals(all.confusionMatrix()[t], merged.confusionMatrix()[t]);
            assertEquals(all.accuracy(), merged.accuracy(), 0.0);
            assertEquals(all.macroF1(), merged.macroF1(), 0.0);
            assertClose(all.logLoss(), merged.logLoss(), 1e-12, "logLoss");
        }
        assertThrows(IllegalArgumentException.class, () -> all.merge(new MulticlassQualityAccumulator(3)));
    }

    @Test
    void serialisationRoundTrip() throws IOException {
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(3);
        a.add(new float[] {0.7f, 0.2f, 0.1f}, 0, 0);
        a.add(new float[] {0.3f, 0.6f, 0.1f}, 1, 2);
        MulticlassQualityAccumulator b = TestSupport.roundTrip(a::writeTo, MulticlassQualityAccumulator::readFrom);
        assertEquals(a, b);
        assertEquals(a.macroF1(), b.macroF1(), 0.0);
        assertEquals(a.logLoss(), b.logLoss(), 0.0);
        MulticlassQualityAccumulator empty = new MulticlassQualityAccumulator(7);
        assertEquals(empty, TestSupport.roundTrip(empty::writeTo, MulticlassQualityAccumulator::readFrom));
        assertTrue(TestSupport.bytes(empty::writeTo).length < 30); // 14 + 10 empty reliability bins
        MulticlassQualityAccumulator c = a.copy();
        c.add(uniform(3), 2, 2);
        assertEquals(2, a.count());
        assertEquals(3, c.count());
    }

    @Test
    void edgeCases() {
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(3);
        assertTrue(Double.isNaN(a.accuracy()));
        assertTrue(Double.isNaN(a.macroF1()));
        assertTrue(Double.isNaN(a.logLoss()));

        a.add(new float[] {0f, 1f, 0f}, 1, 0); // p[true] = 0 -> clipped to 2^-23
        assertEquals(23 * Math.log(2), a.logLoss(), 1e-12);
        MulticlassQualityAccumulator b = new MulticlassQualityAccumulator(3);
        b.add(new float[] {1f, 0f, 0f}, 0, 0); // p[true] = 1 -> clipped to 1 - 2^-23: -ln(1 - 2^-23) ~ 2^-23
        assertEquals(0x1p-23, b.logLoss(), 1e-13);
        assertEquals(1.0, b.macroF1());

        // all one class, all correct
        MulticlassQualityAccumulator one = new MulticlassQualityAccumulator(4);
        for (int i = 0; i < 5; i++) one.add(uniform(4), 2, 2);
        assertEquals(1.0, one.accuracy());
        assertEquals(1.0, one.macroF1(), "only class 2 present");

        MulticlassQualityAccumulator before = b.copy();
        assertThrows(IllegalArgumentException.class, () -> b.add(uniform(3), 3, 0));
        assertThrows(IllegalArgumentException.class, () -> b.add(uniform(3), 0, -1));
        assertThrows(IllegalArgumentException.class, () -> b.add(uniform(2), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> b.add(new float[] {Float.NaN, 0f, 0f}, 0, 0));
        assertEquals(before, b);
    }

    /**
     * Live never predicts class 2, the candidate does (once, wrongly): over each model's own classes
     * live would average 2 classes, the candidate 3. The report averages both over the union {0, 1, 2}.
     */
    @Test
    void macroF1OverTheSameClassSetForLiveAndCandidate() {
        MulticlassQualityAccumulator live = new MulticlassQualityAccumulator(4);
        MulticlassQualityAccumulator cand = new MulticlassQualityAccumulator(4);
        float[] p = uniform(4);
        // true: 0 0 1 1; live predicts 0 1 1 1; candidate predicts 0 0 1 2
        int[] truth = {0, 0, 1, 1};
        int[] livePred = {0, 1, 1, 1};
        int[] candPred = {0, 0, 1, 2};
        for (int i = 0; i < 4; i++) {
            live.add(p, livePred[i], truth[i]);
            cand.add(p, candPred[i], truth[i]);
        }
        // live: class 0 tp 1 fn 1 -> 2/3; class 1 tp 2 fp 1 -> 4/5; class 2 absent -> no error, 1
        // candidate: class 0 tp 2 -> 1; class 1 tp 1 fn 1 -> 2/3; class 2 fp 1 -> 0
        assertEquals((2.0 / 3 + 4.0 / 5) / 2, live.macroF1(), 1e-15, "own classes");
        boolean[] union = {true, true, true, false};
        assertEquals((2.0 / 3 + 4.0 / 5 + 1) / 3, live.macroF1(union), 1e-15);
        assertEquals((1 + 2.0 / 3 + 0) / 3, cand.macroF1(union), 1e-15);
        assertEquals(cand.macroF1(), cand.macroF1(union), 1e-15, "the candidate's own classes are the union");

        // The report passes the union of all models' classes.
        ModelLayout layout = SegmentSlicesTest.multiclassLayout(); // 3 classes, 2 models
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        int[][] preds = {{0, 1, 1, 1}, {0, 0, 1, 2}};
        for (int i = 0; i < 4; i++) {
            float[] o = new float[6];
            for (int m = 0; m < 2; m++) {
                o[m * 3 + preds[m][i]] = 1f;
            }
            acc.add(MetricEvent.labelled("r" + i, i, o, 0, truth[i], i, null), layout);
        }
        ComparisonReport r = ReportFactory.report("exp", WindowKind.CUMULATIVE, 0, 1, acc, layout);
        assertEquals(
                (2.0 / 3 + 4.0 / 5 + 1) / 3, r.getQuality().get(0).getMetrics().get("macro_f1"), 1e-15);
        assertEquals((1 + 2.0 / 3 + 0) / 3, r.getQuality().get(1).getMetrics().get("macro_f1"), 1e-15);
    }

    /** Top-label reliability (Guo et al. 2017): confidence of the predicted class against top-1 accuracy. */
    @Test
    void topLabelReliabilityAndEceByHand() {
        MulticlassQualityAccumulator a = new MulticlassQualityAccumulator(3);
        a.add(new float[] {0.9f, 0.05f, 0.05f}, 0, 0); // 0.9f = 0.89999998 < 0.9: bin 8, right
        a.add(new float[] {0.05f, 0.95f, 0f}, 1, 2); // bin 9, wrong
        a.add(new float[] {0.35f, 0.3f, 0.35f}, 0, 0); // bin 3, right (ties go to class 0)
        a.add(new float[] {0.2f, 0.42f, 0.38f}, 1, 0); // bin 4, wrong
        // bin 3: mean 0.35, acc 1; bin 4: 0.42, acc 0; bin 8: 0.9, acc 1; bin 9: 0.95, acc 0
        // ECE = 1/4 (0.65 + 0.42 + 0.1 + 0.95) = 0.53
        assertEquals(0.53, a.ece(), 1e-7);
        List<ReliabilityHistogram.Bin> bins = a.reliability();
        assertEquals(4, bins.size());
        assertEquals(0.3, bins.get(0).lower(), 1e-15);
        assertEquals(1, bins.get(0).count());
        assertEquals(0.8, bins.get(2).lower(), 1e-15);
        assertEquals(0.95, bins.get(3).meanPredicted(), 1e-7);
        assertEquals(0.0, bins.get(3).observed(), 0.0);

        // through the report: the calibration field carries the same bins
        ModelLayout layout = SegmentSlicesTest.multiclassLayout();
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        acc.add(
                MetricEvent.labelled("r", 0, new float[] {0.9f, 0.05f, 0.05f, 0.2f, 0.42f, 0.38f}, 0, 0, 0, null),
                layout);
        ComparisonReport r = ReportFactory.report("exp", WindowKind.CUMULATIVE, 0, 1, acc, layout);
        assertEquals(
                List.of(new ReliabilityBin(0.8, 0.9, 1L, (double) 0.9f, 1.0)),
                r.getQuality().get(0).getCalibration());
        assertEquals(
                List.of(new ReliabilityBin(0.4, 0.5, 1L, (double) 0.42f, 0.0)),
                r.getQuality().get(1).getCalibration());
        assertEquals(
                Math.abs(1 - (double) 0.9f), r.getQuality().get(0).getMetrics().get("ece"), 1e-15);
    }
}
