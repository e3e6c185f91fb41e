package io.shadowml.jobs.io.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;

/**
 * Requests and labels as producers write them (JSON, schema-registry Avro), read through the config's
 * field mapping by the same decoder the Kafka sources use. Expected records are written out by hand.
 */
class MappedInputTest {
    static final Path SHIPPED = Path.of("../models/shipped").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    static String config(String scenario, String inputs) {
        return String.join(
                "\n",
                "experiment_id: mapped",
                "kafka:",
                "  bootstrap_servers: localhost:9092",
                "topics:",
                "  requests: req",
                "  labels: lab",
                "  reports: rep",
                "  verdicts: ver",
                "  dead_letter: dlq",
                "models:",
                "  live: " + SHIPPED.resolve(scenario + "/live/model.json"),
                "  candidates:",
                "    - " + SHIPPED.resolve(scenario + "/candidate/model.json"),
                inputs,
                "");
    }

    ShadowJobConfig load(String yaml) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, yaml);
        return ShadowJobConfig.load(file);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The producer's own JSON: nested objects, its own names, an ISO time, flags as booleans. */
    static final String NESTED_MAPPING = String.join(
            "\n",
            "inputs:",
            "  requests:",
            "    format: json",
            "    fields:",
            "      request_id: txn.id",
            "      event_time: txn.at",
            "      event_time_format: iso8601",
            "      entity_id: card.id",
            "      served_by: serving.variant",
            "      production_score: serving.scores[1]",
            "      segments: {region: geo.region, channel: channel}",
            "      features: {amount: txn.amount, is_foreign: geo.foreign}",
            "      feature_map: signals",
            "      feature_defaults: {card_age_days: 365}");

    static final String NESTED_JSON = "{\"txn\": {\"id\": \"t-1\", \"at\": \"2026-03-01T10:15:30.250+01:00\","
            + " \"amount\": 120.5}, \"card\": {\"id\": 4711}, \"geo\": {\"region\": \"EU\", \"foreign\": true},"
            + " \"channel\": \"web\", \"serving\": {\"variant\": \"live-a\", \"scores\": [0.9, 0.1]},"
            + " \"signals\": {\"hour\": 9, \"merchant_risk\": 0.25, \"txn_count_1h\": 2, \"txn_count_24h\": 7,"
            + " \"amount_to_avg_ratio\": 1.5, \"distance_from_home_km\": 12.0, \"unused\": \"x\"}}";

    @Test
    void nestedJsonBecomesTheRequestItDescribes() throws Exception {
        ShadowJobConfig cfg = load(config("fraud", NESTED_MAPPING));
        Decoded<Request> d = KafkaIO.requestDecoding(cfg).decode(utf8(NESTED_JSON), utf8("k"), "req", 0, 5, 1L);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        Request r = d.value;
        assertEquals("t-1", r.getRequestId());
        // 10:15:30.250 at +01:00 is 09:15:30.250 UTC.
        assertEquals(Instant.parse("2026-03-01T09:15:30.250Z"), r.getEventTime());
        assertEquals("4711", r.getEntityId());
        assertEquals("live-a", r.getServedBy());
        assertEquals(0.1, r.getProductionScore());
        assertEquals(Map.of("region", "EU", "channel", "web"), r.getSegments());
        assertEquals(
                Map.of(
                        "amount", 120.5,
                        "is_foreign", 1.0,
                        "hour", 9.0,
                        "merchant_risk", 0.25,
                        "txn_count_1h", 2.0,
                        "txn_count_24h", 7.0,
                        "amount_to_avg_ratio", 1.5,
                        "distance_from_home_km", 12.0,
                        "card_age_days", 365.0),
                r.getFeatures());
        assertNull(r.getVector());
    }

    @Test
    void withoutFieldsJsonReadsTheContractsOwnFieldNames() throws Exception {
        ShadowJobConfig cfg = load(config("fashion", "inputs:\n  requests:\n    format: json"));
        StringBuilder vector = new StringBuilder();
        for (int i = 0; i < 784; i++) {
            vector.append(i == 0 ? "" : ",").append(i % 7 == 0 ? "0.5" : "0");
        }
        String json = "{\"request_id\": \"img-3\", \"event_time\": 1767225600123, \"segments\": {\"site\": \"de\"},"
                + " \"vector\": [" + vector + "]}";
        Decoded<Request> d = KafkaIO.requestDecoding(cfg).decode(utf8(json), null, "req", 0, 1, 1L);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        assertEquals("img-3", d.value.getRequestId());
        assertEquals(1767225600123L, d.value.getEventTime().toEpochMilli());
        assertEquals(784, d.value.getVector().size());
        assertEquals(0.5f, d.value.getVector().get(7));
        assertEquals(0.0f, d.value.getVector().get(8));
        assertEquals(Map.of("site", "de"), d.value.getSegments());
    }

    @Test
    void kafkaKeyAndTimestampCanStandInForFields() throws Exception {
        ShadowJobConfig cfg = load(config(
                "fraud",
                "inputs:\n  labels:\n    format: json\n    fields:\n      request_id: $key\n"
                        + "      label_time: $timestamp\n      value: chargeback"));
        Decoded<Label> d = KafkaIO.labelDecoding(cfg)
                .decode(utf8("{\"chargeback\": true}"), utf8("t-9"), "lab", 0, 1, 1767225600999L);
        assertNull(d.deadLetter);
        assertEquals(new Label("t-9", Instant.ofEpochMilli(1767225600999L), 1.0), d.value);
        Decoded<Label> noKey =
                KafkaIO.labelDecoding(cfg).decode(utf8("{\"chargeback\": false}"), null, "lab", 0, 2, 5L);
        assertReason(noKey.deadLetter, "missing request_id at '$key'");
    }

    @Test
    void timeFormatsConvertToEpochMilliseconds() throws Exception {
        String[][] cases = {
            {"epoch_s", "1767225600.25", "1767225600250"},
            {"epoch_s", "1767225600", "1767225600000"},
            {"epoch_us", "1767225600250999", "1767225600250"},
            {"epoch_ms", "1767225600250", "1767225600250"},
            {"iso8601", "\"2026-01-01T00:00:00.25Z\"", "1767225600250"},
        };
        for (String[] c : cases) {
            ShadowJobConfig cfg = load(config(
                    "fraud",
                    "inputs:\n  labels:\n    format: json\n    fields:\n      label_time: t\n      label_time_format: "
                            + c[0]));
            String json = "{\"request_id\": \"r\", \"t\": " + c[1] + ", \"value\": 0}";
            Decoded<Label> d = KafkaIO.labelDecoding(cfg).decode(utf8(json), null, "lab", 0, 1, 1L);
            assertNull(d.deadLetter, () -> c[0] + " " + c[1] + ": " + d.deadLetter.getReason());
            assertEquals(Long.parseLong(c[2]), d.value.getLabelTime().toEpochMilli(), c[0] + " " + c[1]);
        }
    }

    @Test
    void recordsThatDoNotFitTheMappingAreDeadLettersNamingThePath() throws Exception {
        ShadowJobConfig cfg = load(config("fraud", NESTED_MAPPING));
        String[][] cases = {
            {"{\"txn\": ", "undecodable JSON"},
            {"[1, 2]", "undecodable JSON: the value is an array, not an object"},
            {"{\"a\": 1} {\"b\": 2}", "undecodable JSON"},
            {NESTED_JSON.replace("\"id\": \"t-1\", ", ""), "missing request_id at 'txn.id'"},
            {
                NESTED_JSON.replace("\"amount\": 120.5", "\"amount\": \"120.5\""),
                "feature 'amount' at 'txn.amount' is a string, expected a number"
            },
            {
                NESTED_JSON.replace("\"merchant_risk\": 0.25, ", ""),
                "missing feature 'merchant_risk' at 'signals.merchant_risk'"
            },
            {NESTED_JSON.replace("+01:00", ""), "event_time at 'txn.at' is a string"},
            {
                NESTED_JSON.replace("\"region\": \"EU\"", "\"region\": {\"code\": \"EU\"}"),
                "segment 'region' at 'geo.region' is an object, expected a string"
            },
            {
                NESTED_JSON.replace("\"scores\": [0.9, 0.1]", "\"scores\": [0.9, \"high\"]"),
                "production_score at 'serving.scores[1]' is a string, expected a number"
            },
        };
        for (String[] c : cases) {
            Decoded<Request> d = KafkaIO.requestDecoding(cfg).decode(utf8(c[0]), utf8("key"), "req", 1, 42, 7L);
            assertNotNull(d.deadLetter, c[0]);
            assertReason(d.deadLetter, c[1]);
            assertEquals(42, d.deadLetter.getOffset());
            assertEquals("req", d.deadLetter.getSourceTopic());
        }
        // A missing card_age_days takes its default; a missing optional field (served_by) is just absent.
        String noAge = NESTED_JSON.replace("\"variant\": \"live-a\", ", "");
        Decoded<Request> d = KafkaIO.requestDecoding(cfg).decode(utf8(noAge), null, "req", 0, 1, 1L);
        assertNull(d.deadLetter);
        assertNull(d.value.getServedBy());
        assertEquals(365.0, d.value.getFeatures().get("card_age_days"));
    }

    @Test
    void classNamesBecomeClassIndices() throws Exception {
        String names = "[tshirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, boot]";
        ShadowJobConfig cfg = load(config(
                "fashion",
                "inputs:\n  labels:\n    format: json\n    fields:\n      value: item\n      class_names: " + names));
        String json = "{\"request_id\": \"img-1\", \"label_time\": 1767225600000, \"item\": \"sneaker\"}";
        Decoded<Label> d = KafkaIO.labelDecoding(cfg).decode(utf8(json), null, "lab", 0, 1, 1L);
        assertNull(d.deadLetter);
        assertEquals(7.0, d.value.getValue());
        Decoded<Label> unknown =
                KafkaIO.labelDecoding(cfg).decode(utf8(json.replace("sneaker", "hat")), null, "lab", 0, 2, 1L);
        assertReason(unknown.deadLetter, "label value at 'item' is 'hat', not one of the class names");
    }

    // ---------------------------------------------------------------- schema-registry Avro

    static final Schema CHARGEBACK = new Schema.Parser()
            .parse(
                    "{\"type\": \"record\", \"name\": \"Chargeback\", \"namespace\": \"bank.disputes\", \"fields\": ["
                            + "{\"name\": \"txn_id\", \"type\": \"string\"},"
                            + "{\"name\": \"decided\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}},"
                            + "{\"name\": \"outcome\", \"type\": {\"type\": \"record\", \"name\": \"Outcome\", \"fields\": ["
                            + "  {\"name\": \"fraud\", \"type\": \"boolean\"}, {\"name\": \"note\", \"type\": [\"null\", \"string\"]}]}}]}");

    static byte[] registryWire(int schemaId, Schema schema, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(
                new byte[] {(byte) (schemaId >>> 24), (byte) (schemaId >>> 16), (byte) (schemaId >>> 8), (byte) schemaId
                });
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, enc);
        enc.flush();
        return out.toByteArray();
    }

    static GenericRecord chargeback(String id, long decided, boolean fraud) {
        GenericRecord outcome =
                new GenericData.Record(CHARGEBACK.getField("outcome").schema());
        outcome.put("fraud", fraud);
        GenericRecord r = new GenericData.Record(CHARGEBACK);
        r.put("txn_id", id);
        r.put("decided", decided);
        r.put("outcome", outcome);
        return r;
    }

    String registryLabels() throws Exception {
        Files.writeString(dir.resolve("chargeback.avsc"), CHARGEBACK.toString(true));
        return String.join(
                "\n",
                "inputs:",
                "  labels:",
                "    format: registry-avro",
                "    registry:",
                "      schemas: {\"17\": chargeback.avsc}",
                "    fields:",
                "      request_id: txn_id",
                "      label_time: decided",
                "      value: outcome.fraud");
    }

    @Test
    void registryAvroIsReadWithTheWriterSchemaOfItsId() throws Exception {
        ShadowJobConfig cfg = load(config("fraud", registryLabels()));
        byte[] wire = registryWire(17, CHARGEBACK, chargeback("t-1", 1767225600500L, true));
        Decoded<Label> d = KafkaIO.labelDecoding(cfg).decode(wire, null, "lab", 0, 1, 1L);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        assertEquals(new Label("t-1", Instant.ofEpochMilli(1767225600500L), 1.0), d.value);
    }

    @Test
    void registryAvroThatCannotBeReadIsADeadLetter() throws Exception {
        ShadowJobConfig cfg = load(config("fraud", registryLabels()));
        byte[] valid = registryWire(17, CHARGEBACK, chargeback("t-1", 1767225600500L, false));
        byte[] unknownId = valid.clone();
        unknownId[4] = 18;
        byte[] noMagic = valid.clone();
        noMagic[0] = 2;
        byte[] truncated = java.util.Arrays.copyOf(valid, valid.length - 2);
        byte[] trailing = java.util.Arrays.copyOf(valid, valid.length + 1);
        byte[] hugeString = {0, 0, 0, 0, 17, (byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F};
        byte[] negativeId = valid.clone();
        negativeId[1] = (byte) 0x80;
        Object[][] cases = {
            {unknownId, "unknown writer schema id 18: not among the schema files listed by id"},
            {noMagic, "first byte 0x02, expected the magic byte 0x00"},
            {new byte[] {0, 0, 17}, "shorter than the 5-byte header"},
            {truncated, "undecodable schema-registry Avro (schema id 17)"},
            {trailing, "trailing bytes after the record"},
            {hugeString, "declares a string of"},
            {negativeId, "schema id 2147483665 is beyond the registry's ids"},
        };
        for (Object[] c : cases) {
            Decoded<Label> d = KafkaIO.labelDecoding(cfg).decode((byte[]) c[0], null, "lab", 0, 1, 1L);
            assertNotNull(d.deadLetter, (String) c[1]);
            assertReason(d.deadLetter, (String) c[1]);
        }
    }

    static void assertReason(io.shadowml.avro.DeadLetter dl, String contains) {
        assertNotNull(dl, contains);
        assertTrue(dl.getReason().contains(contains), () -> "expected '" + contains + "' in: " + dl.getReason());
    }
}
