package io.shadowml.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class BernoulliConfidenceSequenceTest {

    /** The e-value against a numerical integral of the Beta(½, ½) mixture likelihood. */
    @Test
    void eValueIsTheMixtureLikelihoodRatio() {
        BernoulliConfidenceSequence cs = new BernoulliConfidenceSequence(0.05);
        long k = 7;
        long n = 400;
        double p0 = 0.01;
        // Substituting p = sin²θ removes the prior's endpoint singularities: dBeta(½,½) = (2/π) dθ.
        int steps = 400_000;
        double h = (Math.PI / 2) / steps;
        double integral = 0;
        for (int i = 0; i <= steps; i++) {
            double theta = i * h;
            double p = Math.sin(theta) * Math.sin(theta);
            double likelihood = p == 0 || p == 1 ? 0 : Math.exp(k * Math.log(p) + (n - k) * Math.log1p(-p));
            double weight = i == 0 || i == steps ? 1 : (i % 2 == 1 ? 4 : 2);
            integral += weight * likelihood;
        }
        integral *= h / 3 * (2 / Math.PI);
        double expected = Math.log(integral) - (k * Math.log(p0) + (n - k) * Math.log1p(-p0));
        assertEquals(expected, cs.logEValue(k, n, p0), 1e-6);
    }

    @Test
    void theBoundsAreWhereTheEValueReachesOneOverAlpha() {
        BernoulliConfidenceSequence cs = new BernoulliConfidenceSequence(0.01);
        Interval i = cs.interval(30, 1000);
        assertEquals(Math.log(100), cs.logEValue(30, 1000, i.low()), 1e-9);
        assertEquals(Math.log(100), cs.logEValue(30, 1000, i.high()), 1e-9);
        assertTrue(i.contains(0.03));
        assertEquals(0.0, cs.interval(0, 1000).low());
        assertEquals(new Interval(0, 1), cs.interval(0, 0));
    }

    /**
     * Time-uniform coverage, measured: 3000 streams of 20,000 trials at p = 0.002 (a model error rate),
     * checked every 100 trials. The interval misses p exactly when the e-value at p reaches 1/alpha
     * (the bounds are where it does, tested above), so the check evaluates that e-value. Miss rate at
     * most alpha within three standard errors.
     */
    @Test
    void coversTheRateAtAllTimesWithProbabilityAtLeastOneMinusAlpha() {
        double alpha = 0.05;
        BernoulliConfidenceSequence cs = new BernoulliConfidenceSequence(alpha);
        SplittableRandom random = new SplittableRandom(3);
        int streams = 3000;
        int misses = 0;
        for (int s = 0; s < streams; s++) {
            long k = 0;
            for (int n = 1; n <= 20_000; n++) {
                if (random.nextDouble() < 0.002) {
                    k++;
                }
                if (n % 100 == 0 && EValues.rejects(cs.logEValue(k, n, 0.002), alpha)) {
                    misses++;
                    break;
                }
            }
        }
        double rate = (double) misses / streams;
        assertTrue(rate <= alpha + 3 * Math.sqrt(alpha * (1 - alpha) / streams), "miss rate " + rate);
    }
}
