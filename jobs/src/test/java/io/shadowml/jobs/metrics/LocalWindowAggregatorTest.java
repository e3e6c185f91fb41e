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
    /** label_maturity: three windows. */
    private static final long MATURITY = 3_000;

    private OneInputStreamOperatorTestHarness<MetricEvent, ShardPartial> harness;

    @BeforeEach
    void setUp() throws Exception {
        ModelLayout layout = TestLayouts.binary(0.5, 0.5);
        harness = new OneInputStreamOperatorTestHarness<>(
                new LocalWindowAggregator("exp", W, MATURITY, layout, new SegmentSpec(List.of()), 4));
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

    /**
     * The partials emitted since the last call, as "window max timestamp: scored count / matured requests /
     * labelled / matured labelled pairs".
     */
    private List<String> drain() {
        List<String> out = new ArrayList<>();
        for (StreamRecord<? extends ShardPartial> r : harness.extractOutputStreamRecords()) {
            ExperimentAccumulator acc = r.getValue().accumulator;
            String labels = acc.labelled() + acc.matured().labelled() == 0
                    ? ""
                    : "/" + acc.labelled() + "/" + acc.matured().labelled() + "="
                            + acc.matured().paired(1).count();
            out.add(r.getTimestamp() + ":" + acc.scored() + "/" + acc.matured().requests() + labels);
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
        assertEquals(List.of("999:2/0", "1999:1/0"), drain());
        harness.processWatermark(new Watermark(Long.MAX_VALUE));
        // Each request matures MATURITY after its event time: 3100 and 3999, 4000, 5500.
        assertEquals(List.of("2999:1/0", "3999:0/2", "4999:0/1", "5999:0/1"), drain());
    }

    @Test
    void hasNoStateEverythingGoesOutBeforeTheBarrier() throws Exception {
        scored("a", 100);
        scored("b", 1_100);
        harness.prepareSnapshotPreBarrier(1);
        assertEquals(List.of("999:1/0", "1999:1/0", "3999:0/1", "4999:0/1"), drain());
        scored("c", 150); // the window is still open: a second partial of it
        harness.processWatermark(new Watermark(999));
        assertEquals(List.of("999:1/0"), drain());
    }

    @Test
    void eventsOfClosedWindowsAreCountedAsLateNotAdded() throws Exception {
        harness.processWatermark(new Watermark(1_500));
        drain();
        scored("late", 999); // its window [0, 1000) closed at watermark 999
        scored("onTime", 1_000); // [1000, 2000) is open
        harness.processElement(new StreamRecord<>(MetricEvent.of(MetricEvent.DEAD_LETTER, "x"))); // no timestamp
        harness.processWatermark(new Watermark(Long.MAX_VALUE));
        assertEquals(List.of("1999:1/0", "4999:0/1"), drain());
        assertEquals(2, lateCount());
    }

    /**
     * A label counts in the matured evidence of its request's maturity window when it came within
     * MATURITY of the request (before it, too); a later one only "so far". An implicit label (no label
     * event, joined at the horizon) matures with its request.
     */
    @Test
    void labelsWithinMaturityDecideAtTheirRequestsMaturityLaterOnesOnlySoFar() throws Exception {
        labelled("early", 500, 800); // delay 300: in window 999 so far, matured at 3500
        labelled("atTheEdge", 600, 3_600); // delay = MATURITY exactly: within
        labelled("late", 700, 3_701); // 1 ms beyond its maturity: so far only (window 3999)
        labelled("labelFirst", 2_000, 1_500); // label before the request: joined at 2000, delay 0
        MetricEvent implicit = MetricEvent.implicitNegative("implicit", 1_200, new float[] {0.2f, 0.7f}, 0L, null);
        harness.processElement(new StreamRecord<>(implicit, 1_200 + MATURITY));
        harness.processWatermark(new Watermark(Long.MAX_VALUE));
        assertEquals(
                List.of(
                        "999:0/0/1/0=0", // early, so far
                        "2999:0/0/1/0=0", // labelFirst, so far at its request's time
                        "3999:0/0/2/2=2", // atTheEdge and late so far; early and atTheEdge matured
                        "4999:0/0/1/1=1", // implicit: so far and matured at 4200
                        "5999:0/0/0/1=1"), // labelFirst matured at 5000
                drain());
    }

    private void labelled(String id, long eventTime, long labelTime) throws Exception {
        MetricEvent e = MetricEvent.labelled(id, eventTime, new float[] {0.2f, 0.7f}, 0L, 1.0, labelTime, null);
        harness.processElement(new StreamRecord<>(e, Math.max(eventTime, labelTime)));
    }

    private long lateCount() {
        return ((LocalWindowAggregator) harness.getOneInputOperator()).lateEvents();
    }
}
