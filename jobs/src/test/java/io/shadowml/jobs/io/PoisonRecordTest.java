package io.shadowml.jobs.io;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.testing.Allocations;

/**
 * Records of a few bytes that declare gigantic strings, arrays or maps. Avro's decoder would allocate what
 * they declare (its own limit is about 2 GB) and run a TaskManager out of memory; each must become a dead
 * letter after allocating next to nothing.
 */
class PoisonRecordTest {
    /** Avro's own limit for one string or array (SystemLimitException.MAX_ARRAY_VM_LIMIT). */
    private static final long AVRO_MAX = Integer.MAX_VALUE - 8;

    private final AvroDecodingDeserializer<Request> requests =
            new AvroDecodingDeserializer<>(Request.class, KafkaIO.DECODED_REQUEST, List.of());
    private final AvroDecodingDeserializer<Label> labels =
            new AvroDecodingDeserializer<>(Label.class, KafkaIO.DECODED_LABEL, List.of());

    /** Hand-written Avro binary (the spec's encodings, written with Avro's encoder, not the job's decoder). */
    private interface Body {
        void write(BinaryEncoder e) throws Exception;
    }

    private static byte[] bytes(Body body) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        body.write(e);
        e.flush();
        return out.toByteArray();
    }

    /** request_id, event_time and entity_id null (union branch 0): the next field is segments. */
    private static void upToSegments(BinaryEncoder e) throws Exception {
        e.writeIndex(0);
        e.writeIndex(0);
        e.writeIndex(0);
    }

    /** Up to the vector's array branch: an empty segments map, null features, then vector branch 1. */
    private static void upToVector(BinaryEncoder e) throws Exception {
        upToSegments(e);
        e.writeLong(0);
        e.writeIndex(0);
        e.writeIndex(1);
    }

    /** Request fields in order: request_id, event_time, entity_id, segments, features, vector, ... */
    private static Map<String, byte[]> poisonRequests() throws Exception {
        Map<String, byte[]> p = new LinkedHashMap<>();
        // request_id: union branch 1 (string), then a length of ~2 GB and no bytes.
        p.put("2 GB request_id", bytes(e -> {
            e.writeIndex(1);
            e.writeLong(AVRO_MAX);
        }));
        // vector: null, null, null, empty segments map, null features, then branch 1 (array) of 2^31-9 floats.
        p.put("2^31-element vector", bytes(e -> {
            upToVector(e);
            e.writeLong(AVRO_MAX);
        }));
        p.put("50M-element vector", bytes(e -> {
            upToVector(e);
            e.writeLong(50_000_000);
        }));
        // features: a map declaring 2^31-9 entries.
        p.put("2^31-entry features map", bytes(e -> {
            upToSegments(e);
            e.writeLong(0);
            e.writeIndex(1);
            e.writeLong(AVRO_MAX);
        }));
        // segments: one entry whose key declares ~2 GB.
        p.put("2 GB segment key", bytes(e -> {
            upToSegments(e);
            e.writeLong(1);
            e.writeLong(AVRO_MAX);
        }));
        // A negative block count is followed by the block's byte size: -(2^31-9) items, 4 bytes.
        p.put("negative-count vector block", bytes(e -> {
            upToVector(e);
            e.writeLong(-AVRO_MAX);
            e.writeLong(4);
        }));
        // The same 2 GB request_id in single-object encoding of the job's own schema.
        long fp = SchemaNormalization.parsingFingerprint64(Request.getClassSchema());
        byte[] body = p.get("2 GB request_id");
        byte[] single = new byte[10 + body.length];
        single[0] = (byte) 0xC3;
        single[1] = 0x01;
        for (int i = 0; i < 8; i++) {
            single[2 + i] = (byte) (fp >>> (8 * i));
        }
        System.arraycopy(body, 0, single, 10, body.length);
        p.put("2 GB request_id, single-object encoding", single);
        return p;
    }

    @Test
    void declaredSizesLargerThanTheRecordAreDeadLetteredWithoutAllocatingThem() throws Exception {
        Map<String, byte[]> poison = poisonRequests();
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, byte[]> p : poison.entrySet()) {
            requests.decode(p.getValue(), null, "requests", 0, 0, 0); // warm-up: class loading, readers
            long before = Allocations.current();
            Decoded<Request> d = requests.decode(p.getValue(), null, "requests", 0, 1, 0);
            long allocated = Allocations.current() - before;
            assertNull(d.value, p.getKey());
            assertNotNull(d.deadLetter, p.getKey());
            if (!d.deadLetter.getReason().contains("declares")) {
                failures.add(p.getKey() + ": reason '" + d.deadLetter.getReason() + "'");
            }
            // The dead letter itself, an exception with its stack trace and the reason: a few kB. What the
            // records declare is 200 MB to 16 GB.
            if (allocated > 256 * 1024) {
                failures.add(p.getKey() + ": allocated " + allocated + " bytes for a " + p.getValue().length
                        + "-byte record");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void aLabelDeclaringAHugeIdIsDeadLettered() throws Exception {
        byte[] value = bytes(e -> {
            e.writeIndex(1);
            e.writeLong(AVRO_MAX);
        });
        Decoded<Label> d = labels.decode(value, null, "labels", 0, 1, 0);
        assertNull(d.value);
        assertTrue(
                d.deadLetter.getReason().contains("declares a string of " + AVRO_MAX + " bytes"),
                d.deadLetter.getReason());
    }

    @Test
    void anEmptyValueIsDeadLetteredAsEmpty() throws Exception {
        Decoded<Request> d = requests.decode(new byte[0], null, "requests", 0, 1, 0);
        assertNull(d.value);
        assertTrue(d.deadLetter.getReason().startsWith("empty value (0 bytes)"), d.deadLetter.getReason());
    }

    @Test
    void stringsAndCollectionsThatFitStillDecode() throws Exception {
        // The largest declaration a record can honour: a 300-byte id and a vector of 100 floats.
        String id = "x".repeat(300);
        List<Float> vector = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            vector.add(i / 7f);
        }
        Request r = Request.newBuilder().setRequestId(id).setVector(vector).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.specific.SpecificDatumWriter<>(Request.class).write(r, e);
        e.flush();
        Decoded<Request> d = requests.decode(out.toByteArray(), null, "requests", 0, 1, 0);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        assertTrue(id.equals(d.value.getRequestId()));
        assertTrue(vector.equals(d.value.getVector()));
    }

    @Test
    void aDeadLetterOfANearlyOneMegabyteValueStaysSendable() throws Exception {
        byte[] value = new byte[1_000_000];
        new java.util.Random(7).nextBytes(value);
        value[0] = 0x7F; // union branch -64: undecodable
        byte[] key = new byte[300_000];
        java.util.Arrays.fill(key, (byte) 'k');
        Decoded<Request> d = requests.decode(value, key, "requests", 4, 9, 1_767_571_000_000L);
        io.shadowml.avro.DeadLetter dl = d.deadLetter;
        assertNotNull(dl);
        assertTrue(
                java.util.Arrays.equals(
                        java.util.Arrays.copyOf(value, 64 * 1024), PoisonRecordTest.bytesOf(dl.getRaw())),
                "the first 64 KiB");
        assertTrue(
                java.util.Arrays.equals(java.util.Arrays.copyOf(key, 1024), PoisonRecordTest.bytesOf(dl.getKey())),
                "the first 1 KiB of the key");
        assertTrue(dl.getRawLength() == 1_000_000, "raw_length " + dl.getRawLength());
        String sha = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(value));
        assertTrue(sha.equals(dl.getRawSha256()), dl.getRawSha256());
        // Serialized as the dead-letter sink does: far below the producer's default max.request.size (1 MB).
        byte[] serialized = org.apache.flink.formats.avro.AvroSerializationSchema.forSpecific(
                        io.shadowml.avro.DeadLetter.class)
                .serialize(dl);
        assertTrue(serialized.length < 70 * 1024, serialized.length + " bytes");
    }

    @Test
    void aSmallDeadLetterKeepsItsValueWhole() throws Exception {
        byte[] value = {0x7F, 1, 2};
        Decoded<Request> d = requests.decode(value, null, "requests", 0, 1, 0);
        assertTrue(java.util.Arrays.equals(value, bytesOf(d.deadLetter.getRaw())));
        assertTrue(d.deadLetter.getRawLength() == 3);
    }

    static byte[] bytesOf(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
