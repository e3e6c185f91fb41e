package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import io.shadowml.models.ModelDescriptor.Task;

class LossTest {

    @Test
    void probabilitiesAreClippedAtOneEMinus15() {
        assertEquals(1e-15, Loss.EPS);
        // -ln(1e-15) = 34.538776394910684
        assertEquals(34.538776394910684, Loss.binaryLogLoss(0.0, true), 1e-12);
        assertEquals(34.538776394910684, Loss.logLoss(0.0), 1e-12);
        // p = 1 with label 0: -ln(1 - (1 - 1e-15)), the difference rounded in double (≈ 34.5)
        assertEquals(-Math.log(1.0 - (1.0 - 1e-15)), Loss.binaryLogLoss(1.0, false));
        assertEquals(0.0, Loss.binaryLogLoss(1.0, true), 1e-14);
        assertEquals(0.0, Loss.logLoss(1.0), 1e-14);
    }

    @Test
    void valuesByHand() {
        // -ln(0.8) = 0.22314355, -ln(1 - 0.8) = 1.60943791
        assertEquals(0.22314355, Loss.binaryLogLoss(0.8, true), 1e-8);
        assertEquals(1.60943791, Loss.binaryLogLoss(0.8, false), 1e-8);
        assertEquals(0.69314718, Loss.logLoss(0.5), 1e-8);
        assertEquals(6.25, Loss.squaredError(3.0, 0.5));
    }

    @Test
    void ofReadsTheModelsSlots() {
        float[] binary = {0.8f, 0.1f};
        assertEquals(Loss.binaryLogLoss(0.1f, true), Loss.of(Task.BINARY, binary, 1, 1.0));
        assertEquals(Loss.binaryLogLoss(0.8f, false), Loss.of(Task.BINARY, binary, 0, 0.0));
        float[] multi = {0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f};
        assertEquals(Loss.logLoss(0.2f), Loss.of(Task.MULTICLASS, multi, 3, 1.0));
        assertEquals(Loss.logLoss(0.1f), Loss.of(Task.MULTICLASS, multi, 0, 2.0));
        float[] regression = {1.5f, -2.0f};
        assertEquals(6.25, Loss.of(Task.REGRESSION, regression, 1, 0.5));
    }
}
