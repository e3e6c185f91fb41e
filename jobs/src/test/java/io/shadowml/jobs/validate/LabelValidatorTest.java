package io.shadowml.jobs.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor;

class LabelValidatorTest {
    private static final String TOPIC = "labels-topic";
    private static final byte[] RAW = {7, 7, 7};
    private static final long KAFKA_TS = 1_767_600_000_000L;
    /** A label time one second before its record's Kafka timestamp: plausible. */
    private static final long T = KAFKA_TS - 1_000L;

    private static final PlausibleTime TIMES =
            new PlausibleTime(Instant.parse("2000-01-01T00:00:00Z"), Duration.ofHours(1));

    private static final ModelLayout BINARY = new ModelLayout(List.of(
            ModelDescriptor.load(Path.of("../models/shipped/fraud/live/model.json")),
            ModelDescriptor.load(Path.of("../models/shipped/fraud/candidate/model.json"))));
    private static final ModelLayout MULTICLASS = new ModelLayout(List.of(
            ModelDescriptor.load(Path.of("../models/shipped/fashion/live/model.json")),
            ModelDescriptor.load(Path.of("../models/shipped/fashion/candidate/model.json"))));

    private static Label label(String id, Long time, double value) {
        Label l = Label.newBuilder()
                .setRequestId("x")
                .setLabelTime(Instant.ofEpochMilli(1))
                .setValue(value)
                .build();
        l.setRequestId(id);
        l.setLabelTime(time == null ? null : Instant.ofEpochMilli(time));
        return l;
    }

    private static List<Object> run(ModelLayout layout, Decoded<Label> in, List<DeadLetter> dead) throws Exception {
        OneInputStreamOperatorTestHarness<Decoded<Label>, Label> h = ProcessFunctionTestHarnesses.forProcessFunction(
                new LabelValidator("exp-2", layout, TIMES, new InputLimits(64, 32, 256)));
        try {
            h.processElement(new StreamRecord<>(in, 5L));
            if (h.getSideOutput(DeadLetters.TAG) != null) {
                for (StreamRecord<DeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
                    dead.add(r.getValue());
                }
            }
            return new ArrayList<>(h.extractOutputValues());
        } finally {
            h.close();
        }
    }

    private static void assertPasses(ModelLayout layout, Label l) throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        List<Object> out = run(layout, Decoded.ok(l, TOPIC, 1, 99, KAFKA_TS, RAW), dead);
        assertEquals(List.of(), dead);
        assertEquals(1, out.size());
        assertEquals(l, out.get(0), "passed unchanged");
    }

    private static void assertRejected(ModelLayout layout, Label l, String... words) throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        List<Object> out = run(layout, Decoded.ok(l, TOPIC, 1, 99, KAFKA_TS, RAW), dead);
        assertEquals(List.of(), out);
        assertEquals(1, dead.size());
        DeadLetter d = dead.get(0);
        for (String w : words) {
            assertTrue(d.getReason().contains(w), "reason '" + d.getReason() + "' should contain '" + w + "'");
        }
        assertEquals(TOPIC, d.getSourceTopic());
        assertEquals(1, d.getPartition());
        assertEquals(99L, d.getOffset());
        assertEquals("exp-2", d.getExperimentId());
        assertEquals(Instant.ofEpochMilli(KAFKA_TS), d.getFailedAt());
        assertArrayEquals(RAW, RequestValidatorTest.bytes(d.getRaw()));
    }

    @Test
    void validBinaryLabelsPass() throws Exception {
        assertPasses(BINARY, label("r", T, 0.0));
        assertPasses(BINARY, label("r", T, 1.0));
    }

    @Test
    void validMulticlassLabelsPass() throws Exception {
        assertPasses(MULTICLASS, label("r", T, 0.0));
        assertPasses(MULTICLASS, label("r", T, 9.0));
    }

    @Test
    void undecodableLabel() throws Exception {
        List<DeadLetter> dead = new ArrayList<>();
        List<Object> out =
                run(BINARY, Decoded.failed("undecodable Label: bad", TOPIC, 2, 5, KAFKA_TS, null, RAW), dead);
        assertEquals(List.of(), out);
        assertEquals(1, dead.size());
        assertEquals("undecodable Label: bad", dead.get(0).getReason());
        assertEquals(2, dead.get(0).getPartition());
        assertEquals(5L, dead.get(0).getOffset());
        assertEquals("exp-2", dead.get(0).getExperimentId());
    }

    @Test
    void missingIdOrTime() throws Exception {
        assertRejected(BINARY, label(null, T, 1.0), "missing request_id");
        assertRejected(BINARY, label("", T, 1.0), "missing request_id");
        assertRejected(BINARY, label("r", null, 1.0), "missing label_time");
    }

    @Test
    void binaryLabelOutOfRange() throws Exception {
        assertRejected(BINARY, label("r", T, 2.0), "binary label", "0 or 1", "2.0");
        assertRejected(BINARY, label("r", T, -1.0), "binary label", "-1.0");
        assertRejected(BINARY, label("r", T, 0.5), "binary label", "0.5");
    }

    @Test
    void multiclassLabelOutOfRangeOrFractional() throws Exception {
        assertRejected(MULTICLASS, label("r", T, 10.0), "class label", "[0, 10)", "10.0");
        assertRejected(MULTICLASS, label("r", T, 2.5), "class label", "2.5");
        assertRejected(MULTICLASS, label("r", T, -1.0), "class label", "-1.0");
    }

    @Test
    void nonFiniteLabel() throws Exception {
        assertRejected(BINARY, label("r", T, Double.NaN), "NaN");
        assertRejected(MULTICLASS, label("r", T, Double.NaN), "NaN");
        assertRejected(MULTICLASS, label("r", T, Double.POSITIVE_INFINITY), "Infinity");
    }

    @Test
    void implausibleLabelTimes() throws Exception {
        assertRejected(BINARY, label("r", Long.MIN_VALUE, 1.0), "label_time", "before event_time.not_before");
        // 2026-01-05 in seconds instead of milliseconds: January 1970.
        assertRejected(BINARY, label("r", KAFKA_TS / 1000, 1.0), "label_time", "before event_time.not_before");
        // ... and in microseconds: year 57979, far after the record's timestamp.
        assertRejected(BINARY, label("r", KAFKA_TS * 1000, 1.0), "label_time", "after the record's Kafka timestamp");
        long year3000 = Instant.parse("3000-01-01T00:00:00Z").toEpochMilli();
        assertRejected(BINARY, label("r", year3000, 1.0), "label_time", "event_time.max_future_skew 1h");
        // At the bounds: exactly max_future_skew ahead, and exactly not_before, are accepted.
        assertPasses(BINARY, label("r", KAFKA_TS + 3_600_000L, 1.0));
        assertRejected(BINARY, label("r", KAFKA_TS + 3_600_001L, 1.0), "max_future_skew");
        assertPasses(BINARY, label("r", Instant.parse("2000-01-01T00:00:00Z").toEpochMilli(), 1.0));
    }

    @Test
    void overlongRequestId() throws Exception {
        assertPasses(BINARY, label("x".repeat(64), T, 1.0));
        assertRejected(
                BINARY, label("x".repeat(65), T, 1.0), "request_id has 65 characters", "limits.max_id_length 64");
    }
}
