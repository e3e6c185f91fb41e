package io.shadowml.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.WindowPartial;

class ResolveLiveGenerationTest {
    private static final int MAX_PARALLELISM = 128;
    private static final long HOUR = 3_600_000L;

    private static TwoInputStreamOperatorTestHarness<WindowPartial, SlotAssignment, WindowPartial> harness(
            int parallelism, int subtask) throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(
                new ResolveLiveGeneration(), MAX_PARALLELISM, parallelism, subtask);
    }

    /** Generation g's live model in logical slot 0 from {@code from}, as the validator sends the views. */
    private static SlotAssignment liveView(int generation, long from) {
        SlotAssignment a = SlotAssignment.configured(0, "live-" + generation + ":1");
        a.generation = generation;
        a.from = from;
        return a;
    }

    private static WindowPartial partial(long start, int generation) {
        return new WindowPartial(start, start + HOUR, generation, null);
    }

    private static List<Integer> resolve(
            TwoInputStreamOperatorTestHarness<WindowPartial, SlotAssignment, WindowPartial> h, WindowPartial... in)
            throws Exception {
        for (WindowPartial p : in) {
            h.processElement1(new StreamRecord<>(p, p.windowStart));
        }
        return h.extractOutputValues().stream().map(p -> p.generation).toList();
    }

    /**
     * A partial of no generation goes to the one live at its window's start (by hand: generation 1 from
     * 2 h, 2 from 5 h); a scored one keeps its own.
     */
    @Test
    void aPartialOfNoGenerationGoesToTheGenerationLiveAtItsWindowStart() throws Exception {
        try (var h = harness(1, 0)) {
            h.open();
            h.processElement2(new StreamRecord<>(liveView(1, 2 * HOUR)));
            h.processElement2(new StreamRecord<>(liveView(2, 5 * HOUR)));
            assertEquals(
                    List.of(0, 0, 1, 1, 2, 2, 0),
                    resolve(
                            h,
                            partial(0, MetricEvent.NO_GENERATION),
                            partial(HOUR, MetricEvent.NO_GENERATION),
                            partial(2 * HOUR, MetricEvent.NO_GENERATION),
                            partial(4 * HOUR, MetricEvent.NO_GENERATION),
                            partial(5 * HOUR, MetricEvent.NO_GENERATION),
                            partial(9 * HOUR, MetricEvent.NO_GENERATION),
                            partial(9 * HOUR, 0)));
        }
    }

    /**
     * The starts come back to every subtask at another parallelism (2 to 3), from operator state that is
     * not a union list state (a checkpoint of it fails while part of the vertex has finished).
     */
    @Test
    void theStartsComeBackToEverySubtaskAtAnotherParallelism() throws Exception {
        OperatorSubtaskState[] saved = new OperatorSubtaskState[2];
        for (int subtask = 0; subtask < 2; subtask++) {
            try (var h = harness(2, subtask)) {
                h.open();
                h.processElement2(new StreamRecord<>(liveView(1, 2 * HOUR)));
                saved[subtask] = h.snapshot(1, 0);
            }
            assertFalse(saved[subtask].getManagedOperatorState().stream()
                    .flatMap(s -> s.getStateNameToPartitionOffsets().values().stream())
                    .anyMatch(m -> m.getDistributionMode() == OperatorStateHandle.Mode.UNION));
        }
        OperatorSubtaskState both = AbstractStreamOperatorTestHarness.repackageState(saved);
        for (int subtask = 0; subtask < 3; subtask++) {
            try (var h = harness(3, subtask)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(
                        both, MAX_PARALLELISM, 2, 3, subtask));
                h.open();
                assertEquals(
                        List.of(0, 1),
                        resolve(
                                h,
                                partial(HOUR, MetricEvent.NO_GENERATION),
                                partial(3 * HOUR, MetricEvent.NO_GENERATION)),
                        "subtask " + subtask);
            }
        }
    }
}
