package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import io.shadowml.models.ModelDescriptor.Task;

class LossTest {

    /** The clip is the float32 epsilon 2^-23 = 1.1920928955078125e-7 (numpy.finfo(numpy.float32).eps). */
    @Test
    void probabilitiesAreClippedAtTheFloat32Epsilon() {
        assertEquals(1.1920928955078125e-7, Loss.EPS, 0.0);
        // 2^-23 and 1 - 2^-23 are exact in double, so the clipped loss is exactly 23 ln 2.
        double max = 23 * Math.log(2); // 15.942385152878742
        assertEquals(15.942385152878742, max, 1e-12);
        assertEquals(max, Loss.binaryLogLoss(0.0, true), 1e-12);
        assertEquals(max, Loss.binaryLogLoss(1.0, false), 1e-12);
        assertEquals(max, Loss.logLoss(0.0), 1e-12);
        // a float32 score just inside the clip is not clipped: 1e-6 costs -ln(1e-6) = 13.8155
        assertEquals(13.815510557964274, Loss.binaryLogLoss(1e-6, true), 1e-9);
        // right answers at 0 and 1 cost -ln(1 - 2^-23) ~ 2^-23
        assertEquals(1.1920929e-7, Loss.binaryLogLoss(1.0, true), 1e-13);
        assertEquals(1.1920929e-7, Loss.logLoss(1.0), 1e-13);
    }

    /** No event, however wrong, costs more than 23 ln 2 nats. */
    @Test
    void maximumLossOfOneEventIs23Ln2() {
        double max = 23 * Math.log(2);
        float[] scores = {0f, Float.MIN_VALUE, 1e-30f, 1e-8f, 1.1920928e-7f, 0.5f, 1f - 1e-7f, Math.nextDown(1f), 1f};
        double worst = 0;
        for (float s : scores) {
            worst = Math.max(worst, Math.max(Loss.binaryLogLoss(s, true), Loss.binaryLogLoss(s, false)));
            worst = Math.max(worst, Loss.logLoss(s));
        }
        assertEquals(max, worst, 1e-12);
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
