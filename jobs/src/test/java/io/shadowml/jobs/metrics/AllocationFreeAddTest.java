package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.shadowml.jobs.testing.Allocations;

/** add() must not allocate per event (no boxing, no per-event objects). */
class AllocationFreeAddTest {

    private static final int N = 200_000;

    @Test
    void addDoesNotAllocate() {
        BinaryQualityAccumulator bin = new BinaryQualityAccumulator(0.5);
        MulticlassQualityAccumulator multi = new MulticlassQualityAccumulator(4);
        float[] probs = {0.1f, 0.2f, 0.3f, 0.4f};
        RegressionQualityAccumulator reg = new RegressionQualityAccumulator();
        PairedComparisonAccumulator paired = new PairedComparisonAccumulator();
        long bytes = Allocations.allocatedBy(() -> {
            for (int i = 0; i < N; i++) {
                double s = (i % 1000) / 1000.0;
                bin.add(s, (i & 1) == 0);
                multi.add(probs, i & 3, (i >> 2) & 3);
                reg.add(s, 0.5);
                paired.add((i & 1) == 0, (i & 2) == 0, s, 1 - s);
            }
        });
        // 4·N adds; anything per event would be megabytes. Allow a little for the measurement itself.
        assertTrue(bytes < 16_384, "allocated " + bytes + " bytes for " + 4 * N + " adds");
    }

    /** The window accumulator's path: each model's slots are read in place, without a copy per event. */
    @Test
    void addLabelledDoesNotAllocate() {
        QualityAccumulator[] q = {
            new BinaryQualityAccumulator(0.5), new MulticlassQualityAccumulator(4), new RegressionQualityAccumulator()
        };
        float[] outputs = {0.3f, 0.1f, 0.2f, 0.3f, 0.4f};
        long bytes = Allocations.allocatedBy(() -> {
            for (int i = 0; i < N; i++) {
                q[0].addLabelled(outputs, 0, i & 1);
                q[1].addLabelled(outputs, 1, i & 3);
                q[2].addLabelled(outputs, 0, 0.5);
            }
        });
        assertTrue(bytes < 16_384, "allocated " + bytes + " bytes for " + 3 * N + " adds");
    }

    /** KLL grows its arrays O(log n) times; per event the cost must still be far below one object. */
    @Test
    void disagreementAddHasNoPerEventObjects() {
        DisagreementAccumulator d = new DisagreementAccumulator();
        long bytes = Allocations.allocatedBy(() -> {
            for (int i = 0; i < N; i++) {
                d.add((i & 7) == 0, (i * 7919 % 10007) / 10007.0);
            }
        });
        assertTrue(bytes < N, "allocated " + bytes + " bytes for " + N + " adds");
    }
}
