package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class SequentialSignTestTest {

    /**
     * With the uniform prior (a = 1) the mixture likelihood is ∫ p^c (1−p)^b dp = c! b! / (b + c + 1)!,
     * so E = 2^(b+c) · c! b! / (b + c + 1)!: for c = 10, b = 0, 1024/11; for c = 3, b = 2, 32 · 12 / 720.
     */
    @Test
    void uniformPriorMatchesTheClosedForm() {
        assertEquals(Math.log(1024.0 / 11), SequentialSignTest.logEValue(10, 0, 1), 1e-12);
        assertEquals(Math.log(32.0 * 6 * 2 / 720), SequentialSignTest.logEValue(3, 2, 1), 1e-12);
        assertEquals(0.0, SequentialSignTest.logEValue(0, 0, 3.5), 1e-15);
    }

    /** Against a numerical integral of the Beta(a, a) mixture, for a non-integer a. */
    @Test
    void matchesANumericalIntegralOfTheMixture() {
        double a = 2.5;
        long c = 37;
        long b = 21;
        // Simpson's rule on [0, 1] of p^(a+c-1) (1-p)^(a+b-1), normalised by the same integral with c = b = 0.
        double num = simpson(p -> Math.exp((a + c - 1) * Math.log(p) + (a + b - 1) * Math.log1p(-p)), 200_000);
        double den = simpson(p -> Math.exp((a - 1) * Math.log(p) + (a - 1) * Math.log1p(-p)), 200_000);
        double expected = Math.log(num / den) + (b + c) * Math.log(2);
        assertEquals(expected, SequentialSignTest.logEValue(c, b, a), 1e-6);
    }

    static double simpson(java.util.function.DoubleUnaryOperator f, int intervals) {
        double h = 1.0 / intervals;
        double sum = 0;
        for (int i = 1; i < intervals; i++) {
            sum += (i % 2 == 1 ? 4 : 2) * f.applyAsDouble(i * h);
        }
        return sum * h / 3; // the integrands vanish at both ends
    }

    @Test
    void symmetricInTheTwoCountsAndGrowingWithTheImbalance() {
        assertEquals(SequentialSignTest.logEValue(40, 10, 4), SequentialSignTest.logEValue(10, 40, 4), 1e-12);
        assertTrue(SequentialSignTest.logEValue(60, 40, 4) < SequentialSignTest.logEValue(70, 30, 4));
    }

    /**
     * Type I error under continuous monitoring, measured: 4000 streams of 3000 fair coin flips, the
     * e-value checked after every flip. The share of streams that ever reach 1/alpha must be at most
     * alpha (within three binomial standard errors).
     */
    @Test
    void rejectsAFairCoinAtMostAlphaOfTheTimeUnderContinuousMonitoring() {
        double alpha = 0.05;
        double a = SequentialSignTest.concentrationFor(500, alpha);
        SplittableRandom random = new SplittableRandom(7);
        int streams = 4000;
        int rejections = 0;
        for (int s = 0; s < streams; s++) {
            long c = 0;
            long b = 0;
            for (int n = 0; n < 3000; n++) {
                if (random.nextBoolean()) {
                    c++;
                } else {
                    b++;
                }
                if (EValues.rejects(SequentialSignTest.logEValue(c, b, a), alpha)) {
                    rejections++;
                    break;
                }
            }
        }
        double rate = (double) rejections / streams;
        assertTrue(rate <= alpha + 3 * Math.sqrt(alpha * (1 - alpha) / streams), "rejection rate " + rate);
    }

    @Test
    void detectsABiasedCoin() {
        double alpha = 0.05;
        double a = SequentialSignTest.concentrationFor(500, alpha);
        SplittableRandom random = new SplittableRandom(11);
        int detected = 0;
        for (int s = 0; s < 200; s++) {
            long c = 0;
            long b = 0;
            for (int n = 0; n < 2000; n++) {
                if (random.nextDouble() < 0.6) {
                    c++;
                } else {
                    b++;
                }
            }
            if (EValues.rejects(SequentialSignTest.logEValue(c, b, a), alpha)) {
                detected++;
            }
        }
        // p = 0.6 over 2000 flips is a 9-sigma effect: every stream must find it.
        assertEquals(200, detected);
    }

    @Test
    void concentrationGrowsWithTheTuningSize() {
        assertEquals(0.5, SequentialSignTest.concentrationFor(1, 0.05));
        double a = SequentialSignTest.concentrationFor(1000, 0.05);
        // prior sd of p, 1/(2 sqrt(2a+1)), equals sqrt(ln(1/alpha) / (2n))
        assertEquals(Math.sqrt(Math.log(20) / 2000), 1 / (2 * Math.sqrt(2 * a + 1)), 1e-12);
    }
}
