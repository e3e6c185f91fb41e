package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Random;

import org.junit.jupiter.api.Test;

class RegressionQualityAccumulatorTest {

    @Test
    void smallCaseByHand() {
        RegressionQualityAccumulator a = new RegressionQualityAccumulator();
        a.add(3, 1); // e = 2
        a.add(1, 2); // e = -1
        a.add(5, 5); // e = 0
        a.add(0, 2); // e = -2
        assertEquals(4, a.count());
        assertEquals(5.0 / 4, a.mae(), 1e-15);
        assertEquals(Math.sqrt(9.0 / 4), a.rmse(), 1e-15);
        assertEquals(-1.0 / 4, a.meanError(), 1e-15);
    }

    @Test
    void matchesBruteForceAndMerges() throws IOException {
        Random rnd = new Random(3);
        int n = 10000;
        double[] pred = new double[n], act = new double[n];
        for (int i = 0; i < n; i++) {
            act[i] = 100 + 20 * rnd.nextGaussian();
            pred[i] = act[i] + 3 * rnd.nextGaussian() + 0.5;
        }
        RegressionQualityAccumulator all = new RegressionQualityAccumulator();
        for (int i = 0; i < n; i++) all.add(pred[i], act[i]);
        double abs = 0, sq = 0, err = 0;
        for (int i = 0; i < n; i++) {
            double e = pred[i] - act[i];
            abs += Math.abs(e);
            sq += e * e;
            err += e;
        }
        assertEquals(n, all.count());
        assertClose(abs / n, all.mae(), 1e-12, "mae");
        assertClose(Math.sqrt(sq / n), all.rmse(), 1e-12, "rmse");
        assertClose(err / n, all.meanError(), 1e-10, "meanError");

        for (int trial = 0; trial < 20; trial++) {
            int parts = 1 + rnd.nextInt(6);
            int[] cuts = TestSupport.randomCuts(n, parts, rnd);
            RegressionQualityAccumulator merged = new RegressionQualityAccumulator();
            for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                RegressionQualityAccumulator part = new RegressionQualityAccumulator();
                for (int i = cuts[p]; i < cuts[p + 1]; i++) part.add(pred[i], act[i]);
                merged.merge(part);
            }
            assertEquals(all.count(), merged.count());
            assertClose(all.mae(), merged.mae(), 1e-12, "mae");
            assertClose(all.rmse(), merged.rmse(), 1e-12, "rmse");
            assertClose(all.meanError(), merged.meanError(), 1e-10, "meanError");
        }

        RegressionQualityAccumulator rt = TestSupport.roundTrip(all::writeTo, RegressionQualityAccumulator::readFrom);
        assertEquals(all, rt);
        assertEquals(all.rmse(), rt.rmse(), 0.0);
        RegressionQualityAccumulator c = all.copy();
        assertEquals(all, c);
        c.add(1, 1);
        assertEquals(n, all.count());
    }

    @Test
    void edgeCases() throws IOException {
        RegressionQualityAccumulator a = new RegressionQualityAccumulator();
        assertTrue(Double.isNaN(a.mae()));
        assertTrue(Double.isNaN(a.rmse()));
        assertTrue(Double.isNaN(a.meanError()));
        assertEquals(a, TestSupport.roundTrip(a::writeTo, RegressionQualityAccumulator::readFrom));
        a.add(2.5, 2.5);
        assertEquals(0.0, a.mae());
        assertEquals(0.0, a.rmse());
        assertThrows(IllegalArgumentException.class, () -> a.add(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> a.add(1, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> a.add(Double.MAX_VALUE, -Double.MAX_VALUE));
        assertEquals(1, a.count());
    }
}
