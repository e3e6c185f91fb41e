package io.shadowml.jobs.join;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.MetricEvent;

class LabelJoinFunctionTest {
    private static final long H = 10_000; // label horizon, ms

    private KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> newHarness()
            throws Exception {
        // forKeyedCoProcessFunction wraps the function in a KeyedCoProcessOperator and opens the harness.
        return ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(
                new LabelJoinFunction("exp-1", Duration.ofMillis(H)),
                e -> e.requestId,
                Label::getRequestId,
                Types.STRING);
    }

    // ------------------------------------------------------------------ inputs

    private static MetricEvent scored(String id, long eventTime, float[] outputs, long errorMask) {
        return MetricEvent.scored(id, eventTime, outputs, errorMask, new int[] {7, 9}, null); // no segment fields
    }

    private static void prediction(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h,
            String id,
            long eventTime,
            float... outputs)
            throws Exception {
        // The scoring operator emits a request at its event time, so the record timestamp is the event time.
        h.processElement1(new StreamRecord<>(scored(id, eventTime, outputs, 0L), eventTime));
    }

    private static void label(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h,
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
        h.processElement2(new StreamRecord<>(l, labelTime));
    }

    private static void watermark(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h, long t)
            throws Exception {
        h.processBothWatermarks(new Watermark(t));
    }

    /** Records emitted since the last call (watermarks skipped). */
    private static List<StreamRecord<? extends MetricEvent>> drain(
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h) {
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
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h, long quietAfter)
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
    void duplicatePredictionIsIgnored() throws Exception {
        prediction(harness, "r7", 1_000, 0.1f, 0.2f);
        prediction(harness, "r7", 1_200, 0.8f, 0.9f);
        assertEquals(List.of(), drain(harness));
        label(harness, "r7", 3_000, 0.0);
        List<StreamRecord<? extends MetricEvent>> out = drain(harness);
        assertEquals(1, out.size());
        assertRecord(out.get(0), MetricEvent.LABELLED, "r7", 3_000);
        assertArrayEquals(new float[] {0.1f, 0.2f}, out.get(0).getValue().outputs, "the first scoring wins");
        assertEquals(1_000, out.get(0).getValue().eventTime);
        // and a re-scoring after the join (before the horizon) is ignored too: no second EXPIRED/LABELLED later
        prediction(harness, "r7", 4_000, 0.3f, 0.3f);
        assertEquals(List.of(), drain(harness));
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
            KeyedTwoInputStreamOperatorTestHarness<String, MetricEvent, Label, MetricEvent> h = newHarness();
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
     * PojoSerializer format, for a non-null instance of exactly the POJO class: 1 flag byte, then for every
     * field in name order (errorMask, eventTime, outputs, segments) 1 null-marker byte followed by the
     * field (nothing after the marker of a null field): long = 8 bytes, float[] = 4-byte length + 4 bytes
     * per element, String[] = 4-byte length + per element Flink's StringValue format (a varint of
     * length + 1, then one byte per char below 0x80; a null element is the single byte 0). So with n
     * output slots and no segment fields (segments null): 1 + (1 + 8) + (1 + 8) + (1 + 4 + 4n) + 1 =
     * 25 + 4n; with segment fields: 25 + 4n + 4 + Σ(1 + value length), a missing value counting 1.
     * Fraud (n = 2) without segments: 33; with [region, channel] = [EU, web]: 33 + 4 + 3 + 4 = 44, the
     * longest fraud pair [LATAM, app] 47. Fashion (n = 20): 105 without segments.
     */
    @Test
    void serializedSizeOfAPendingPrediction() throws Exception {
        TypeSerializer<PendingPrediction> serializer =
                TypeInformation.of(PendingPrediction.class).createSerializer(new SerializerConfigImpl());
        assertInstanceOf(PojoSerializer.class, serializer, "PendingPrediction must be a Flink POJO, not Kryo");

        long t = 1_767_571_203_509L;
        int fraud = serializedSize(serializer, new PendingPrediction(t, new float[] {0.1f, 0.2f}, 0L, null));
        int fraudSegments = serializedSize(
                serializer, new PendingPrediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {"EU", "web"}));
        int fraudLongest = serializedSize(
                serializer, new PendingPrediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {"LATAM", "app"}));
        int fraudMissing = serializedSize(
                serializer, new PendingPrediction(t, new float[] {0.1f, 0.2f}, 0L, new String[] {null, "web"}));
        float[] twenty = new float[20];
        for (int i = 0; i < 20; i++) {
            twenty[i] = i / 20f;
        }
        int fashion = serializedSize(serializer, new PendingPrediction(t, twenty, 3L, null));
        assertEquals(1 + (1 + 8) + (1 + 8) + (1 + 4 + 2 * 4) + 1, fraud);
        assertEquals(1 + (1 + 8) + (1 + 8) + (1 + 4 + 2 * 4) + (1 + 4 + (1 + 2) + (1 + 3)), fraudSegments);
        assertEquals(44, fraudSegments);
        assertEquals(1 + (1 + 8) + (1 + 8) + (1 + 4 + 2 * 4) + (1 + 4 + (1 + 5) + (1 + 3)), fraudLongest);
        assertEquals(1 + (1 + 8) + (1 + 8) + (1 + 4 + 2 * 4) + (1 + 4 + 1 + (1 + 3)), fraudMissing);
        assertEquals(1 + (1 + 8) + (1 + 8) + (1 + 4 + 20 * 4) + 1, fashion);
        System.out.println(
                "bytes per pending event (PendingPrediction value, PojoSerializer): fraud (2 binary models) = "
                        + fraud + " without segments, " + fraudSegments + " with [region, channel] = [EU, web], "
                        + fraudLongest + " with [LATAM, app]; fashion (2 x 10-class models) = " + fashion);

        TypeSerializer<EarlyLabel> labelSerializer =
                TypeInformation.of(EarlyLabel.class).createSerializer(new SerializerConfigImpl());
        assertInstanceOf(PojoSerializer.class, labelSerializer);
        // 1 flag byte + (1 + 8) labelTime + (1 + 8) value
        int early = serializedSize(labelSerializer, new EarlyLabel(5L, 1.0));
        assertEquals(19, early);
        System.out.println("bytes per early label (EarlyLabel value, PojoSerializer) = " + early);
    }

    private static <T> int serializedSize(TypeSerializer<T> serializer, T value) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(value, out);
        byte[] bytes = out.getCopyOfBuffer();
        // and it round-trips
        T back = serializer.deserialize(new DataInputDeserializer(bytes));
        if (value instanceof PendingPrediction) {
            PendingPrediction a = (PendingPrediction) value;
            PendingPrediction b = (PendingPrediction) back;
            assertEquals(a.eventTime, b.eventTime);
            assertEquals(a.errorMask, b.errorMask);
            assertArrayEquals(a.outputs, b.outputs);
            assertArrayEquals(a.segments, b.segments);
        }
        return bytes.length;
    }
}
