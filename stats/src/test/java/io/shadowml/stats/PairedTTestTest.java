package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PairedTTestTest {

    /** Extra hours of sleep of 10 patients on two drugs: R's datasets::sleep (Student 1908). */
    static final double[] SLEEP_GROUP_1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};

    static final double[] SLEEP_GROUP_2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

    /**
     * Student's sleep data, paired by patient. R's
     * {@code with(sleep, t.test(extra[group == 1], extra[group == 2], paired = TRUE))} prints
     * "t = -4.0621, df = 9, p-value = 0.002833", "95 percent confidence interval: -2.4598858
     * -0.7001142", "mean difference -1.58" (group 1 − group 2; here group 2 − group 1, so the signs
     * flip). By hand: d = 1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4, Σd = 15.8, d̄ = 1.58;
     * Σ(d − d̄)² = 13.616, s² = 1.512889, s/√10 = 0.388959; t₀.₉₇₅,₉ = 2.262157 (t table), half-width
     * 0.879886; t = 1.58 / 0.388959 = 4.0621.
     */
    @Test
    void studentsSleepDataAsPrintedByR() {
        int n = SLEEP_GROUP_1.length;
        double[] d = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            d[i] = SLEEP_GROUP_2[i] - SLEEP_GROUP_1[i];
            mean += d[i];
        }
        mean /= n;
        double ss = 0;
        for (double x : d) {
            ss += (x - mean) * (x - mean);
        }
        double variance = ss / (n - 1);
        assertEquals(1.58, mean, 1e-12);
        assertEquals(13.616 / 9, variance, 1e-12);

        Interval ci = PairedTTest.interval(n, mean, variance, 0.05);
        assertEquals(0.7001142, ci.low(), 1e-7);
        assertEquals(2.4598858, ci.high(), 1e-7);
        assertEquals(2.262157 * 0.388959, PairedTTest.radius(n, variance, 0.05), 2e-6);
        assertEquals(0.002833, PairedTTest.pValue(n, mean, variance), 5e-7);
        assertEquals(0.002833, PairedTTest.pValue(n, -mean, variance), 5e-7);
        assertEquals(ci, PairedTTest.interval(new Estimate(n, mean, variance), 0.05));
    }

    /**
     * Differences {1, 2, 3, 4, 5}: mean 3, s² = 2.5, t₀.₉₇₅,₄ = 2.776445 (t table), half-width
     * 2.776445·√0.5 = 1.963243; at 99 %: t₀.₉₉₅,₄ = 4.604095, half-width 3.255587.
     */
    @Test
    void smallIntervalByHand() {
        assertEquals(1.963243, PairedTTest.radius(5, 2.5, 0.05), 1e-6);
        assertEquals(3.255587, PairedTTest.radius(5, 2.5, 0.01), 1e-6);
        Interval ci = PairedTTest.interval(5, 3.0, 2.5, 0.05);
        assertEquals(3 - 1.963243, ci.low(), 1e-6);
        assertEquals(3 + 1.963243, ci.high(), 1e-6);
    }

    @Test
    void degenerateInputs() {
        assertEquals(Interval.ALL, PairedTTest.interval(1, 0.5, 0.0, 0.05));
        assertEquals(Interval.ALL, PairedTTest.interval(0, Double.NaN, Double.NaN, 0.05));
        assertEquals(Double.POSITIVE_INFINITY, PairedTTest.radius(1, 1.0, 0.05));
        assertTrue(Double.isNaN(PairedTTest.radius(10, Double.NaN, 0.05)));
        assertTrue(Double.isNaN(PairedTTest.pValue(1, 0.3, 0.0)));
        assertEquals(1.0, PairedTTest.pValue(10, 0.0, 0.0));
        assertEquals(0.0, PairedTTest.pValue(10, 0.2, 0.0));
        assertEquals(new Interval(0.2, 0.2), PairedTTest.interval(10, 0.2, 0.0, 0.05));
        assertThrows(IllegalArgumentException.class, () -> PairedTTest.radius(10, -1, 0.05));
        assertThrows(IllegalArgumentException.class, () -> PairedTTest.interval(10, 0, 1, 1.5));
    }
}
