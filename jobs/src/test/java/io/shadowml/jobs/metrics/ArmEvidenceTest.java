package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;

import org.junit.jupiter.api.Test;

import io.shadowml.jobs.config.CanaryConfig;

/** Per-arm canary evidence folded into an experiment accumulator, checked against hand counts. */
class ArmEvidenceTest {
    /** bin0 (live, 0.5), bin1 (0.3), bin2 (0.7); arms prod (bin0), canary (bin1); fraud loss on missed positives. */
    static final CanaryConfig CANARY = ArmFixtures.canary(
            1,
            0.05,
            0.01,
            200,
            new CanaryConfig.BusinessMetric("fraud_loss", "amount", CanaryConfig.When.MISSED_POSITIVE, 0));

    static final ModelLayout LAYOUT = ArmFixtures.binaryLayout(CANARY);

    private static MetricEvent scored(String id, byte arm, float[] outputs, byte parity, double difference) {
        MetricEvent e = MetricEvent.scored(id, 1_000, outputs, 0, new int[3], null);
        e.arm = arm;
        e.parity = parity;
        e.parityDifference = difference;
        return e;
    }

    private static MetricEvent labelled(String id, byte arm, float[] outputs, double label, float amount) {
        MetricEvent e = MetricEvent.labelled(id, 1_000, outputs, 0, label, 2_000, null);
        e.arm = arm;
        e.businessValue = amount;
        return e;
    }

    @Test
    void countsEachArmsRequestsOutcomesAndParity() throws IOException {
        ExperimentAccumulator acc = new ExperimentAccumulator(LAYOUT, SegmentSpec.NONE);
        float[] out = {0.6f, 0.2f, 0.9f}; // bin0 says 1 (>= 0.5), bin1 says 0 (< 0.3)
        acc.add(scored("a", (byte) 0, out, MetricEvent.PARITY_SAME_DECISION, 0.01), LAYOUT);
        acc.add(scored("b", (byte) 1, out, MetricEvent.PARITY_FLIPPED, 0.2), LAYOUT);
        acc.add(scored("c", (byte) 1, out, MetricEvent.PARITY_SAME_DECISION, 0.0), LAYOUT);
        acc.add(scored("d", MetricEvent.NO_ARM, out, MetricEvent.PARITY_FLIPPED, 0.3), LAYOUT);
        acc.add(scored("e", MetricEvent.UNMAPPED_ARM, out, MetricEvent.PARITY_NONE, 0), LAYOUT);
        // Labelled positive: prod (bin0 = 1) right, canary (bin1 = 0) misses it: loss 120 counts for canary.
        acc.add(labelled("a", (byte) 0, out, 1.0, 80f), LAYOUT);
        acc.add(labelled("b", (byte) 1, out, 1.0, 120f), LAYOUT);
        acc.add(labelled("c", (byte) 1, out, 0.0, 50f), LAYOUT);

        ArmEvidence arms = acc.arms();
        assertEquals(1, arms.unmapped());
        ArmEvidence.Arm prod = arms.arm("prod", "bin0:1.0.0");
        ArmEvidence.Arm canary = arms.arm("canary", "bin1:1.0.0");
        assertEquals(1, prod.scored());
        assertEquals(2, canary.scored());
        assertEquals(1, prod.soFar().labelled());
        assertEquals(1, prod.soFar().correct());
        assertEquals(0.0, prod.soFar().businessMean());
        assertEquals(2, canary.soFar().labelled());
        assertEquals(1, canary.soFar().correct()); // c: label 0, bin1 says 0
        assertEquals((120 + 0) / 2.0, canary.soFar().businessMean());
        assertEquals(
                -(Math.log(0.2f) + Math.log(1.0 - (double) 0.2f)) / 2,
                canary.soFar().meanLoss(),
                1e-12);
        assertEquals(2, canary.parity().count());
        assertEquals(1, canary.parity().flips());
        // The live model's parity: the control arm's request and the one without an arm.
        assertEquals(2, acc.parity().count());
        assertEquals(1, acc.parity().flips());
        assertEquals(0, canary.matured().labelled(), "matured only when the aggregator says so");

        acc.addMatured(labelled("b", (byte) 1, out, 1.0, 120f), LAYOUT);
        assertEquals(1, canary.matured().labelled());
        assertEquals(0, canary.matured().correct());

        ExperimentAccumulator back = TestSupport.roundTrip(acc::writeTo, ExperimentAccumulator::readFrom);
        assertEquals(acc.arms(), back.arms());
    }

    @Test
    void mergesArmsByServedByAndModelNotByPosition() {
        ExperimentAccumulator a = new ExperimentAccumulator(LAYOUT, SegmentSpec.NONE);
        a.add(scored("x", (byte) 1, new float[] {0.1f, 0.1f, 0.1f}, MetricEvent.PARITY_NONE, 0), LAYOUT);
        // canary now served by bin2: another arm, whatever its index.
        CanaryConfig reordered = ArmFixtures.canary(2, 0.05, 0.01, 200, null);
        ModelLayout other = ArmFixtures.binaryLayout(reordered);
        ExperimentAccumulator b = new ExperimentAccumulator(other, SegmentSpec.NONE);
        b.add(scored("y", (byte) 1, new float[] {0.1f, 0.1f, 0.1f}, MetricEvent.PARITY_NONE, 0), other);
        b.add(scored("z", (byte) 0, new float[] {0.1f, 0.1f, 0.1f}, MetricEvent.PARITY_NONE, 0), other);
        a.merge(b);
        assertEquals(1, a.arms().arm("canary", "bin1:1.0.0").scored());
        assertEquals(1, a.arms().arm("canary", "bin2:1.0.0").scored());
        assertEquals(1, a.arms().arm("prod", "bin0:1.0.0").scored());
        assertNull(a.arms().arm("canary", "bin0:1.0.0"));
        assertEquals(3, a.arms().arms().size());
    }
}
