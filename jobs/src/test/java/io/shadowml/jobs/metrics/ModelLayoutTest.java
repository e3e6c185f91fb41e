package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shadowml.models.ModelDescriptor;

class ModelLayoutTest {
    private static final ModelDescriptor FRAUD_LIVE =
            ModelDescriptor.load(Path.of("../models/shipped/fraud/live/model.json"));
    private static final ModelDescriptor FRAUD_CAND =
            ModelDescriptor.load(Path.of("../models/shipped/fraud/candidate/model.json"));
    private static final ModelDescriptor FASHION_LIVE =
            ModelDescriptor.load(Path.of("../models/shipped/fashion/live/model.json"));
    private static final ModelDescriptor FASHION_CAND =
            ModelDescriptor.load(Path.of("../models/shipped/fashion/candidate/model.json"));

    private static final ModelLayout BINARY = new ModelLayout(List.of(FRAUD_LIVE, FRAUD_CAND));
    private static final ModelLayout MULTI = new ModelLayout(List.of(FASHION_LIVE, FASHION_CAND));

    @Test
    void binaryShape() {
        assertEquals(2, BINARY.models());
        assertEquals(1, BINARY.candidates());
        assertEquals(1, BINARY.slotsPerModel());
        assertEquals(2, BINARY.width());
        assertEquals(0, BINARY.offset(0));
        assertEquals(1, BINARY.offset(1));
        assertEquals(0.5, BINARY.threshold(0)); // both shipped descriptors say threshold 0.5
    }

    /** 0.7f is 0.699999988 as a double, below the double 0.7; compared in float32 it is at the threshold. */
    @Test
    void float32ScoreEqualToTheThresholdIsPositive() {
        ModelLayout layout = SegmentSlicesTest.binaryLayout(); // thresholds 0.5, 0.3, 0.7
        assertEquals(0.7, layout.threshold(2));
        assertTrue((double) 0.7f < 0.7, "the tie this test is about");
        float[] o = {0.5f, 0.29f, 0.7f};
        assertEquals(1, layout.decision(o, 2));
        assertTrue(layout.correct(o, 2, 1.0));
        assertFalse(layout.correct(o, 2, 0.0));
        assertEquals(0, layout.decision(new float[] {0.5f, 0.29f, Math.nextDown(0.7f)}, 2));
        // live 0.5f at 0.5 is positive too: candidate 2 agrees (no flip), candidate 1 (0.29 < 0.3) flips
        assertFalse(layout.flipped(o, 2));
        assertTrue(layout.flipped(o, 1));
        float[] below = {Math.nextDown(0.5f), 0.3f, 0.7f};
        assertTrue(layout.flipped(below, 2));
        assertEquals(1, layout.decision(below, 1), "0.3f at threshold 0.3");
    }

    @Test
    void binaryFlipAndDifference() {
        // live 0.40 -> class 0, candidate 0.70 -> class 1: flipped, |0.70 - 0.40| = 0.30
        float[] o = {0.40f, 0.70f};
        assertTrue(BINARY.flipped(o, 1));
        assertEquals(0.30, BINARY.absDifference(o, 1), 1e-6);
        assertEquals(0, BINARY.decision(o, 0));
        assertEquals(1, BINARY.decision(o, 1));
        // both above the threshold: no flip, |0.9 - 0.6| = 0.3
        float[] same = {0.90f, 0.60f};
        assertFalse(BINARY.flipped(same, 1));
        assertEquals(0.30, BINARY.absDifference(same, 1), 1e-6);
        // exactly at the threshold counts as positive
        float[] edge = {0.5f, 0.49f};
        assertEquals(1, BINARY.decision(edge, 0));
        assertTrue(BINARY.flipped(edge, 1));
        assertEquals(0.7, BINARY.score(o, 1), 1e-6);
    }

    @Test
    void binaryLossAndCorrect() {
        float[] o = {0.8f, 0.1f};
        // label 1: -ln(0.8) = 0.22314355, -ln(0.1) = 2.30258509
        assertEquals(0.22314355, BINARY.loss(o, 0, 1.0), 1e-6);
        assertEquals(2.30258509, BINARY.loss(o, 1, 1.0), 1e-6);
        // label 0: -ln(1 - 0.8) = 1.60943791, -ln(0.9) = 0.10536052
        assertEquals(1.60943791, BINARY.loss(o, 0, 0.0), 1e-6);
        assertEquals(0.10536052, BINARY.loss(o, 1, 0.0), 1e-6);
        assertTrue(BINARY.correct(o, 0, 1.0));
        assertFalse(BINARY.correct(o, 1, 1.0));
        assertFalse(BINARY.correct(o, 0, 0.0));
        assertTrue(BINARY.correct(o, 1, 0.0));
        // p = 0 with label 1 is clipped to 2^-23: -ln(2^-23) = 23 ln 2 = 15.9423852
        float[] zero = {0f, 1f};
        assertEquals(15.9423852, BINARY.loss(zero, 0, 1.0), 1e-6);
        assertTrue(Double.isFinite(BINARY.loss(zero, 1, 0.0)));
        assertEquals(15.9423852, BINARY.loss(zero, 1, 0.0), 1e-6, "p = 1 with label 0 is clipped, not infinite");
    }

    @Test
    void multiclassShapeScoreAndDecision() {
        assertEquals(10, MULTI.numClasses());
        assertEquals(10, MULTI.slotsPerModel());
        assertEquals(20, MULTI.width());
        assertEquals(10, MULTI.offset(1));
        float[] o = new float[20];
        // live: class 3 at 0.6, class 7 at 0.4; candidate: class 7 at 0.5, class 3 at 0.3, class 0 at 0.2
        o[3] = 0.6f;
        o[7] = 0.4f;
        o[10 + 7] = 0.5f;
        o[10 + 3] = 0.3f;
        o[10] = 0.2f;
        assertEquals(3, MULTI.decision(o, 0));
        assertEquals(7, MULTI.decision(o, 1));
        assertEquals(0.6, MULTI.score(o, 0), 1e-6);
        assertEquals(0.5, MULTI.score(o, 1), 1e-6);
        assertTrue(MULTI.flipped(o, 1));
        // L1 = |0.2-0| + |0.3-0.6| + |0.5-0.4| = 0.2 + 0.3 + 0.1 = 0.6; TVD = 0.3
        assertEquals(0.3, MULTI.absDifference(o, 1), 1e-6);
        // label 7: live -ln(0.4) = 0.91629073, candidate -ln(0.5) = 0.69314718
        assertEquals(0.91629073, MULTI.loss(o, 0, 7.0), 1e-6);
        assertEquals(0.69314718, MULTI.loss(o, 1, 7.0), 1e-6);
        // label 5: probability 0, clipped to 2^-23
        assertEquals(15.9423852, MULTI.loss(o, 0, 5.0), 1e-6);
        assertFalse(MULTI.correct(o, 0, 7.0));
        assertTrue(MULTI.correct(o, 1, 7.0));
        assertTrue(MULTI.correct(o, 0, 3.0));
    }

    @Test
    void multiclassTiesGoToTheLowestClassAndIdenticalOutputsDoNotFlip() {
        float[] o = new float[20];
        for (int k = 0; k < 10; k++) {
            o[k] = 0.1f;
            o[10 + k] = 0.1f;
        }
        assertEquals(0, MULTI.decision(o, 0));
        assertFalse(MULTI.flipped(o, 1));
        assertEquals(0.0, MULTI.absDifference(o, 1));
    }

    @Test
    void checkLabel() {
        assertNull(BINARY.checkLabel(0.0));
        assertNull(BINARY.checkLabel(1.0));
        assertNotNull(BINARY.checkLabel(2.0));
        assertNotNull(BINARY.checkLabel(0.5));
        assertNotNull(BINARY.checkLabel(-1.0));
        assertNotNull(BINARY.checkLabel(Double.NaN));
        assertNotNull(BINARY.checkLabel(Double.POSITIVE_INFINITY));
        for (int k = 0; k < 10; k++) {
            assertNull(MULTI.checkLabel(k), "class " + k);
        }
        assertNotNull(MULTI.checkLabel(10.0));
        assertNotNull(MULTI.checkLabel(2.5));
        assertNotNull(MULTI.checkLabel(-1.0));
        assertNotNull(MULTI.checkLabel(Double.NaN));
    }

    @Test
    void modelsOfDifferentTasksCannotShareALayout() {
        assertThrows(IllegalArgumentException.class, () -> new ModelLayout(List.of(FRAUD_LIVE, FASHION_CAND)));
    }
}
