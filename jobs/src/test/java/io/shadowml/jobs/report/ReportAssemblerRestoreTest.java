package io.shadowml.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.config.VerdictMetric;
import io.shadowml.jobs.config.VerdictPolicyConfig;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.metrics.TestLayouts;
import io.shadowml.jobs.metrics.WindowPartial;

/** The report assembler across a restore whose YAML has another model set. */
class ReportAssemblerRestoreTest {
    static final long WINDOW = 1_800_000L;
    /** When the restore's change takes effect. */
    static final long EFFECTIVE = 10 * WINDOW;

    private static KeyedTwoInputStreamOperatorTestHarness<String, WindowPartial, SlotAssignment, ComparisonReport>
            harness(ModelLayout layout) throws Exception {
        VerdictPolicyConfig verdict =
                new VerdictPolicyConfig(500, 0.05, 0.01, 10_000, VerdictMetric.LOG_LOSS, Map.of());
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new ReportAssemblerOperator(
                        new ReportAssembler(layout, new VerdictPolicy(verdict, layout.models() - 1))),
                p -> GenerationKey.of("exp", p.generation),
                c -> GenerationKey.of("exp", c.generation),
                Types.STRING);
    }

    /** A window from {@code start} of {@code n} requests, none scored by the models of {@code absentMask}. */
    private static WindowPartial window(ModelLayout layout, long start, int n, long absentMask) {
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        for (int i = 0; i < n; i++) {
            // Live 0.2 (negative), slot 1 at 0.7 (a flip), slot 2 at 0.1 (none).
            MetricEvent e = MetricEvent.scored(
                    "r" + start + "-" + i, start + i, new float[] {0.2f, 0.7f, 0.1f}, 0, new int[3], null);
            e.absentMask = absentMask;
            acc.add(e, layout);
        }
        return new WindowPartial(start, start + WINDOW, acc);
    }

    private static Optional<Disagreement> disagreement(ComparisonReport r, String candidate) {
        return r.getDisagreement().stream()
                .filter(d -> d.getCandidate().equals(candidate))
                .findFirst();
    }

    private static ComparisonReport lastCumulative(
            KeyedTwoInputStreamOperatorTestHarness<String, WindowPartial, SlotAssignment, ComparisonReport> h) {
        List<ComparisonReport> all = h.extractOutputValues().stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .toList();
        return all.get(all.size() - 1);
    }

    /**
     * Restored with a YAML that has a new candidate in a slot left to announced ones before: the slot is
     * named by the change the restore announces (from its effective time), not by the new YAML, so no
     * window before that time names the new model.
     */
    @Test
    void aSlotTheNewYamlFillsIsNamedByTheAnnouncedChangeNotByTheYaml() throws Exception {
        ModelLayout before = TestLayouts.binary(0.5, 0.5).withSlots(2);
        OperatorSubtaskState saved;
        var h = harness(before);
        try {
            h.open();
            h.processElement1(new StreamRecord<>(window(before, 0, 5, 1L << 2)));
            h.processWatermark1(new Watermark(WINDOW));
            assertEquals(
                    5,
                    disagreement(lastCumulative(h), "bin1:1.0.0").orElseThrow().getCompared());
            saved = h.snapshot(1, WINDOW);
        } finally {
            h.close();
        }

        ModelLayout after = TestLayouts.binary(0.5, 0.5, 0.5).withSlots(2);
        var restored = harness(after);
        try {
            restored.initializeState(saved);
            restored.open();
            SlotAssignment added = new SlotAssignment();
            added.slot = 2;
            added.modelId = "bin2:1.0.0";
            added.descriptorJson = "{}";
            added.descriptorFile = "/models/bin2/model.json";
            added.from = EFFECTIVE;
            restored.processElement2(new StreamRecord<>(added));

            restored.processElement1(new StreamRecord<>(window(after, WINDOW, 3, 1L << 2)));
            restored.processWatermark1(new Watermark(2 * WINDOW));
            ComparisonReport beforeEffective = lastCumulative(restored);
            assertEquals(
                    8, disagreement(beforeEffective, "bin1:1.0.0").orElseThrow().getCompared());
            assertFalse(disagreement(beforeEffective, "bin2:1.0.0").isPresent(), "bin2 named before its start");

            restored.processElement1(new StreamRecord<>(window(after, EFFECTIVE, 4, 0)));
            restored.processWatermark1(new Watermark(EFFECTIVE + WINDOW));
            ComparisonReport fromEffective = lastCumulative(restored);
            Disagreement b = disagreement(fromEffective, "bin2:1.0.0").orElseThrow();
            assertEquals(4, b.getCompared());
            assertEquals(0, b.getFlips());
            assertEquals(
                    12, disagreement(fromEffective, "bin1:1.0.0").orElseThrow().getCompared());
            assertEquals(
                    12, disagreement(fromEffective, "bin1:1.0.0").orElseThrow().getFlips());
            assertEquals((double) EFFECTIVE, fromEffective.getMetrics().get("candidate_from[bin2:1.0.0]"));
        } finally {
            restored.close();
        }
    }
}
