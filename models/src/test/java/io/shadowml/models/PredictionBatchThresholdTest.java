package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;

import org.junit.jupiter.api.Test;

import io.shadowml.models.ModelDescriptor.Task;

class PredictionBatchThresholdTest {

    /** 0.7f is 0.699999988 as a double, below the double 0.7: the decision must compare in float32. */
    @Test
    void float32ScoreEqualToTheThresholdIsPositive() {
        assertTrue((double) 0.7f < 0.7, "the tie this test is about");
        // two columns [P(negative), P(positive)], positive class in column 1
        PredictionBatch b = new PredictionBatch(Task.BINARY, 2, 1, 2, 0.7, 4);
        b.fill(FloatBuffer.wrap(new float[] {0.3f, 0.7f, 0.3f, Math.nextDown(0.7f), 0.1f, 0.9f}), 3);
        assertEquals(1, b.predictedClass(0));
        assertEquals(0, b.predictedClass(1));
        assertEquals(1, b.predictedClass(2));

        PredictionBatch one = new PredictionBatch(Task.BINARY, 1, 0, 2, 0.7, 2);
        one.fill(FloatBuffer.wrap(new float[] {0.7f, Math.nextDown(0.7f)}), 2);
        assertEquals(1, one.predictedClass(0));
        assertEquals(0, one.predictedClass(1));
    }
}
