package io.shadowml.jobs.metrics;

import static io.shadowml.jobs.metrics.TestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.shadowml.models.ModelDescriptor.Task;

/** The task-independent face of the quality accumulators, as {@link ExperimentAccumulator} uses it. */
class QualityAccumulatorTest {

    @Test
    void forModelPicksTheTaskAndTheModelsSettings() {
        ModelLayout binary = SegmentSlicesTest.binaryLayout(); // thresholds 0.5, 0.3, 0.7
        assertEquals(
                0.3,
                assertInstanceOf(BinaryQualityAccumulator.class, QualityAccumulator.forModel(binary, 1))
                        .threshold());
        assertEquals(
                0.7,
                assertInstanceOf(BinaryQualityAccumulator.class, QualityAccumulator.forModel(binary, 2))
                        .threshold());
        assertEquals(
                3,
                assertInstanceOf(
                                MulticlassQualityAccumulator.class,
                                QualityAccumulator.forModel(SegmentSlicesTest.multiclassLayout(), 1))
                        .numClasses());
        assertInstanceOf(
                RegressionQualityAccumulator.class,
                QualityAccumulator.forModel(SegmentSlicesTest.regressionLayout(), 0));
    }

    @Test
    void addLabelledReadsTheModelsSlotsOfTheFlatOutputs() {
        BinaryQualityAccumulator b = new BinaryQualityAccumulator(0.3);
        b.addLabelled(new float[] {0.2f, 0.9f, 0.4f}, 1, 1.0);
        b.addLabelled(new float[] {0.2f, 0.9f, 0.25f}, 2, 0.0);
        BinaryQualityAccumulator bExpected = new BinaryQualityAccumulator(0.3);
        bExpected.add(0.9f, true);
        bExpected.add(0.25f, false);
        assertEquals(bExpected, b);

        // live (0.1, 0.2, 0.7), candidate (0.5, 0.3, 0.2): the candidate's slots start at 3
        MulticlassQualityAccumulator m = new MulticlassQualityAccumulator(3);
        m.addLabelled(new float[] {0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f}, 3, 1.0);
        m.addLabelled(new float[] {0.4f, 0.4f, 0.2f, 0.1f, 0.1f, 0.8f}, 0, 2.0); // a tie goes to class 0
        MulticlassQualityAccumulator mExpected = new MulticlassQualityAccumulator(3);
        mExpected.add(new float[] {0.5f, 0.3f, 0.2f}, 0, 1);
        mExpected.add(new float[] {0.4f, 0.4f, 0.2f}, 0, 2);
        assertEquals(mExpected, m);
        assertEquals(1, m.confusion(1, 0));
        assertEquals(1, m.confusion(2, 0));

        RegressionQualityAccumulator r = new RegressionQualityAccumulator();
        r.addLabelled(new float[] {1.5f, -2.0f}, 1, 0.5);
        RegressionQualityAccumulator rExpected = new RegressionQualityAccumulator();
        rExpected.add(-2.0, 0.5);
        assertEquals(rExpected, r);
    }

    @Test
    void invalidEventsThroughAddLabelledLeaveTheStateUnchanged() {
        MulticlassQualityAccumulator m = new MulticlassQualityAccumulator(3);
        assertThrows(IllegalArgumentException.class, () -> m.addLabelled(new float[] {0.1f, 0.2f, 0.7f}, 0, 3.0));
        assertThrows(IllegalArgumentException.class, () -> m.addLabelled(new float[] {0.1f, Float.NaN, 0.7f}, 0, 1.0));
        assertEquals(new MulticlassQualityAccumulator(3), m);
        BinaryQualityAccumulator b = new BinaryQualityAccumulator(0.5);
        assertThrows(IllegalArgumentException.class, () -> b.addLabelled(new float[] {1.5f}, 0, 1.0));
        assertEquals(new BinaryQualityAccumulator(0.5), b);
    }

    @Test
    void putMetricsUsesTheReportKeysAndTheGetters() {
        BinaryQualityAccumulator b = new BinaryQualityAccumulator(0.5);
        b.add(0.8, true);
        b.add(0.6, false);
        b.add(0.1, false);
        Map<String, Double> q = new TreeMap<>();
        b.putMetrics(q);
        assertEquals(
                Map.ofEntries(
                        Map.entry("roc_auc_max_error", b.rocAucMaxError()),
                        Map.entry("roc_auc_ci_low", b.rocAucCi95()[0]),
                        Map.entry("roc_auc_ci_high", b.rocAucCi95()[1]),
                        Map.entry("ece", b.ece())),
                Map.of(
                        "roc_auc_max_error",
                        q.remove("roc_auc_max_error"),
                        "roc_auc_ci_low",
                        q.remove("roc_auc_ci_low"),
                        "roc_auc_ci_high",
                        q.remove("roc_auc_ci_high"),
                        "ece",
                        q.remove("ece")));
        assertEquals(
                Map.of(
                        "accuracy",
                        b.accuracy(),
                        "precision",
                        b.precision(),
                        "recall",
                        b.recall(),
                        "f1",
                        b.f1(),
                        "roc_auc",
                        b.rocAuc(),
                        "log_loss",
                        b.logLoss(),
                        "brier",
                        b.brier(),
                        "positives",
                        1.0),
                q);

        MulticlassQualityAccumulator m = new MulticlassQualityAccumulator(3);
        m.add(new float[] {0.5f, 0.3f, 0.2f}, 0, 1);
        q.clear();
        m.putMetrics(q);
        assertEquals(Map.of("accuracy", 0.0, "macro_f1", m.macroF1(), "log_loss", m.logLoss(), "ece", m.ece()), q);

        RegressionQualityAccumulator r = new RegressionQualityAccumulator();
        r.add(3, 1);
        r.add(1, 2);
        q.clear();
        r.putMetrics(q);
        assertEquals(Map.of("mae", 1.5, "rmse", Math.sqrt(2.5)), q);
    }

    @Test
    void mergeThroughTheInterfaceNeedsTheSameTask() {
        QualityAccumulator b = new BinaryQualityAccumulator(0.5);
        QualityAccumulator r = new RegressionQualityAccumulator();
        assertThrows(IllegalArgumentException.class, () -> b.merge(r));
        assertThrows(IllegalArgumentException.class, () -> r.merge(b));
        assertThrows(IllegalArgumentException.class, () -> new MulticlassQualityAccumulator(3).merge(b));
        QualityAccumulator other = new BinaryQualityAccumulator(0.5);
        other.addLabelled(new float[] {0.7f}, 0, 1.0);
        b.merge(other);
        assertEquals(1, b.count());
        assertEquals(other, b.copy());
    }

    @Test
    void readFromReadsTheImplementationOfTheTask() throws IOException {
        BinaryQualityAccumulator b = new BinaryQualityAccumulator(0.3);
        b.add(0.9, true);
        MulticlassQualityAccumulator m = new MulticlassQualityAccumulator(4);
        m.add(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 3, 2);
        RegressionQualityAccumulator r = new RegressionQualityAccumulator();
        r.add(2, 1);
        assertEquals(b, TestSupport.roundTrip(b::writeTo, in -> QualityAccumulator.readFrom(Task.BINARY, in)));
        assertEquals(m, TestSupport.roundTrip(m::writeTo, in -> QualityAccumulator.readFrom(Task.MULTICLASS, in)));
        assertEquals(r, TestSupport.roundTrip(r::writeTo, in -> QualityAccumulator.readFrom(Task.REGRESSION, in)));
    }

    /**
     * The paired comparison's mean loss difference is the difference of the two models' reported log
     * losses (squared errors for regression): both come from {@link Loss}, clipping included.
     */
    @Test
    void pairedLossDifferenceIsTheDifferenceOfTheReportedLosses() {
        for (ModelLayout layout : List.of(
                SegmentSlicesTest.binaryLayout(),
                SegmentSlicesTest.multiclassLayout(),
                SegmentSlicesTest.regressionLayout())) {
            Random rnd = new Random(7);
            ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
            for (MetricEvent e : labelledEvents(layout, 2_000, rnd)) {
                acc.add(e, layout);
            }
            for (int c = 1; c < layout.models(); c++) {
                double expected = loss(acc.quality(c)) - loss(acc.quality(0));
                assertClose(expected, acc.paired(c).meanLossDifference(), 1e-12, layout.task() + " candidate " + c);
            }
        }
    }

    private static double loss(QualityAccumulator q) {
        if (q instanceof BinaryQualityAccumulator) {
            return ((BinaryQualityAccumulator) q).logLoss();
        }
        if (q instanceof MulticlassQualityAccumulator) {
            return ((MulticlassQualityAccumulator) q).logLoss();
        }
        double rmse = ((RegressionQualityAccumulator) q).rmse();
        return rmse * rmse;
    }

    /** Labelled events without errors; a tenth of the probabilities are exactly 0 or 1, where clipping matters. */
    private static List<MetricEvent> labelledEvents(ModelLayout layout, int n, Random rnd) {
        List<MetricEvent> out = new ArrayList<>();
        int slots = layout.slotsPerModel();
        for (int i = 0; i < n; i++) {
            float[] o = new float[layout.width()];
            for (int m = 0; m < layout.models(); m++) {
                if (layout.task() == Task.BINARY) {
                    o[m] = rnd.nextInt(10) == 0 ? rnd.nextInt(2) : rnd.nextFloat();
                } else if (layout.task() == Task.MULTICLASS) {
                    int hot = rnd.nextInt(10) == 0 ? rnd.nextInt(slots) : -1;
                    for (int k = 0; k < slots; k++) {
                        o[m * slots + k] = hot < 0 ? 1f / slots : k == hot ? 1f : 0f;
                    }
                } else {
                    o[m] = (float) rnd.nextGaussian();
                }
            }
            double label = layout.task() == Task.REGRESSION
                    ? rnd.nextGaussian()
                    : rnd.nextInt(Math.max(2, layout.numClasses()));
            out.add(MetricEvent.labelled("r" + i, 1_000 + i, o, 0L, label, 1_000 + i, null));
        }
        return out;
    }
}
