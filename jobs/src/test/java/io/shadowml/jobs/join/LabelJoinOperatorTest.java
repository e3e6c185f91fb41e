package io.shadowml.jobs.join;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.MetricEvent;

class LabelJoinOperatorTest {
    private static final long H = 10_000; // label horizon, ms

    private KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    /** Buckets of 1 ms: every deadline is settled exactly when the watermark reaches it. */
    private static KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> newHarness()
            throws Exception {
        return newHarness(1);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> newHarness(
            long bucketMillis) throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h =
                unopenedHarness(bucketMillis);
        h.open();
        return h;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> unopenedHarness(
            long bucketMillis) throws Exception {
        return unopenedHarness(bucketMillis, H);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> unopenedHarness(
            long bucketMillis, long horizon) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new LabelJoinOperator("exp-1", Duration.ofMillis(horizon), Duration.ofMillis(bucketMillis)),
                e -> e.requestId,
                l -> l.requestId,
                Types.STRING);
    }

    // ------------------------------------------------------------------ inputs

    private static MetricEvent scored(String id, long eventTime, float[] outputs, long errorMask) {
        return MetricEvent.scored(id, eventTime, outputs, errorMask, new int[] {7, 9}, null); // no segment fields
    }

    private static void prediction(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h,
            String id,
            long eventTime,
            float... outputs)
            throws Exception {
        // The scoring operator emits a request at its event time, so the record timestamp is the event time.
        h.processElement1(new StreamRecord<>(scored(id, eventTime, outputs, 0L), eventTime));
    }

    private static void label(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h,
            String id,
            long labelTime,
            double value)
            throws Exception {
        // The label source assigns label_time as the record timestamp.
        Label l = Label.newBuilder()
                .setRequestId(id)
                .setLabelTime(Instant.ofEpochMilli(labelTime))
                .setValue(value)
                .build();
        h.processElement2(new StreamRecord<>(LabelEvent.of(l), labelTime));
    }

    private static void watermark(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h, long t)
            throws Exception {
        h.processBothWatermarks(new Watermark(t));
    }

    /** Records emitted since the last call (watermarks skipped). */
    private static List<StreamRecord<? extends MetricEvent>> drain(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h) {
        List<StreamRecord<? extends MetricEvent>> out = new ArrayList<>(h.extractOutputStreamRecords());
        h.getOutput().clear();
        return out;
    }

    private static void assertRecord(StreamRecord<? extends MetricEvent> r, byte kind, String id, long timestamp) {
        assertEquals(kind, r.getValue().kind, "kind of " + r);
        assertEquals(id, r.getValue().requestId);
        assertEquals(timestamp, r.getTimestamp(), "record timestamp");
    }

    /** No keyed state and no timers left once the watermark has passed {@code quietAfter}. */
    private static void assertAllCleared(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h, long quietAfter)
            throws Exception {
        watermark(h, quietAfter);
        assertEquals(List.of(), drain(h), "nothing more is emitted once everything is settled");
        assertEquals(0, h.numKeyedStateEntries(), "keyed state entries left");
        assertEquals(0, h.numEventTimeTimers(), "event-time timers left");
    }

    // ------------------------------------------------------------------ cases

    @Test
    void labelAfterPrediction() throws Exception {
        float[] outputs = {0.25f, 0.75f};
        harness.processElement1(new StreamRecord<>(scored("r1", 1_000, outputs, 2L), 1_000));
        watermark(harness, 1_500);
        assertEquals(List.of(), drain(harness));
        assertTrue(harness.numKeyedStateEntries() > 0, "the prediction is kept while it waits");

        label(harness, "r1", 3_000, 1.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r1", 3_000);
        MetricEvent e = out.get(0).getValue();
        assertEquals(1_000, e.eventTime, "the pair keeps the request's event time");
        assertArrayEquals(new float[] {0.25f, 0.75f}, e.outputs);
        assertEquals(2L, e.errorMask);
        assertEquals(1.0, e.label);

        // the horizon of the request is 11 000: after it no EXPIRED, no state, no timers
        assertAllCleared(harness, 1_000 + H);
    }

    @Test
    void labelBeforePredictionWithEarlierLabelTimeJoinsWhenPredictionArrives() throws Exception {
        label(harness, "r2", 500, 0.0);
        assertEquals(List.of(), drain(harness));
        prediction(harness, "r2", 1_000, 0.9f, 0.1f);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r2", 1_000); // max(1000, 500)
        assertArrayEquals(new float[] {0.9f, 0.1f}, out.get(0).getValue().outputs);
        assertEquals(0.0, out.get(0).getValue().label);
        assertEquals(1_000, out.get(0).getValue().eventTime);
        // the label's own timer (500 + H) and the request's (1000 + H) must both be gone after 1000 + H
        assertAllCleared(harness, 1_000 + H);
    }

    @Test
    void predictionFirstButLabelTimeBeforeEventTimeIsEmittedAtEventTime() throws Exception {
        prediction(harness, "r3", 10_000, 0.4f, 0.6f);
        label(harness, "r3", 5_000, 1.0);
        assertEquals(List.of(), drain(harness), "the label's record time is before the request's: wait");
        watermark(harness, 9_999);
        assertEquals(List.of(), drain(harness));
        watermark(harness, 10_000);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r3", 10_000);
        assertEquals(1.0, out.get(0).getValue().label);
        assertArrayEquals(new float[] {0.4f, 0.6f}, out.get(0).getValue().outputs);
        assertAllCleared(harness, 10_000 + H);
    }

    @Test
    void labelFirstWithLaterLabelTimeIsEmittedWhenTheWatermarkReachesLabelTime() throws Exception {
        label(harness, "r4", 15_000, 1.0);
        prediction(harness, "r4", 10_000, 0.3f, 0.7f);
        assertEquals(List.of(), drain(harness));
        watermark(harness, 14_999);
        assertEquals(List.of(), drain(harness));
        watermark(harness, 15_000);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r4", 15_000);
        assertEquals(10_000, out.get(0).getValue().eventTime);
        assertAllCleared(harness, 15_000 + H);
    }

    @Test
    void duplicateLabelsFirstWinsAndLateDuplicatesBeforeTheHorizonAreCounted() throws Exception {
        label(harness, "r5", 500, 1.0);
        label(harness, "r5", 600, 0.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.DUPLICATE_LABEL, "r5", 600);

        prediction(harness, "r5", 1_000, 0.2f, 0.8f);
        out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r5", 1_000);
        assertEquals(1.0, out.get(0).getValue().label, "the first label wins");

        // after the join, before the request's horizon (1000 + H): still a duplicate
        watermark(harness, 5_000);
        label(harness, "r5", 8_000, 0.0);
        out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.DUPLICATE_LABEL, "r5", 8_000);
        assertAllCleared(harness, 1_000 + H);
    }

    @Test
    void duplicateLabelWhileWaitingForTheJoinTime() throws Exception {
        prediction(harness, "r5b", 10_000, 0.6f, 0.4f);
        label(harness, "r5b", 4_000, 0.0); // joins at 10 000
        label(harness, "r5b", 4_500, 1.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.DUPLICATE_LABEL, "r5b", 4_500);
        watermark(harness, 10_000);
        out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r5b", 10_000);
        assertEquals(0.0, out.get(0).getValue().label);
        assertAllCleared(harness, 10_000 + H);
    }

    @Test
    void labelForAnIdNeverScoredIsUnknownAfterItsHorizon() throws Exception {
        label(harness, "ghost", 1_000, 1.0);
        watermark(harness, 1_000 + H - 1);
        assertEquals(List.of(), drain(harness));
        watermark(harness, 1_000 + H);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.UNKNOWN_LABEL, "ghost", 1_000 + H);
        assertAllCleared(harness, 1_000 + H + 1);
    }

    @Test
    void predictionWithoutLabelExpiresAtEventTimePlusHorizon() throws Exception {
        prediction(harness, "r6", 1_000, 0.5f, 0.5f);
        watermark(harness, 1_000 + H - 1);
        assertEquals(List.of(), drain(harness));
        watermark(harness, 1_000 + H);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.EXPIRED, "r6", 1_000 + H);
        assertAllCleared(harness, 1_000 + H + 1);
    }

    @Test
    void withImplicitLabelsAPredictionWithoutLabelIsANegativeAtItsHorizon() throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new LabelJoinOperator("exp-1", Duration.ofMillis(H), Duration.ofMillis(1), true),
                        e -> e.requestId,
                        l -> l.requestId,
                        Types.STRING);
        h.open();
        prediction(h, "quiet", 1_000, 0.2f, 0.3f);
        prediction(h, "charged", 1_000, 0.9f, 0.8f);
        prediction(h, "late", 1_000, 0.6f, 0.7f);
        label(h, "charged", 2_000, 1.0); // a chargeback within the horizon: joined as it arrives
        List<StreamRecord<? extends MetricEvent>> joined = drain(h);
        assertEquals(1, joined.size());
        assertRecord(joined.get(0), MetricEvent.LABELLED, "charged", 2_000);
        watermark(h, 1_000 + H - 1);
        assertEquals(List.of(), drain(h));
        watermark(h, 1_000 + H);
        List<StreamRecord<? extends MetricEvent>> out = drain(h);
        out.sort(java.util.Comparator.comparing(r -> r.getValue().requestId));
        assertEquals(2, out.size(), out.toString());
        assertRecord(out.get(0), MetricEvent.LABELLED_IMPLICIT, "late", 1_000 + H);
        assertRecord(out.get(1), MetricEvent.LABELLED_IMPLICIT, "quiet", 1_000 + H);
        assertEquals(0.0, out.get(1).getValue().label);
        assertEquals(1_000, out.get(1).getValue().eventTime);
        assertArrayEquals(new float[] {0.2f, 0.3f}, out.get(1).getValue().outputs);
        // A chargeback after the horizon does not turn the negative into a positive: an unknown label.
        label(h, "late", 1_000 + H + 5, 1.0);
        watermark(h, 1_000 + 2 * H + 5);
        List<StreamRecord<? extends MetricEvent>> late = drain(h);
        assertEquals(1, late.size());
        assertRecord(late.get(0), MetricEvent.UNKNOWN_LABEL, "late", 1_000 + 2 * H + 5);
        assertAllCleared(h, 1_000 + 3 * H);
        h.close();
    }

    @Test
    void duplicatePredictionIsCountedNotJoined() throws Exception {
        prediction(harness, "r7", 1_000, 0.1f, 0.2f);
        prediction(harness, "r7", 1_200, 0.8f, 0.9f);
        List<StreamRecord<? extends MetricEvent>> dup = drain(harness);
        assertEquals(1, dup.size());
        assertRecord(dup.get(0), MetricEvent.DUPLICATE_REQUEST, "r7", 1_200);
        label(harness, "r7", 3_000, 0.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r7", 3_000);
        assertArrayEquals(new float[] {0.1f, 0.2f}, out.get(0).getValue().outputs, "the first scoring wins");
        assertEquals(1_000, out.get(0).getValue().eventTime);
        // and a re-scoring after the join (before the horizon) is a duplicate too: counted, and no second
        // EXPIRED/LABELLED later
        prediction(harness, "r7", 4_000, 0.3f, 0.3f);
        dup = drain(harness);
        assertEquals(1, dup.size());
        assertRecord(dup.get(0), MetricEvent.DUPLICATE_REQUEST, "r7", 4_000);
        assertAllCleared(harness, 4_000 + H);
    }

    @Test
    void independentKeysDoNotInterfere() throws Exception {
        prediction(harness, "a", 1_000, 0.1f, 0.9f);
        prediction(harness, "b", 1_000, 0.2f, 0.8f);
        label(harness, "b", 2_000, 1.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "b", 2_000);
        watermark(harness, 1_000 + H);
        out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.EXPIRED, "a", 1_000 + H);
        assertAllCleared(harness, 2_000 + H);
    }

    /**
     * A label whose time is beyond the request's horizon is not "within the horizon": the outcome must be
     * the same whatever the arrival order and however far the watermark got in between (the class promises
     * windows do not depend on which topic was read first).
     */
    @Test
    void labelBeyondTheHorizonGivesTheSameOutcomeInEveryArrivalOrder() throws Exception {
        long eventTime = 1_000;
        long labelTime = eventTime + H + 1_000; // 12 000 > horizon 11 000
        List<List<String>> outcomes = new ArrayList<>();
        for (int order = 0; order < 3; order++) {
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h = newHarness();
            try {
                switch (order) {
                    case 0: // prediction, watermark past the horizon (but before the label's time), label
                        prediction(h, "x", eventTime, 0.1f, 0.9f);
                        watermark(h, eventTime + H + 500);
                        label(h, "x", labelTime, 1.0);
                        break;
                    case 1: // prediction, label, then the watermark
                        prediction(h, "x", eventTime, 0.1f, 0.9f);
                        label(h, "x", labelTime, 1.0);
                        break;
                    default: // label, prediction
                        label(h, "x", labelTime, 1.0);
                        prediction(h, "x", eventTime, 0.1f, 0.9f);
                }
                watermark(h, labelTime + H);
                List<String> seen = new ArrayList<>();
                for (StreamRecord<? extends MetricEvent> r : drain(h)) {
                    seen.add(r.getValue().kind + "@" + r.getTimestamp());
                }
                outcomes.add(seen);
                assertEquals(0, h.numKeyedStateEntries());
                assertEquals(0, h.numEventTimeTimers());
            } finally {
                h.close();
            }
        }
        // By the documented rule: the request expires at 11 000 and the label, matching no live request,
        // is an unknown label at 12 000 + H.
        List<String> expected =
                List.of(MetricEvent.EXPIRED + "@" + (eventTime + H), MetricEvent.UNKNOWN_LABEL + "@" + (labelTime + H));
        assertEquals(List.of(expected, expected, expected), outcomes);
    }

    @Test
    void labelExactlyAtTheHorizonStillJoins() throws Exception {
        prediction(harness, "edge", 1_000, 0.3f, 0.7f);
        label(harness, "edge", 1_000 + H, 1.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "edge", 1_000 + H);
        assertAllCleared(harness, 1_000 + 2 * H);
    }

    // ------------------------------------------------------------------ expiry buckets

    /**
     * Coarse expiry buckets change when outcomes are emitted, never what is emitted or at which
     * timestamp: random histories (duplicates, labels first, labels beyond the horizon, late records,
     * never-labelled requests) give the same records as 1 ms buckets, which settle every deadline at its
     * own watermark (the hand-checked cases above). And no record arrives after the watermark passed the
     * end of its window (windows of the bucket length) unless it did so with 1 ms buckets too: a late
     * input joined at once, at its own late time.
     */
    @Test
    void coarseBucketsEmitTheSameRecordsBeforeTheirWindowCloses() throws Exception {
        long bucket = 4_000;
        java.util.Random random = new java.util.Random(42);
        for (int history = 0; history < 200; history++) {
            long seed = random.nextLong();
            List<String> exactLate = new ArrayList<>();
            List<String> coarseLate = new ArrayList<>();
            List<String> exact = replay(newHarness(1), seed, bucket, exactLate);
            List<String> coarse = replay(newHarness(bucket), seed, bucket, coarseLate);
            java.util.Collections.sort(exact);
            java.util.Collections.sort(coarse);
            assertEquals(exact, coarse, "history " + history + " (seed " + seed + ")");
            for (String late : coarseLate) {
                assertTrue(exactLate.remove(late), late + " reached a closed window only with coarse buckets");
            }
        }
    }

    /**
     * Feeds a random history; returns the records as kind/id/timestamp/label, and adds to {@code late}
     * those emitted after the watermark passed the end of their window (of {@code window} ms).
     */
    private static List<String> replay(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h,
            long seed,
            long window,
            List<String> late)
            throws Exception {
        java.util.Random r = new java.util.Random(seed);
        List<String> seen = new ArrayList<>();
        long forwarded = Long.MIN_VALUE; // the last watermark passed downstream
        long time = 0;
        try {
            for (int i = 0; i < 60; i++) {
                String id = "k" + r.nextInt(12);
                time += r.nextInt(1_500);
                long t = time - r.nextInt(3_000); // sometimes behind the watermark: late
                switch (r.nextInt(5)) {
                    case 0, 1 -> prediction(h, id, t, r.nextFloat(), r.nextFloat());
                    case 2, 3 -> label(h, id, t + r.nextInt((int) (2 * H)), r.nextInt(2));
                    default -> {
                        long w = time - 2_000;
                        if (w > forwarded) {
                            watermark(h, w);
                            collect(h, seen, forwarded, window, late);
                            forwarded = w;
                        }
                    }
                }
                collect(h, seen, forwarded, window, late);
            }
            watermark(h, Long.MAX_VALUE);
            collect(h, seen, forwarded, window, late);
            assertEquals(0, h.numKeyedStateEntries(), "state left at the end");
            assertEquals(0, h.numEventTimeTimers(), "timers left at the end");
        } finally {
            h.close();
        }
        return seen;
    }

    private static void collect(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h,
            List<String> seen,
            long forwarded,
            long window,
            List<String> late) {
        for (StreamRecord<? extends MetricEvent> rec : drain(h)) {
            MetricEvent e = rec.getValue();
            String record = e.kind + "/" + e.requestId + "@" + rec.getTimestamp() + "=" + e.label;
            long windowEnd = Math.floorDiv(rec.getTimestamp(), window) * window + window;
            if (windowEnd - 1 <= forwarded) {
                late.add(record);
            }
            seen.add(record);
        }
    }

    @Test
    void oneTimerPerKeyGroupAndBucketNotPerRequest() throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h = newHarness(60_000);
        try {
            for (int i = 0; i < 5_000; i++) {
                prediction(h, "req-" + i, 1_000 + i, 0.1f, 0.9f); // all expire within one minute's bucket
            }
            // at most one timer per key group (the harness's max parallelism, 128), not one per request
            assertTrue(h.numEventTimeTimers() <= 128, h.numEventTimeTimers() + " timers");
            watermark(h, 1_000 + H + 4_999);
            assertEquals(List.of(), drain(h), "the bucket (ending at 59 999) is not settled yet");
            watermark(h, 59_999);
            List<StreamRecord<? extends MetricEvent>> out = drain(h);
            assertEquals(5_000, out.size());
            for (StreamRecord<? extends MetricEvent> rec : out) {
                int i = Integer.parseInt(rec.getValue().requestId.substring(4));
                assertRecord(rec, MetricEvent.EXPIRED, "req-" + i, 1_000 + i + H);
            }
            assertAllCleared(h, 60_000);
        } finally {
            h.close();
        }
    }

    // ------------------------------------------------------------------ bounded state (issue 11)

    /**
     * 100,000 labels for request ids that never arrive: each is held until its horizon, then counted as
     * unknown, and the state is empty again, timers included.
     */
    @Test
    void aFloodOfLabelsForUnknownIdsLeavesNoStateOnceTheirHorizonPasses() throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h = newHarness(1_000);
        try {
            int n = 100_000;
            for (int i = 0; i < n; i++) {
                label(h, "ghost-" + i, 1_000 + i / 10, 1.0);
            }
            assertTrue(h.numKeyedStateEntries() >= n, "held until the horizon: " + h.numKeyedStateEntries());
            watermark(h, 1_000 + n / 10 + H);
            List<StreamRecord<? extends MetricEvent>> out = drain(h);
            assertEquals(n, out.size());
            for (StreamRecord<? extends MetricEvent> r : out) {
                assertEquals(MetricEvent.UNKNOWN_LABEL, r.getValue().kind);
            }
            assertEquals(0, h.numKeyedStateEntries(), "state entries left");
            assertEquals(0, h.numEventTimeTimers(), "timers left");
        } finally {
            h.close();
        }
    }

    /**
     * A savepoint taken with one label horizon, restored with a longer one: every pending request, early
     * label and join marker must still be settled (under the new horizon) and leave nothing behind.
     * Entries were listed for the deadlines of the old horizon; without re-listing them, the new deadlines
     * would never be reached and the state would grow for good.
     */
    @Test
    void raisingTheHorizonAcrossARestoreLeavesNoState() throws Exception {
        long bucket = 1_000;
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> before =
                newHarness(bucket);
        try {
            prediction(before, "pending", 1_000, 0.1f, 0.9f); // never labelled
            label(before, "early", 2_000, 1.0); // its request never comes
            prediction(before, "joined", 3_000, 0.2f, 0.8f);
            label(before, "joined", 3_500, 0.0); // joins at 3 500, then a duplicate marker until expiry
            label(before, "due", 9_000, 1.0); // the label first: the pair is due at 9 000, after the snapshot
            prediction(before, "due", 4_000, 0.3f, 0.7f);
            watermark(before, 5_000);
            drain(before);
            snapshot = before.snapshot(1, 5_000);
        } finally {
            before.close();
        }
        long longer = 3 * H;
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> after =
                unopenedHarness(bucket, longer);
        try {
            after.initializeState(snapshot);
            after.open();
            watermark(after, 1_000 + H + bucket); // the old horizon's deadlines pass: nothing expires yet
            List<StreamRecord<? extends MetricEvent>> out = drain(after);
            assertEquals(1, out.size(), "only the pair due at 9 000: " + out);
            assertRecord(out.get(0), MetricEvent.LABELLED, "due", 9_000);
            watermark(after, 1_000 + longer + bucket - 1); // the end of the new expiry's bucket
            out = drain(after);
            assertEquals(1, out.size(), "the pending request expires under the new horizon: " + out);
            assertRecord(out.get(0), MetricEvent.EXPIRED, "pending", 1_000 + longer);
            watermark(after, Long.MAX_VALUE);
            out = drain(after);
            assertEquals(1, out.size(), "the early label ends under the new horizon: " + out);
            assertRecord(out.get(0), MetricEvent.UNKNOWN_LABEL, "early", 2_000 + longer);
            assertEquals(0, after.numKeyedStateEntries(), "state entries left");
            assertEquals(0, after.numEventTimeTimers(), "timers left");
        } finally {
            after.close();
        }
    }

    @Test
    void indexKeysCoverEveryKeyGroupOnce() {
        for (int keyGroups : new int[] {1, 2, 128, 4096}) {
            String[] keys = LabelJoinOperator.indexKeys(keyGroups);
            for (int g = 0; g < keyGroups; g++) {
                assertEquals(
                        g, org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup(keys[g], keyGroups));
            }
        }
    }

    // ------------------------------------------------------------------ savepoints of the previous layout

    /**
     * {@code join-labels-v1.snapshot}: the join state written by the previous join (a
     * {@code KeyedCoProcessFunction} with one event-time timer per deadline, up to commit b3a5b4f) after:
     * request "pending" (event time 1 000, never labelled); request "joined" (1 000) joined with its label
     * at 3 000; a label for "early" (4 000) whose request never came; request "due" (5 000) whose label
     * (9 000) arrived first; watermark 5 000. Horizon 10 000. Restored, its timers settle every request as
     * they would have: "due" joins at 9 000, "pending" expires at 11 000, "early" is an unknown label at
     * 14 000, and "joined" still recognises a duplicate label until 11 000.
     */
    @Test
    void restoresTheStateOfThePreviousJoin() throws Exception {
        String path = LabelJoinOperatorTest.class
                .getResource("join-labels-v1.snapshot")
                .getPath();
        KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, LabelEvent, MetricEvent> h =
                unopenedHarness(60_000);
        try {
            h.initializeState(org.apache.flink.streaming.util.OperatorSnapshotUtil.readStateHandle(path));
            h.open();
            label(h, "joined", 8_000, 0.0);
            label(h, "due", 8_500, 0.0);
            List<StreamRecord<? extends MetricEvent>> out = drain(h);
            assertEquals(2, out.size());
            assertRecord(out.get(0), MetricEvent.DUPLICATE_LABEL, "joined", 8_000);
            assertRecord(out.get(1), MetricEvent.DUPLICATE_LABEL, "due", 8_500);

            watermark(h, 9_000);
            out = drain(h);
            assertEquals(1, out.size());
            assertRecord(out.get(0), MetricEvent.LABELLED, "due", 9_000);
            MetricEvent due = out.get(0).getValue();
            assertEquals(5_000, due.eventTime);
            assertEquals(1.0, due.label);
            assertEquals(1L, due.errorMask);
            assertArrayEquals(new float[] {0.6f, 0.4f}, due.outputs);
            assertArrayEquals(new String[] {null, "app"}, due.segments);

            watermark(h, 11_000);
            out = drain(h);
            assertEquals(1, out.size());
            assertRecord(out.get(0), MetricEvent.EXPIRED, "pending", 11_000);
            label(h, "joined", 11_500, 1.0); // the marker has ended: now a label without a live request

            watermark(h, 14_000);
            out = drain(h);
            assertEquals(1, out.size());
            assertRecord(out.get(0), MetricEvent.UNKNOWN_LABEL, "early", 14_000);

            watermark(h, 59_999); // the bucket of the new label's horizon (21 500)
            out = drain(h);
            assertEquals(1, out.size());
            assertRecord(out.get(0), MetricEvent.UNKNOWN_LABEL, "joined", 21_500);
            assertAllCleared(h, 120_000);
        } finally {
            h.close();
        }
    }

    // ------------------------------------------------------------------ state size

    @Test
    void labelledEventsCarryTheRequestsSegmentValuesInEitherArrivalOrder() throws Exception {
        String[] segments = {"EU", null};
        harness.processElement1(new StreamRecord<>(
                MetricEvent.scored("r1", 1_000, new float[] {0.2f, 0.9f}, 0L, new int[] {7, 9}, segments), 1_000));
        label(harness, "r1", 2_000, 1.0);
        label(harness, "r2", 2_500, 0.0); // label first
        harness.processElement1(new StreamRecord<>(
                MetricEvent.scored(
                        "r2", 2_200, new float[] {0.3f, 0.4f}, 0L, new int[] {7, 9}, new String[] {"NA", "web"}),
                2_200));
        watermark(harness, 3_000);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(2, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r1", 2_000);
        assertArrayEquals(new String[] {"EU", null}, out.get(0).getValue().segments);
        assertRecord(out.get(1), MetricEvent.LABELLED, "r2", 2_500);
        assertArrayEquals(new String[] {"NA", "web"}, out.get(1).getValue().segments);
    }

    /**
     * {@link JoinEntry}'s format, by hand: 1 flag byte; a prediction's event time as a zig-zag varint
     * (2026 in epoch ms doubled needs 42 bits: 6 bytes), the output count (1 byte) and 4 bytes per output,
     * the error mask as a varint (1 byte below 128), then, with segment fields, their count (1 byte) and
     * each value in Flink's string format (a varint of length + 1, one byte per ASCII char; a missing
     * value is the single byte 0). Fraud (2 outputs) without segments: 1 + 6 + 1 + 8 + 1 = 17; with
     * [EU, web]: 17 + 1 + 3 + 4 = 25; [LATAM, app]: 17 + 1 + 6 + 4 = 28; [missing, web]: 17 + 1 + 1 + 4 =
     * 23. Fashion (2 x 10 classes, error mask 3): 1 + 6 + 1 + 80 + 1 = 89. An early label: 1 + 6 + 8 = 15;
     * the duplicate marker after a join: 1 + 6 = 7. With models absent (outside their sample) the mask
     * follows the error mask: 17 + 1 = 18. Served by a canary arm: its index (1 byte) and business value
     * (4 bytes) after the segments: 17 + 5 = 22.
     */
    @Test
    void theLiveGenerationThatScoredARequestComesWithItsLabelAndItsExpiry() throws Exception {
        MetricEvent labelled = scored("g-labelled", 1_000, new float[] {0.25f, 0.75f}, 0L);
        labelled.liveGeneration = 2;
        harness.processElement1(new StreamRecord<>(labelled, 1_000));
        MetricEvent expiring = scored("g-expiring", 1_000, new float[] {0.25f, 0.75f}, 0L);
        expiring.liveGeneration = 1;
        harness.processElement1(new StreamRecord<>(expiring, 1_000));
        label(harness, "g-labelled", 2_000, 1.0);
        watermark(harness, 1_000 + H);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(2, out.size(), out.toString());
        for (StreamRecord<? extends MetricEvent> r : out) {
            MetricEvent e = r.getValue();
            if (e.requestId.equals("g-labelled")) {
                assertEquals(MetricEvent.LABELLED, e.kind);
                assertEquals(2, e.liveGeneration);
            } else {
                assertEquals(MetricEvent.EXPIRED, e.kind);
                assertEquals(1, e.liveGeneration);
            }
        }
    }

    @Test
    void serializedSizeOfAJoinEntry() throws Exception {
        long t = 1_767_571_203_509L;
        assertEquals(17, serializedSize(prediction(t, new float[] {0.1f, 0.2f}, 0L, null)));
        assertEquals(25, serializedSize(prediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {"EU", "web"})));
        assertEquals(28, serializedSize(prediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {"LATAM", "app"})));
        assertEquals(23, serializedSize(prediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {null, "web"})));
        float[] twenty = new float[20];
        for (int i = 0; i < 20; i++) {
            twenty[i] = i / 20f;
        }
        assertEquals(89, serializedSize(prediction(t, twenty, 3L, null)));
        // A candidate outside its own sample: the absent mask as a varint after the error mask (flag 16).
        JoinEntry absent = prediction(t, new float[] {0.1f, 0f}, 0L, null);
        absent.prediction.absentMask = 0b10;
        assertEquals(18, serializedSize(absent));
        assertTrue(absent.toString().contains("absent 2"));
        JoinEntry served = prediction(t, new float[] {0.1f, 0.2f}, 0L, null);
        served.prediction.arm = 1;
        served.prediction.businessValue = 49.65f;
        assertEquals(22, serializedSize(served));
        assertTrue(served.toString().contains("arm 1 business 49.65"), served.toString());
        // Scored by live generation 3 (after SWITCH_LIVEs): one varint more (flag 64); generation 0 costs nothing.
        JoinEntry switched = prediction(t, new float[] {0.1f, 0.2f}, 0L, null);
        switched.prediction.liveGeneration = 3;
        assertEquals(18, serializedSize(switched));
        assertTrue(switched.toString().contains("generation 3"), switched.toString());
        JoinEntry early = new JoinEntry();
        early.label = new EarlyLabel(t, 1.0);
        assertEquals(15, serializedSize(early));
        JoinEntry marker = new JoinEntry();
        marker.joinedUntil = t;
        assertEquals(7, serializedSize(marker));
        // negative times and a prediction with its label both present round-trip too
        JoinEntry both = prediction(-5L, new float[] {Float.NaN, 1f}, Long.MIN_VALUE, new String[] {"", null});
        both.label = new EarlyLabel(Long.MIN_VALUE, -0.0);
        both.joinedUntil = Long.MAX_VALUE;
        serializedSize(both);
    }

    private static JoinEntry prediction(long eventTime, float[] outputs, long errorMask, String[] segments) {
        JoinEntry e = new JoinEntry();
        e.prediction = new PendingPrediction(eventTime, outputs, errorMask, segments);
        return e;
    }

    /** Size of the form the join keeps in state, after checking that it round-trips. */
    private static int serializedSize(JoinEntry value) throws Exception {
        byte[] bytes = value.toBytes(new DataOutputSerializer(8));
        JoinEntry back = JoinEntry.fromBytes(bytes, new DataInputDeserializer());
        assertEquals(value.toString(), back.toString());
        return bytes.length;
    }

    @Test
    void labelEventsCrossTheNetworkAsTheirThreeFields() throws Exception {
        assertTrue(org.apache.flink.api.common.typeinfo.TypeInformation.of(LabelEvent.class)
                        .createSerializer(new org.apache.flink.api.common.serialization.SerializerConfigImpl())
                == LabelEventSerializer.INSTANCE);
        LabelEvent e = new LabelEvent("req-é", -7L, 0.25);
        DataOutputSerializer out = new DataOutputSerializer(16);
        LabelEventSerializer.INSTANCE.serialize(e, out);
        byte[] bytes = out.getCopyOfBuffer();
        assertEquals(1 + 6 + 8 + 8, bytes.length, "string length varint, 5 chars (é takes 2 bytes), long, double");
        LabelEvent back = LabelEventSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
        assertEquals(e.toString(), back.toString());
    }
}
