package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class ScoreHistogramTest {

    @Test
    void binsAreMonotoneInTheScore() {
        SplittableRandom random = new SplittableRandom(1);
        float[] scores = new float[200_000];
        for (int i = 0; i < scores.length; i++) {
            // Spread over the whole float32 range of [0, 1], tails included.
            double logit = random.nextDouble(-40, 40);
            scores[i] = (float) (1 / (1 + Math.exp(-logit)));
        }
        java.util.Arrays.sort(scores);
        for (int i = 1; i < scores.length; i++) {
            assertTrue(
                    ScoreHistogram.binOf(scores[i - 1]) <= ScoreHistogram.binOf(scores[i]),
                    scores[i - 1] + " vs " + scores[i]);
        }
        assertTrue(ScoreHistogram.binOf(0.5f) < ScoreHistogram.binOf(Math.nextUp(0.5f)));
        assertTrue(ScoreHistogram.binOf(0f) < ScoreHistogram.binOf(Float.MIN_VALUE));
        assertTrue(ScoreHistogram.binOf(Math.nextDown(1f)) < ScoreHistogram.binOf(1f));
    }

    /**
     * Single-valued bins, checked by enumerating every float32 in [1 − 2^-11, 1] (where they are: 1 − p
     * below 2^-14) and the 65,536 smallest floats (p = 0 and its neighbours).
     */
    @Test
    void singleValuedBinsHoldExactlyOneFloat() {
        java.util.Map<Integer, Integer> valuesPerBin = new java.util.HashMap<>();
        for (float p = 1f - 0x1p-11f; p <= 1f; p = Math.nextUp(p)) {
            valuesPerBin.merge(ScoreHistogram.binOf(p), 1, Integer::sum);
        }
        for (float p = 0f; Float.floatToRawIntBits(p) < (1 << 16); p = Math.nextUp(p)) {
            valuesPerBin.merge(ScoreHistogram.binOf(p), 1, Integer::sum);
        }
        int singles = 0;
        for (java.util.Map.Entry<Integer, Integer> e : valuesPerBin.entrySet()) {
            if (ScoreHistogram.singleValued(e.getKey())) {
                assertEquals(1, e.getValue(), "bin " + e.getKey());
                singles++;
            }
        }
        assertEquals(1 + (1 << 10), singles, "p = 0, p = 1 and one bin per float with 1 − p < 2^-14");
        assertFalse(ScoreHistogram.singleValued(ScoreHistogram.binOf(0.3f)));
        assertFalse(ScoreHistogram.singleValued(ScoreHistogram.binOf(0.99f)));
    }

    @Test
    void aucIsWithinItsBoundOfTheExactAucAndTheDeLongVarianceMatchesBruteForce() {
        SplittableRandom random = new SplittableRandom(2);
        int n = 3000;
        float[] scores = new float[n];
        boolean[] labels = new boolean[n];
        ScoreHistogram h = new ScoreHistogram();
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextDouble() < 0.3;
            // Overconfident: logits far from 0, with a few exact 0 and 1.
            double logit = (labels[i] ? 6 : -6) + random.nextGaussian() * 9;
            scores[i] = i % 97 == 0 ? (labels[i] ? 1f : 0f) : (float) (1 / (1 + Math.exp(-logit)));
            h.add(scores[i], labels[i]);
        }
        // Exact AUC (ties ½) by brute force over pairs, on the raw scores.
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (labels[i] && !labels[j]) {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }
        double exact = wins / pairs;
        assertTrue(Math.abs(h.auc() - exact) <= h.aucMaxError() + 1e-12, h.auc() + " vs " + exact);
        assertTrue(h.aucMaxError() < 0.001, "bound " + h.aucMaxError());

        // DeLong on the binned scores, by brute force: placements from pairwise bin comparisons.
        int[] bins = new int[n];
        long p = 0;
        long q = 0;
        for (int i = 0; i < n; i++) {
            bins[i] = ScoreHistogram.binOf(scores[i]);
            if (labels[i]) {
                p++;
            } else {
                q++;
            }
        }
        double auc = h.auc();
        double s10 = 0;
        double s01 = 0;
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (int j = 0; j < n; j++) {
                if (labels[i] != labels[j]) {
                    int hi = labels[i] ? bins[i] : bins[j];
                    int lo = labels[i] ? bins[j] : bins[i];
                    v += hi > lo ? 1 : hi == lo ? 0.5 : 0;
                }
            }
            v /= labels[i] ? q : p;
            if (labels[i]) {
                s10 += (v - auc) * (v - auc);
            } else {
                s01 += (v - auc) * (v - auc);
            }
        }
        double expected = s10 / (p - 1) / p + s01 / (q - 1) / q;
        assertEquals(expected, h.aucVariance(), 1e-12);
    }

    @Test
    void mergeEqualsOneShotAndSerialisationRoundTrips() throws IOException {
        SplittableRandom random = new SplittableRandom(3);
        ScoreHistogram all = new ScoreHistogram();
        ScoreHistogram a = new ScoreHistogram();
        ScoreHistogram b = new ScoreHistogram();
        for (int i = 0; i < 20_000; i++) {
            float s = (float) random.nextDouble();
            boolean y = random.nextBoolean();
            all.add(s, y);
            (i % 3 == 0 ? a : b).add(s, y);
        }
        a.merge(b);
        assertEquals(all, a);
        assertEquals(all.auc(), a.auc(), 1e-15);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        all.writeTo(new DataOutputStream(bytes));
        ScoreHistogram back =
                ScoreHistogram.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(all, back);
        assertEquals(all.positives(), back.positives());
        assertEquals(all.copy(), all);
    }
}
