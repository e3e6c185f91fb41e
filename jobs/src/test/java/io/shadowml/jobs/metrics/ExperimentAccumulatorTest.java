package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How a failed model enters the paired comparison: as wrong, at the worst loss. */
class ExperimentAccumulatorTest {

    private static MetricEvent labelled(ModelLayout layout, float[] outputs, long errorMask, double label) {
        return MetricEvent.labelled("r", 0, outputs, errorMask, label, 0, null);
    }

    @Test
    void aFailedCandidateIsWrongAtTheWorstLossAndAPairNeedsOneAnswer() {
        ModelLayout layout = SegmentSlicesTest.binaryLayout(); // thresholds 0.5 (live), 0.3, 0.7
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        double worst = -Math.log(Loss.EPS);
        // live right (0.9 >= 0.5 on a positive), candidate 1 failed, candidate 2 right (0.8 >= 0.7)
        acc.add(labelled(layout, new float[] {0.9f, 0f, 0.8f}, 0b010, 1), layout);
        // everyone failed: no pair for anyone
        acc.add(labelled(layout, new float[] {0f, 0f, 0f}, 0b111, 0), layout);
        // live failed, candidate 1 right on a negative (0.2 < 0.3), candidate 2 failed too
        acc.add(labelled(layout, new float[] {0f, 0.2f, 0f}, 0b101, 0), layout);

        PairedComparisonAccumulator c1 = acc.paired(1);
        assertEquals(2, c1.count());
        assertEquals(1, c1.liveOnlyCorrect(), "failed candidate counts as wrong");
        assertEquals(1, c1.candidateOnlyCorrect(), "failed live counts as wrong");
        assertEquals(1, c1.count(1, true, false));
        assertEquals(1, c1.count(0, false, true));
        double d1 = worst - -Math.log(0.9f);
        double d2 = -Math.log(1 - (double) 0.2f) - worst;
        assertEquals((d1 + d2) / 2, c1.meanLossDifference(), 1e-12);

        PairedComparisonAccumulator c2 = acc.paired(2);
        assertEquals(1, c2.count(), "the pair where both failed is not counted");
        assertEquals(1, c2.bothCorrect());
        assertEquals(-Math.log(0.8f) - -Math.log(0.9f), c2.meanLossDifference(), 1e-12);
    }

    @Test
    void regressionPairsNeedBothModels() {
        ModelLayout layout = SegmentSlicesTest.regressionLayout();
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        acc.add(labelled(layout, new float[] {1f, 0f}, 0b10, 2.0), layout);
        acc.add(labelled(layout, new float[] {1f, 3f}, 0, 2.0), layout);
        assertEquals(1, acc.paired(1).count());
        assertEquals(0.0, acc.paired(1).meanLossDifference(), 0.0); // (3-2)² − (1-2)²
    }

    /**
     * A candidate outside its own sample (absent) counts nowhere for it: not as an error, not in
     * disagreement, quality or pairs; the live model and the other candidate are unaffected.
     */
    @Test
    void anAbsentCandidateIsNeitherAnErrorNorAPair() {
        ModelLayout layout = SegmentSlicesTest.binaryLayout(); // thresholds 0.5 (live), 0.3, 0.7
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        float[] outputs = {0.9f, 0.1f, 0.8f};
        for (int i = 0; i < 4; i++) {
            MetricEvent scored = MetricEvent.scored("r" + i, 0, outputs, 0L, new int[] {5, 5, 5}, null);
            MetricEvent labelled = labelled(layout, outputs, 0L, 1);
            // candidate 1 scores only r0 and r1
            scored.absentMask = labelled.absentMask = i >= 2 ? 0b010 : 0;
            acc.add(scored, layout);
            acc.add(labelled, layout);
        }
        assertEquals(4, acc.scored());
        assertEquals(2, acc.scoredBy(1));
        assertEquals(4, acc.scoredBy(2));
        assertEquals(0, acc.errors(1));
        assertEquals(2, acc.disagreement(1).count());
        assertEquals(4, acc.disagreement(2).count());
        assertEquals(2, acc.quality(1).count());
        assertEquals(4, acc.quality(0).count());
        assertEquals(2, acc.paired(1).count());
        assertEquals(2, acc.paired(1).liveOnlyCorrect(), "0.1 < 0.3 on a positive: candidate 1 wrong");
        assertEquals(4, acc.paired(2).count());
    }
}
