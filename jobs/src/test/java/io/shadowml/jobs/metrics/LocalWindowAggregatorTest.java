package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LocalWindowAggregatorTest {
    private static final long W = 1_000; // window

    private OneInputStreamOperatorTestHarness<MetricEvent, ShardPartial> harness;

    @BeforeEach
    void setUp() throws Exception {
        ModelLayout layout = TestLayouts.binary(0.5, 0.5);
        harness = new OneInputStreamOperatorTestHarness<>(
                new LocalWindowAggregator("exp", W, layout, new SegmentSpec(List.of()), 4));
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private void scored(String id, long t) throws Exception {
        harness.processElement(
                new StreamRecord<>(MetricEvent.scored(id, t, new float[] {0.2f, 0.7f}, 0L, new int[] {1, 1}, null), t));
    }

    /** The partials emitted since the last call, as "window max timestamp: scored count". */
    private List<String> drain() {
        List<String> out = new ArrayList<>();
        for (StreamRecord<? extends ShardPartial> r : harness.extractOutputStreamRecords()) {
            out.add(r.getTimestamp() + ":" + r.getValue().accumulator.scored());
        }
        harness.getOutput().clear();
        return out;
    }

    @Test
    void emitsEachWindowOnceItsWatermarkPassesAtItsLastMillisecond() throws Exception {
        scored("a", 100);
        scored("b", 999);
        scored("c", 1_000);
        scored("d", 2_500);
        harness.processWatermark(new Watermark(998));
        assertEquals(List.of(), drain());
        harness.processWatermark(new Watermark(1_999));
        // windows [0, 1000) and [1000, 2000); [2000, 3000) still open
        assertEquals(List.of("999:2", "1999:1"), drain());
        harness.processWatermark(new Watermark(Long.MAX_VALUE));
        assertEquals(List.of("2999:1"), drain());
    }

    @Test
    void hasNoStateEverythingGoesOutBeforeTheBarrier() throws Exception {
        scored("a", 100);
        scored("b", 1_100);
        harness.prepareSnapshotPreBarrier(1);
        assertEquals(List.of("999:1", "1999:1"), drain());
        scored("c", 150); // the window is still open: a second partial of it
        harness.processWatermark(new Watermark(999));
        assertEquals(List.of("999:1"), drain());
    }

    @Test
    void eventsOfClosedWindowsAreCountedAsLateNotAdded() throws Exception {
        harness.processWatermark(new Watermark(1_500));
        drain();
        scored("late", 999); // its window [0, 1000) closed at watermark 999
        scored("onTime", 1_000); // [1000, 2000) is open
        harness.processElement(new StreamRecord<>(MetricEvent.of(MetricEvent.DEAD_LETTER, "x"))); // no timestamp
        harness.processWatermark(new Watermark(Long.MAX_VALUE));
        assertEquals(List.of("1999:1"), drain());
        assertEquals(2, lateCount());
    }

    private long lateCount() {
        return ((LocalWindowAggregator) harness.getOneInputOperator()).lateEvents();
    }
}
