package io.shadowml.jobs.validate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.models.ModelDescriptor;

class RequestValidatorTest {
    static final String TOPIC = "requests-topic";
    static final int PARTITION = 3;
    static final long OFFSET = 4242;
    static final long KAFKA_TS = 1_767_571_000_000L;
    static final byte[] RAW = {10, 20, 30, 40};
    private static final PlausibleTime TIMES =
            new PlausibleTime(Instant.parse("2000-01-01T00:00:00Z"), Duration.ofMinutes(10));
    private static final InputLimits LIMITS = new InputLimits(40, 3, 20);

    private static final List<ModelDescriptor> FRAUD = List.of(
            ModelDescriptor.load(Path.of("../models/shipped/fraud/live/model.json")),
            ModelDescriptor.load(Path.of("../models/shipped/fraud/candidate/model.json")));
    private static final List<ModelDescriptor> FASHION = List.of(
            ModelDescriptor.load(Path.of("../models/shipped/fashion/live/model.json")),
            ModelDescriptor.load(Path.of("../models/shipped/fashion/candidate/model.json")));
    private static final List<String> FRAUD_FEATURES = List.of(
            "amount",
            "hour",
            "merchant_risk",
            "txn_count_1h",
            "txn_count_24h",
            "amount_to_avg_ratio",
            "distance_from_home_km",
            "is_foreign",
            "card_age_days");

    static Request fraudRequest(Consumer<Map<String, Double>> edit) {
        Map<String, Double> f = new LinkedHashMap<>();
        for (int i = 0; i < FRAUD_FEATURES.size(); i++) {
            f.put(FRAUD_FEATURES.get(i), 1.0 + i);
        }
        edit.accept(f);
        return Request.newBuilder()
                .setRequestId("r-1")
                .setEventTime(Instant.ofEpochMilli(KAFKA_TS - 5))
                .setFeatures(f)
                .build();
    }

    static Request fashionRequest(List<Float> vector) {
        return Request.newBuilder()
                .setRequestId("img-1")
                .setEventTime(Instant.ofEpochMilli(KAFKA_TS - 5))
                .setVector(vector)
                .build();
    }

    static List<Float> vector(int n) {
        List<Float> v = new ArrayList<>(Collections.nCopies(n, 0.5f));
        return v;
    }

    private static final class Result {
        final List<Request> passed;
        final List<DeadLetter> dead;

        Result(List<Request> passed, List<DeadLetter> dead) {
            this.passed = passed;
            this.dead = dead;
        }
    }

    private static Result run(List<ModelDescriptor> models, Decoded<Request> in) throws Exception {
        OneInputStreamOperatorTestHarness<Decoded<Request>, Request> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new RequestValidator("exp-1", models, TIMES, LIMITS));
        try {
            h.processElement(new StreamRecord<>(in, 100L));
            List<DeadLetter> dead = new ArrayList<>();
            if (h.getSideOutput(DeadLetters.TAG) != null) {
                for (StreamRecord<DeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
                    dead.add(r.getValue());
                }
            }
            return new Result(h.extractOutputValues(), dead);
        } finally {
            h.close();
        }
    }

    private static Decoded<Request> ok(Request r) {
        return Decoded.ok(r, TOPIC, PARTITION, OFFSET, KAFKA_TS, RAW);
    }

    /** Rejected, with a reason containing all {@code words}, where it came from, and the raw bytes. */
    private static DeadLetter assertRejected(List<ModelDescriptor> models, Request r, String... words)
            throws Exception {
        Result res = run(models, ok(r));
        assertEquals(List.of(), res.passed, "nothing passes");
        assertEquals(1, res.dead.size(), "one dead letter");
        DeadLetter d = res.dead.get(0);
        for (String w : words) {
            assertTrue(d.getReason().contains(w), "reason '" + d.getReason() + "' should contain '" + w + "'");
        }
        assertEquals(TOPIC, d.getSourceTopic());
        assertEquals(PARTITION, d.getPartition());
        assertEquals(OFFSET, d.getOffset());
        assertEquals(Instant.ofEpochMilli(KAFKA_TS), d.getFailedAt());
        assertEquals("exp-1", d.getExperimentId());
        assertArrayEquals(RAW, bytes(d.getRaw()));
        return d;
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @Test
    void validFraudRequestPassesUnchanged() throws Exception {
        Request r = fraudRequest(f -> {});
        Request copy = Request.newBuilder(r).build();
        Result res = run(FRAUD, ok(r));
        assertEquals(List.of(), res.dead);
        assertEquals(1, res.passed.size());
        assertSameContent(copy, res.passed.get(0));
    }

    /**
     * The harness hands records through a serializer, so the output is a copy and its map may iterate in
     * another order (Avro's record equality is order-sensitive for maps): compare field by field.
     */
    static void assertSameContent(Request expected, Request actual) {
        assertEquals(expected.getRequestId(), actual.getRequestId());
        assertEquals(expected.getEventTime(), actual.getEventTime());
        assertEquals(expected.getEntityId(), actual.getEntityId());
        assertEquals(
                expected.getSegments() == null ? null : new HashMap<>(expected.getSegments()),
                actual.getSegments() == null ? null : new HashMap<>(actual.getSegments()));
        assertEquals(
                expected.getFeatures() == null ? null : new HashMap<>(expected.getFeatures()),
                actual.getFeatures() == null ? null : new HashMap<>(actual.getFeatures()));
        assertEquals(expected.getVector(), actual.getVector());
        assertEquals(expected.getServedBy(), actual.getServedBy());
        assertEquals(expected.getProductionScore(), actual.getProductionScore());
    }

    @Test
    void extraFeaturesAndZeroValuesAreFine() throws Exception {
        Request r = fraudRequest(f -> {
            f.put("unused", Double.NaN); // not needed by any model
            f.put("amount", 0.0);
            f.put("hour", -3.0);
        });
        Result res = run(FRAUD, ok(r));
        assertEquals(List.of(), res.dead);
        assertEquals(1, res.passed.size());
        assertSameContent(r, res.passed.get(0));
        assertTrue(Double.isNaN(res.passed.get(0).getFeatures().get("unused")));
    }

    @Test
    void undecodableRecordIsPassedOnAsADeadLetter() throws Exception {
        byte[] garbage = {1, 2, 3};
        byte[] key = {9};
        Decoded<Request> in =
                Decoded.failed("undecodable Request: boom", TOPIC, PARTITION, OFFSET, KAFKA_TS, key, garbage);
        Result res = run(FRAUD, in);
        assertEquals(List.of(), res.passed);
        assertEquals(1, res.dead.size());
        DeadLetter d = res.dead.get(0);
        assertEquals("undecodable Request: boom", d.getReason());
        assertEquals(TOPIC, d.getSourceTopic());
        assertEquals(PARTITION, d.getPartition());
        assertEquals(OFFSET, d.getOffset());
        assertEquals("exp-1", d.getExperimentId());
        assertArrayEquals(garbage, bytes(d.getRaw()));
        assertArrayEquals(key, bytes(d.getKey()));
    }

    @Test
    void missingOrBlankRequestId() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setRequestId(null);
        assertRejected(FRAUD, r, "missing request_id");
        Request blank = fraudRequest(f -> {});
        blank.setRequestId("  ");
        assertRejected(FRAUD, blank, "missing request_id");
    }

    @Test
    void missingEventTime() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setEventTime(null);
        assertRejected(FRAUD, r, "missing event_time");
    }

    @Test
    void missingFeature() throws Exception {
        assertRejected(FRAUD, fraudRequest(f -> f.remove("merchant_risk")), "missing feature", "'merchant_risk'");
    }

    @Test
    void missingFeatureMap() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setFeatures(null);
        assertRejected(FRAUD, r, "missing features");
    }

    @Test
    void nonFiniteFeature() throws Exception {
        assertRejected(FRAUD, fraudRequest(f -> f.put("amount", Double.NaN)), "'amount'", "NaN");
        assertRejected(
                FRAUD,
                fraudRequest(f -> f.put("card_age_days", Double.POSITIVE_INFINITY)),
                "'card_age_days'",
                "Infinity");
        assertRejected(FRAUD, fraudRequest(f -> f.put("hour", Double.NEGATIVE_INFINITY)), "'hour'", "-Infinity");
    }

    @Test
    void finiteFeatureBeyondFloat32IsRejected() throws Exception {
        // 3.5e38 > Float.MAX_VALUE (3.4028235e38): finite as a double, infinite as the float the models read.
        assertRejected(FRAUD, fraudRequest(f -> f.put("amount", 3.5e38)), "'amount'", "float32");
        assertRejected(FRAUD, fraudRequest(f -> f.put("amount", -1e300)), "'amount'", "float32");
        // The largest float and values that round to it still pass.
        Result largest = run(FRAUD, ok(fraudRequest(f -> f.put("amount", (double) Float.MAX_VALUE))));
        assertEquals(1, largest.passed.size());
    }

    @Test
    void implausibleEventTimes() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setEventTime(Instant.ofEpochMilli(Long.MIN_VALUE));
        assertRejected(FRAUD, r, "event_time", "before event_time.not_before");
        r.setEventTime(Instant.ofEpochMilli(KAFKA_TS / 1000)); // seconds: January 1970
        assertRejected(FRAUD, r, "event_time", "before event_time.not_before");
        r.setEventTime(Instant.ofEpochMilli(KAFKA_TS * 1000)); // microseconds
        assertRejected(FRAUD, r, "event_time", "after the record's Kafka timestamp", "max_future_skew 10m");
        r.setEventTime(Instant.parse("3000-01-01T00:00:00Z"));
        assertRejected(FRAUD, r, "event_time", "after the record's Kafka timestamp");
        r.setEventTime(Instant.ofEpochMilli(KAFKA_TS + 600_001));
        assertRejected(FRAUD, r, "event_time", "max_future_skew 10m");
        r.setEventTime(Instant.ofEpochMilli(KAFKA_TS + 600_000)); // exactly the skew: accepted
        assertEquals(1, run(FRAUD, ok(r)).passed.size());
        // Long ago relative to the record (a backfill of last year's log) is fine.
        r.setEventTime(Instant.parse("2001-06-01T00:00:00Z"));
        assertEquals(1, run(FRAUD, ok(r)).passed.size());
    }

    @Test
    void eventTimeWithoutARecordTimestampIsOnlyCheckedAgainstNotBefore() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setEventTime(Instant.parse("2999-01-01T00:00:00Z"));
        Result res = run(FRAUD, Decoded.ok(r, TOPIC, PARTITION, OFFSET, -1L, RAW));
        assertEquals(1, res.passed.size(), "no Kafka timestamp (-1): nothing to compare with");
    }

    @Test
    void overlongIdsAndSegments() throws Exception {
        Request r = fraudRequest(f -> {});
        r.setRequestId("r".repeat(41));
        assertRejected(FRAUD, r, "request_id has 41 characters", "limits.max_id_length 40");
        r = fraudRequest(f -> {});
        r.setEntityId("e".repeat(41));
        assertRejected(FRAUD, r, "entity_id has 41 characters");
        r = fraudRequest(f -> {});
        r.setServedBy("s".repeat(41));
        assertRejected(FRAUD, r, "served_by has 41 characters");
        r = fraudRequest(f -> {});
        r.setSegments(Map.of("a", "1", "b", "2", "c", "3", "d", "4"));
        assertRejected(FRAUD, r, "segments has 4 entries", "limits.max_segments 3");
        r = fraudRequest(f -> {});
        r.setSegments(Map.of("region", "x".repeat(21)));
        assertRejected(FRAUD, r, "segments['region'] has 21 characters", "limits.max_segment_length 20");
        r = fraudRequest(f -> {});
        r.setSegments(Map.of("k".repeat(21), "EU"));
        assertRejected(FRAUD, r, "a segments key has 21 characters");
        // At the limits: accepted.
        r = fraudRequest(f -> {});
        r.setRequestId("r".repeat(40));
        r.setEntityId("e".repeat(40));
        r.setServedBy("s".repeat(40));
        r.setSegments(Map.of("k".repeat(20), "v".repeat(20), "b", "2", "c", "3"));
        assertEquals(1, run(FRAUD, ok(r)).passed.size());
    }

    @Test
    void validVectorRequestPasses() throws Exception {
        Request r = fashionRequest(vector(784));
        Result res = run(FASHION, ok(r));
        assertEquals(List.of(), res.dead);
        assertEquals(1, res.passed.size());
        assertSameContent(r, res.passed.get(0));
    }

    @Test
    void wrongVectorLength() throws Exception {
        assertRejected(FASHION, fashionRequest(vector(783)), "783", "784");
        assertRejected(FASHION, fashionRequest(vector(785)), "785", "784");
        assertRejected(FASHION, fashionRequest(vector(0)), "0 values", "784");
    }

    @Test
    void missingVector() throws Exception {
        assertRejected(FASHION, fashionRequest(null), "missing vector", "784");
    }

    @Test
    void nonFiniteVectorValue() throws Exception {
        List<Float> v = vector(784);
        v.set(5, Float.NaN);
        assertRejected(FASHION, fashionRequest(v), "vector[5]", "NaN");
        List<Float> w = vector(784);
        w.set(783, Float.POSITIVE_INFINITY);
        assertRejected(FASHION, fashionRequest(w), "vector[783]", "Infinity");
    }

    @Test
    void aVectorRequestForFeatureModelsIsRejectedAndViceVersa() throws Exception {
        assertRejected(FRAUD, fashionRequest(vector(784)), "missing features");
        assertRejected(FASHION, fraudRequest(f -> {}), "missing vector");
    }

    @Test
    void firstReasonOnlyAndStreamContinues() throws Exception {
        OneInputStreamOperatorTestHarness<Decoded<Request>, Request> h =
                ProcessFunctionTestHarnesses.forProcessFunction(new RequestValidator("exp-1", FRAUD, TIMES, LIMITS));
        try {
            Request a = fraudRequest(f -> {});
            Request bad = fraudRequest(f -> f.put("amount", Double.NaN));
            Request b = fraudRequest(f -> {});
            b.setRequestId("r-2");
            h.processElement(new StreamRecord<>(ok(a), 1L));
            h.processElement(new StreamRecord<>(Decoded.ok(bad, TOPIC, 0, 7, KAFKA_TS, RAW), 2L));
            h.processElement(new StreamRecord<>(ok(b), 3L));
            List<Request> out = h.extractOutputValues();
            assertEquals(2, out.size());
            assertSameContent(a, out.get(0));
            assertSameContent(b, out.get(1));
            assertEquals(1, h.getSideOutput(DeadLetters.TAG).size());
            assertEquals(7L, h.getSideOutput(DeadLetters.TAG).peek().getValue().getOffset());
            assertNull(h.getSideOutput(DeadLetters.TAG).peek().getValue().getKey());
        } finally {
            h.close();
        }
    }
}
