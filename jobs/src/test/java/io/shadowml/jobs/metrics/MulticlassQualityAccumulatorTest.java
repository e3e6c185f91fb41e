package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Random;

import org.junit.jupiter.api.Test;

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
        assertTrue(TestSupport.bytes(empty::writeTo).length < 20);
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
}
