package io.shadowml.jobs.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;

public class AvroDecodingDeserializerTest {
    private static final String TOPIC = "requests";
    private static final byte[] KEY = {'k', '1'};

    private final AvroDecodingDeserializer<Request> requests =
            new AvroDecodingDeserializer<>(Request.class, KafkaIO.DECODED_REQUEST, List.of());

    private static Request request() {
        Map<String, Double> f = new LinkedHashMap<>();
        f.put("amount", 49.65);
        f.put("hour", 19.0);
        return Request.newBuilder()
                .setRequestId("txn-1")
                .setEventTime(Instant.ofEpochMilli(1_767_571_203_509L))
                .setEntityId("card-1")
                .setSegments(Map.of("region", "EU"))
                .setFeatures(f)
                .setProductionScore(0.5) // last field: a union index and 8 bytes of double
                .build();
    }

    private static <T> byte[] encode(T record, Class<T> type) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(type).write(record, enc);
        enc.flush();
        return bytes.toByteArray();
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    private static void assertDeadLetter(Decoded<?> d, byte[] raw, long offset, String... words) {
        assertNull(d.value);
        DeadLetter dl = d.deadLetter;
        assertNotNull(dl, "a dead letter");
        for (String w : words) {
            assertTrue(dl.getReason().contains(w), "reason '" + dl.getReason() + "' should contain '" + w + "'");
        }
        assertEquals(TOPIC, dl.getSourceTopic());
        assertEquals(2, dl.getPartition());
        assertEquals(offset, dl.getOffset());
        assertEquals(Instant.ofEpochMilli(77), dl.getFailedAt());
        assertArrayEquals(KEY, bytes(dl.getKey()));
        if (raw == null) {
            assertNull(dl.getRaw());
        } else {
            assertArrayEquals(raw, bytes(dl.getRaw()), "raw bytes kept exactly");
        }
        assertEquals(TOPIC, d.topic);
        assertEquals(offset, d.offset);
    }

    @Test
    void validBytesDecode() throws Exception {
        Request r = request();
        byte[] bytes = encode(r, Request.class);
        Decoded<Request> d = requests.decode(bytes, KEY, TOPIC, 2, 10, 77);
        assertNull(d.deadLetter);
        assertEquals(r.getRequestId(), d.value.getRequestId());
        assertEquals(r.getEventTime(), d.value.getEventTime());
        assertEquals(r.getEntityId(), d.value.getEntityId());
        assertEquals(Map.of("region", "EU"), Map.copyOf(d.value.getSegments()));
        assertEquals(Map.of("amount", 49.65, "hour", 19.0), Map.copyOf(d.value.getFeatures()));
        assertEquals(0.5, d.value.getProductionScore());
        assertEquals(TOPIC, d.topic);
        assertEquals(2, d.partition);
        assertEquals(10, d.offset);
        assertEquals(77, d.kafkaTimestamp);
        assertArrayEquals(bytes, d.raw);
    }

    @Test
    void validLabelDecodes() throws Exception {
        AvroDecodingDeserializer<Label> labels =
                new AvroDecodingDeserializer<>(Label.class, KafkaIO.DECODED_LABEL, List.of());
        Label l = Label.newBuilder()
                .setRequestId("txn-1")
                .setLabelTime(Instant.ofEpochMilli(5))
                .setValue(1.0)
                .build();
        Decoded<Label> d = labels.decode(encode(l, Label.class), null, "labels", 0, 1, 2);
        assertNull(d.deadLetter);
        assertEquals(l, d.value);
    }

    @Test
    void garbageBytesBecomeADeadLetter() throws Exception {
        byte[] garbage = "hello, world".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        // 'h' = 0x68 is zig-zag 52: a union branch index the schema does not have
        Decoded<Request> d = requests.decode(garbage, KEY, TOPIC, 2, 11, 77);
        assertDeadLetter(d, garbage, 11, "undecodable Request");
    }

    @Test
    void truncatedBytesBecomeADeadLetter() throws Exception {
        byte[] full = encode(request(), Request.class);
        byte[] truncated = Arrays.copyOf(full, full.length - 3); // cut inside the final double
        Decoded<Request> d = requests.decode(truncated, KEY, TOPIC, 2, 12, 77);
        assertDeadLetter(d, truncated, 12, "undecodable Request");
    }

    @Test
    void trailingBytesBecomeADeadLetter() throws Exception {
        byte[] full = encode(request(), Request.class);
        byte[] longer = Arrays.copyOf(full, full.length + 2);
        longer[full.length] = 1;
        longer[full.length + 1] = 2;
        Decoded<Request> d = requests.decode(longer, KEY, TOPIC, 2, 13, 77);
        assertDeadLetter(d, longer, 13, "undecodable Request", "trailing bytes");
    }

    @Test
    void nullValueBecomesADeadLetter() throws Exception {
        Decoded<Request> d = requests.decode(null, KEY, TOPIC, 2, 14, 77);
        assertDeadLetter(d, null, 14, "null value");
    }

    @Test
    void decoderRecoversAfterAFailure() throws Exception {
        byte[] full = encode(request(), Request.class);
        assertNotNull(requests.decode(Arrays.copyOf(full, full.length - 3), KEY, TOPIC, 2, 1, 77).deadLetter);
        assertNotNull(requests.decode(Arrays.copyOf(full, full.length + 1), KEY, TOPIC, 2, 2, 77).deadLetter);
        Decoded<Request> d = requests.decode(full, KEY, TOPIC, 2, 3, 77);
        assertNull(d.deadLetter);
        assertEquals("txn-1", d.value.getRequestId());
    }

    @Test
    void kafkaRecordPathUsesTheRecordsCoordinates() throws Exception {
        byte[] garbage = {
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF
        };
        byte[] good = encode(request(), Request.class);
        List<Decoded<Request>> out = new ArrayList<>();
        Collector<Decoded<Request>> c = new Collector<>() {
            @Override
            public void collect(Decoded<Request> record) {
                out.add(record);
            }

            @Override
            public void close() {}
        };
        requests.deserialize(new ConsumerRecord<>(TOPIC, 2, 20, KEY, garbage), c);
        requests.deserialize(new ConsumerRecord<>(TOPIC, 2, 21, KEY, good), c);
        assertEquals(2, out.size(), "a bad record does not throw: it is data");
        assertNotNull(out.get(0).deadLetter);
        assertEquals(20, out.get(0).deadLetter.getOffset());
        assertArrayEquals(garbage, bytes(out.get(0).deadLetter.getRaw()));
        assertNull(out.get(1).deadLetter);
        assertEquals(21, out.get(1).offset);
        assertEquals("txn-1", out.get(1).value.getRequestId());
    }

    /** The Request contract as a producer one version ahead writes it: one optional field added at the end. */
    public static Schema evolvedRequestSchema() {
        Schema current = Request.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : current.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field(
                "device_type",
                Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING)),
                "added later",
                org.apache.avro.JsonProperties.NULL_VALUE));
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    /** A record of the evolved schema with the same values as {@link #request()}, single-object encoded. */
    static byte[] evolvedSingleObject(Schema evolved) throws Exception {
        GenericData model = new GenericData();
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        GenericRecord r = new GenericData.Record(evolved);
        Request base = request();
        for (Schema.Field f : Request.getClassSchema().getFields()) {
            r.put(f.name(), base.get(f.pos()));
        }
        r.put("device_type", "tablet");
        ByteBuffer buf = new BinaryMessageEncoder<GenericRecord>(model, evolved).encode(r);
        return bytes(buf);
    }

    @Test
    void singleObjectEncodingOfTheJobsOwnSchemaDecodes() throws Exception {
        byte[] value = bytes(Request.getEncoder().encode(request()));
        Decoded<Request> d = requests.decode(value, KEY, TOPIC, 0, 1, 5L);
        assertNull(d.deadLetter);
        assertEquals(request().getFeatures(), d.value.getFeatures());
        assertEquals(request().getRequestId(), d.value.getRequestId());
    }

    @Test
    void evolvedProducerIsReadWhenItsSchemaIsRegistered() throws Exception {
        Schema evolved = evolvedRequestSchema();
        AvroDecodingDeserializer<Request> withSchema =
                new AvroDecodingDeserializer<>(Request.class, KafkaIO.DECODED_REQUEST, List.of(evolved.toString()));
        Decoded<Request> d = withSchema.decode(evolvedSingleObject(evolved), KEY, TOPIC, 0, 2, 5L);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        Request expected = request();
        for (Schema.Field f : Request.getClassSchema().getFields()) {
            assertEquals(expected.get(f.pos()), d.value.get(f.pos()), f.name());
        }
    }

    @Test
    void evolvedProducerWithoutRegisteredSchemaIsDeadLettered() throws Exception {
        byte[] value = evolvedSingleObject(evolvedRequestSchema());
        Decoded<Request> d = requests.decode(value, KEY, TOPIC, 3, 7, 5L);
        assertNull(d.value);
        assertTrue(d.deadLetter.getReason().contains("unknown writer schema"), d.deadLetter.getReason());
        assertTrue(d.deadLetter.getReason().contains("writer_schemas"), d.deadLetter.getReason());
        assertArrayEquals(value, bytes(d.deadLetter.getRaw()));
        assertEquals(7L, d.deadLetter.getOffset());
    }

    @Test
    void evolvedProducerWritingPlainBinaryIsDeadLetteredNotMisread() throws Exception {
        Schema evolved = evolvedRequestSchema();
        GenericData model = new GenericData();
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        GenericRecord r = new GenericData.Record(evolved);
        Request base = request();
        for (Schema.Field f : Request.getClassSchema().getFields()) {
            r.put(f.name(), base.get(f.pos()));
        }
        r.put("device_type", "tablet");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(evolved, model).write(r, enc);
        enc.flush();
        Decoded<Request> d = requests.decode(out.toByteArray(), KEY, TOPIC, 0, 9, 5L);
        assertNull(d.value);
        assertTrue(d.deadLetter.getReason().contains("trailing bytes"), d.deadLetter.getReason());
    }

    @Test
    void corruptSingleObjectPayloadIsDeadLettered() throws Exception {
        byte[] value = bytes(Request.getEncoder().encode(request()));
        byte[] truncated = Arrays.copyOf(value, 14);
        Decoded<Request> d = requests.decode(truncated, KEY, TOPIC, 0, 11, 5L);
        assertNull(d.value);
        assertTrue(d.deadLetter.getReason().startsWith("undecodable Request"), d.deadLetter.getReason());
    }
}
