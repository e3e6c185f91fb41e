package io.shadowml.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.flink.formats.avro.AvroSerializationSchema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.ModelControlAction;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.tools.models.ModelsCommand;

/**
 * {@code models add} and {@code models retire} against a real broker, with the shipped fraud models: the
 * records on the control topic are read back and decoded; every refusal exits 2 and writes nothing.
 */
class ModelsCommandTest {
    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static final Path SHIPPED = ScenarioData.repoRoot().resolve("models/shipped");
    /** fraud-mlp-deep:2.1.0, a binary fraud model that is not in the job's YAML. */
    private static final Path DEEP = SHIPPED.resolve("fraud/slow-candidate/model.json");

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ModelsCommand.run(
                argv,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A compacted control topic of its own, as the job's deployment creates it. */
    private static String newTopic() {
        String t = "control-" + TOPICS.incrementAndGet();
        KAFKA.kafka().createTopic(t, 1, Map.of("cleanup.policy", "compact"));
        return t;
    }

    /**
     * The fraud job (live fraud-logreg:1.0.0, candidate fraud-mlp:2.0.0) on the test broker, adapted from
     * jobs/examples/shadow-job.yaml; {@code controlTopic} null leaves topics.control out.
     */
    private Path config(String experiment, String controlTopic) throws Exception {
        Path models = SHIPPED.resolve("fraud");
        List<String> lines = new ArrayList<>(List.of(
                "experiment_id: " + experiment,
                "kafka:",
                "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                "  properties:",
                "    client.dns.lookup: use_all_dns_ips",
                "topics:",
                "  requests: r",
                "  labels: l",
                "  reports: rep",
                "  verdicts: v",
                "  dead_letter: dl"));
        if (controlTopic != null) {
            lines.add("  control: " + controlTopic);
        }
        lines.addAll(List.of(
                "models:",
                "  live: " + models.resolve("live/model.json"),
                "  candidates:",
                "    - " + models.resolve("candidate/model.json"),
                ""));
        Path file = tmp.resolve(experiment + ".yaml");
        Files.writeString(file, String.join("\n", lines));
        return file;
    }

    private static List<ConsumerRecord<byte[], byte[]>> records(String topic) {
        return KAFKA.kafka().readAll(topic, true, Duration.ofSeconds(30));
    }

    private static ModelControl decode(ConsumerRecord<byte[], byte[]> r) {
        ModelControl c = AvroCodec.decode(r.value(), ModelControl.class);
        // Plain Avro binary, no header: the bytes Flink's AvroSerializationSchema writes for the record.
        assertArrayEquals(
                AvroSerializationSchema.forSpecific(ModelControl.class).serialize(c), r.value());
        return c;
    }

    private static void assertContains(String text, String... expected) {
        for (String e : expected) {
            assertTrue(text.contains(e), "'" + e + "' in:\n" + text);
        }
    }

    /** Exit 2 with a message naming each of {@code expected}, no stack trace, nothing on the topic. */
    private static void assertRefused(Run r, String topic, String... expected) {
        assertEquals(2, r.code(), r.toString());
        assertContains(r.err(), expected);
        assertFalse(r.err().contains("\tat "), r.toString());
        assertEquals("", r.out(), r.toString());
        if (topic != null) {
            assertEquals(List.of(), records(topic), "nothing written to " + topic);
        }
    }

    @Test
    void addAnnouncesTheDescriptorAsReadWithItsEffectiveTime() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-add", topic);
        Instant effective = Instant.parse("2026-01-05T10:00:00Z");
        Instant before = Instant.ofEpochMilli(System.currentTimeMillis());
        Run r = run(
                "add",
                "--config",
                cfg.toString(),
                "--descriptor",
                DEEP.toString(),
                "--effective-time",
                effective.toString(),
                "--issued-by",
                "ci pipeline #42");
        Instant after = Instant.ofEpochMilli(System.currentTimeMillis());
        assertEquals(0, r.code(), r.toString());
        assertContains(
                r.out(),
                "ADD_CANDIDATE fraud-mlp-deep:2.1.0",
                "experiment fraud-add",
                "topic " + topic + " partition 0 offset 0",
                "effective 2026-01-05T10:00:00Z",
                "descriptor_file " + DEEP.toAbsolutePath().normalize());
        assertEquals(1, r.out().lines().count(), r.toString());

        List<ConsumerRecord<byte[], byte[]>> written = records(topic);
        assertEquals(1, written.size());
        ConsumerRecord<byte[], byte[]> rec = written.get(0);
        assertEquals("fraud-mlp-deep:2.1.0", new String(rec.key(), StandardCharsets.UTF_8));
        ModelControl c = decode(rec);
        assertEquals("fraud-add", c.getExperimentId());
        assertEquals(ModelControlAction.ADD_CANDIDATE, c.getAction());
        assertEquals("fraud-mlp-deep:2.1.0", c.getModelId());
        assertArrayEquals(Files.readAllBytes(DEEP), c.getDescriptor().getBytes(StandardCharsets.UTF_8));
        assertEquals(DEEP.toAbsolutePath().normalize().toString(), c.getDescriptorFile());
        assertEquals(effective, c.getEffectiveTime());
        assertFalse(c.getIssuedAt().isBefore(before), c.getIssuedAt() + " before " + before);
        assertFalse(c.getIssuedAt().isAfter(after), c.getIssuedAt() + " after " + after);
        assertEquals(c.getIssuedAt().toEpochMilli(), rec.timestamp());
        assertEquals("ci pipeline #42", c.getIssuedBy());
    }

    @Test
    void addWithTheModelsMountedElsewhereOnTheTaskManagersAndDefaults() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-mounted", topic);
        Instant before = Instant.ofEpochMilli(System.currentTimeMillis());
        Run r = run(
                "add",
                "--config",
                cfg.toString(),
                "--descriptor",
                DEEP.toString(),
                "--models-root-on-taskmanagers",
                "/mnt/models/fraud/deep/");
        Instant after = Instant.ofEpochMilli(System.currentTimeMillis());
        assertEquals(0, r.code(), r.toString());
        assertContains(r.out(), "effective when issued", "descriptor_file /mnt/models/fraud/deep/model.json");

        List<ConsumerRecord<byte[], byte[]>> written = records(topic);
        assertEquals(1, written.size());
        ModelControl c = decode(written.get(0));
        assertEquals("/mnt/models/fraud/deep/model.json", c.getDescriptorFile());
        assertEquals(Files.readString(DEEP), c.getDescriptor());
        assertNull(c.getEffectiveTime());
        assertFalse(c.getIssuedAt().isBefore(before));
        assertFalse(c.getIssuedAt().isAfter(after));
        assertEquals(System.getProperty("user.name"), c.getIssuedBy());
    }

    @Test
    void retireAnnouncesTheCandidateWithoutADescriptor() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-retire", topic);
        Instant effective = Instant.parse("2026-02-01T00:00:00.250Z");
        Instant before = Instant.ofEpochMilli(System.currentTimeMillis());
        Run r = run(
                "retire",
                "--config",
                cfg.toString(),
                "--model",
                "fraud-mlp:2.0.0",
                "--effective-time",
                effective.toString(),
                "--issued-by",
                "alice");
        Instant after = Instant.ofEpochMilli(System.currentTimeMillis());
        assertEquals(0, r.code(), r.toString());
        assertContains(
                r.out(),
                "RETIRE_CANDIDATE fraud-mlp:2.0.0",
                "topic " + topic + " partition 0 offset 0",
                "effective 2026-02-01T00:00:00.250Z");

        List<ConsumerRecord<byte[], byte[]>> written = records(topic);
        assertEquals(1, written.size());
        ConsumerRecord<byte[], byte[]> rec = written.get(0);
        assertEquals("fraud-mlp:2.0.0", new String(rec.key(), StandardCharsets.UTF_8));
        ModelControl c = decode(rec);
        assertEquals("fraud-retire", c.getExperimentId());
        assertEquals(ModelControlAction.RETIRE_CANDIDATE, c.getAction());
        assertEquals("fraud-mlp:2.0.0", c.getModelId());
        assertNull(c.getDescriptor());
        assertNull(c.getDescriptorFile());
        assertEquals(effective, c.getEffectiveTime());
        assertFalse(c.getIssuedAt().isBefore(before));
        assertFalse(c.getIssuedAt().isAfter(after));
        assertEquals("alice", c.getIssuedBy());
    }

    @Test
    void aDescriptorWhoseSha256IsWrongIsRefusedAndNothingIsWritten() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-sha", topic);
        Path folder = Files.createDirectories(tmp.resolve("tampered"));
        Files.copy(DEEP.resolveSibling("model.onnx"), folder.resolve("model.onnx"));
        String json = Files.readString(DEEP);
        String sha = "b4d75c8e5856704c046da4443cf167bfb666410ece159a05399e2d606f2f5cc5";
        assertTrue(json.contains(sha), "the shipped descriptor's sha256 changed: update this test");
        Path descriptor = folder.resolve("model.json");
        Files.writeString(descriptor, json.replace(sha, "0" + sha.substring(1)));

        Run r = run("add", "--config", cfg.toString(), "--descriptor", descriptor.toString());
        assertRefused(r, topic, descriptor.toString(), "field 'sha256'", "hashes to " + sha, "nothing announced");
        // The untouched copy beside the same model goes through: the refusal was the hash, nothing else.
        Files.writeString(descriptor, json);
        assertEquals(
                0,
                run("add", "--config", cfg.toString(), "--descriptor", descriptor.toString())
                        .code());
        assertEquals(1, records(topic).size());
    }

    @Test
    void aMulticlassModelForABinaryJobIsRefused() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-multiclass", topic);
        Path fashion = SHIPPED.resolve("fashion/candidate/model.json");
        Run r = run("add", "--config", cfg.toString(), "--descriptor", fashion.toString());
        assertRefused(
                r,
                topic,
                fashion.toString(),
                "field 'task'",
                "fashion-mlp:2.0.0 is a MULTICLASS model, the live model is BINARY",
                "fraud-logreg:1.0.0");
    }

    @Test
    void aBinaryModelWhoseThresholdNoSlotHasIsRefused() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-threshold", topic);
        Path folder = Files.createDirectories(tmp.resolve("threshold"));
        Files.copy(DEEP.resolveSibling("model.onnx"), folder.resolve("model.onnx"));
        String json = Files.readString(DEEP);
        assertTrue(json.contains("\"threshold\": 0.5"), "the shipped descriptor's threshold changed: update this test");
        Path descriptor = folder.resolve("model.json");
        Files.writeString(descriptor, json.replace("\"threshold\": 0.5", "\"threshold\": 0.7"));
        assertRefused(
                run("add", "--config", cfg.toString(), "--descriptor", descriptor.toString()),
                topic,
                descriptor.toString(),
                "field 'threshold'",
                "fraud-mlp-deep:2.1.0 decides at 0.7, but the job's candidate slots decide at [0.5]");
    }

    @Test
    void theLiveModelIsNeitherAddedNorRetired() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-live", topic);
        Path live = SHIPPED.resolve("fraud/live/model.json");
        assertRefused(
                run("add", "--config", cfg.toString(), "--descriptor", live.toString()),
                topic,
                live.toString(),
                "fields 'name', 'version'",
                "fraud-logreg:1.0.0 is the name and version of the job's live model");
        assertRefused(
                run("retire", "--config", cfg.toString(), "--model", "fraud-logreg:1.0.0"),
                topic,
                cfg.toString(),
                "field 'models.live'",
                "fraud-logreg:1.0.0 is the job's live model");
    }

    @Test
    void switchLiveAnnouncesTheNewLiveModelAndTheOldOneCanBeRetiredOnceSwitchedAwayFrom() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-switch", topic);
        Instant effective = Instant.parse("2026-01-05T10:00:00Z");
        Run r = run(
                "switch-live",
                "--config",
                cfg.toString(),
                "--model",
                "fraud-mlp:2.0.0",
                "--effective-time",
                effective.toString());
        assertEquals(0, r.code(), r.toString());
        assertContains(r.out(), "SWITCH_LIVE fraud-mlp:2.0.0", "experiment fraud-switch", "effective " + effective);
        // The command cannot see the switch: the YAML's live model is retired only when the caller says so.
        assertEquals(
                2,
                run("retire", "--config", cfg.toString(), "--model", "fraud-logreg:1.0.0")
                        .code());
        Run retired = run("retire", "--config", cfg.toString(), "--model", "fraud-logreg:1.0.0", "--was-live");
        assertEquals(0, retired.code(), retired.toString());

        List<ConsumerRecord<byte[], byte[]>> written = records(topic);
        assertEquals(2, written.size());
        ModelControl sw = decode(written.get(0));
        assertEquals(ModelControlAction.SWITCH_LIVE, sw.getAction());
        assertEquals("fraud-mlp:2.0.0", sw.getModelId());
        // Its own key: compaction keeps the switched-to model's ADD_CANDIDATE, which is keyed by its id.
        assertEquals("SWITCH_LIVE", new String(written.get(0).key(), StandardCharsets.UTF_8));
        assertNull(sw.getDescriptor());
        assertNull(sw.getDescriptorFile());
        assertEquals(effective, sw.getEffectiveTime());
        ModelControl retire = decode(written.get(1));
        assertEquals(ModelControlAction.RETIRE_CANDIDATE, retire.getAction());
        assertEquals("fraud-logreg:1.0.0", retire.getModelId());
        assertRefused(
                run("switch-live", "--config", cfg.toString(), "--model", "no version"),
                null,
                "option --model must be name:version");
    }

    @Test
    void aConfigWithoutTopicsControlIsRefused() throws Exception {
        Path cfg = config("fraud-no-control", null);
        assertRefused(
                run("add", "--config", cfg.toString(), "--descriptor", DEEP.toString()),
                null,
                "models add: ",
                cfg.toString(),
                "field 'topics.control'",
                "not set");
        assertRefused(
                run("retire", "--config", cfg.toString(), "--model", "fraud-mlp:2.0.0"),
                null,
                "models retire: ",
                cfg.toString(),
                "field 'topics.control'");
    }

    @Test
    void usageErrorsNameTheOption() throws Exception {
        String topic = newTopic();
        Path cfg = config("fraud-usage", topic);
        Run r = run(
                "add", "--config", cfg.toString(), "--descriptor", DEEP.toString(), "--effective-time", "yesterday");
        assertRefused(r, topic, "models add: ", "--effective-time", "'yesterday' is not an ISO-8601 instant");
        assertRefused(
                run("retire", "--config", cfg.toString(), "--model", "fraud-mlp"),
                topic,
                "option --model must be name:version");
        assertRefused(
                run(
                        "add",
                        "--config",
                        cfg.toString(),
                        "--descriptor",
                        tmp.resolve("none.json").toString()),
                topic,
                "option --descriptor: file");
        assertRefused(
                run(
                        "add",
                        "--config",
                        cfg.toString(),
                        "--descriptor",
                        DEEP.toString(),
                        "--models-root-on-taskmanagers",
                        "models/fraud"),
                topic,
                "--models-root-on-taskmanagers must be an absolute folder");
        assertRefused(run(), null, "missing command");
    }

    @Test
    void aTopicThatDoesNotExistFailsWithExitOne() throws Exception {
        Path cfg = config("fraud-missing-topic", "control-does-not-exist");
        Run r = run("retire", "--config", cfg.toString(), "--model", "fraud-mlp:2.0.0", "--timeout", "2s");
        assertEquals(1, r.code(), r.toString());
        assertContains(
                r.err(),
                "models retire: could not write RETIRE_CANDIDATE fraud-mlp:2.0.0 to topic control-does-not-exist");
    }
}
