package io.shadowml.jobs.io.format;

import static io.shadowml.jobs.io.format.MappedInputTest.CHARGEBACK;
import static io.shadowml.jobs.io.format.MappedInputTest.assertReason;
import static io.shadowml.jobs.io.format.MappedInputTest.chargeback;
import static io.shadowml.jobs.io.format.MappedInputTest.registryWire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.Label;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.DecodingDeserializer;
import io.shadowml.jobs.io.KafkaIO;

/** format: registry-avro against a real schema registry (Apicurio, Confluent-compatible API). */
class SchemaRegistryTest {
    static ApicurioRegistry registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = ApicurioRegistry.start();
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    DecodingDeserializer<Label> labels(String url, String extra) throws Exception {
        String yaml = MappedInputTest.config(
                "fraud",
                String.join(
                        "\n",
                        "inputs:",
                        "  labels:",
                        "    format: registry-avro",
                        "    registry:",
                        "      url: " + url,
                        "      headers: {X-Tenant: fraud-team}",
                        extra,
                        "    fields: {request_id: txn_id, label_time: decided, value: outcome.fraud}"));
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, yaml);
        return KafkaIO.labelDecoding(ShadowJobConfig.load(file));
    }

    @Test
    void writerSchemasAreFetchedByTheirRegistryId() throws Exception {
        // Another schema first, so the chargeback's id is not simply the first one.
        int other = registry.register(
                "unrelated-value", Schema.create(Schema.Type.STRING).toString());
        int id = registry.register("chargebacks-value", CHARGEBACK.toString());
        assertNotEquals(other, id);
        DecodingDeserializer<Label> labels = labels(registry.ccompatUrl(), "");
        byte[] wire = registryWire(id, CHARGEBACK, chargeback("t-7", 1767225600042L, true));
        Decoded<Label> d = labels.decode(wire, null, "lab", 0, 1, 1L);
        assertNull(d.deadLetter, () -> d.deadLetter.getReason());
        assertEquals(new Label("t-7", Instant.ofEpochMilli(1767225600042L), 1.0), d.value);

        // An id the registry does not have is the record's fault: a dead letter, the job goes on.
        int unknown = id + 1000;
        Decoded<Label> bad =
                labels.decode(registryWire(unknown, CHARGEBACK, chargeback("t-8", 1L, false)), null, "lab", 0, 2, 1L);
        assertReason(
                bad.deadLetter,
                "unknown writer schema id " + unknown + ": the schema registry has no schema id " + unknown);
        // A schema id that is not a record's: decoding with it fails, also a dead letter.
        Decoded<Label> wrongSchema =
                labels.decode(registryWire(other, CHARGEBACK, chargeback("t-9", 1L, false)), null, "lab", 0, 3, 1L);
        assertTrue(wrongSchema.deadLetter != null, "a string schema cannot map a label");
    }

    @Test
    void anUnreachableRegistryIsNotTheRecordsFault() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        DecodingDeserializer<Label> labels =
                labels("http://127.0.0.1:" + closedPort + "/apis/ccompat/v6", "      retry_for: 1s");
        byte[] wire = registryWire(1, CHARGEBACK, chargeback("t-1", 1767225600000L, true));
        // Not a dead letter: the record may be perfectly valid. The source fails and the job restarts
        // (or waits) until the registry answers.
        IOException e = assertThrows(IOException.class, () -> labels.decode(wire, null, "lab", 0, 1, 1L));
        assertTrue(e.getMessage().contains("did not answer for schema id 1 within PT1S"), e.getMessage());
    }
}
