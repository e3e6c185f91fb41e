package io.shadowml.embedded;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
        System.out.printf(
                "EmbeddedKafka startup time: %d ms (bootstrap %s)%n",
                kafka.startupTime().toMillis(), kafka.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void bindsLoopbackOnly() {
        assertTrue(kafka.bootstrapServers().startsWith("127.0.0.1:"), kafka.bootstrapServers());
        assertTrue(kafka.port() > 0);
    }

    @Test
    void producesAndReadsBackThousandRecordsOnThreePartitions() {
        String topic = "three-partitions";
        kafka.createTopic(topic, 3);

        int n = 1_000;
        long ts0 = 1_700_000_000_000L;
        List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            sent.add(new ProducerRecord<>(topic, i % 3, ts0 + i, ("k" + i).getBytes(UTF_8), ("v" + i).getBytes(UTF_8)));
        }
        List<RecordMetadata> acks = kafka.produce(sent);
        assertEquals(n, acks.size());

        List<ConsumerRecord<byte[], byte[]>> got = kafka.readAll(topic, false, TIMEOUT);
        assertEquals(n, got.size());
        Map<String, ConsumerRecord<byte[], byte[]>> byKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : got) {
            byKey.put(new String(r.key(), UTF_8), r);
        }
        assertEquals(n, byKey.size(), "keys are unique");
        for (int i = 0; i < n; i++) {
            ConsumerRecord<byte[], byte[]> r = byKey.get("k" + i);
            assertArrayEquals(("v" + i).getBytes(UTF_8), r.value());
            assertEquals(i % 3, r.partition());
            assertEquals(ts0 + i, r.timestamp());
            assertEquals(acks.get(i).offset(), r.offset());
        }
        // Within a partition the order is the send order.
        for (int p = 0; p < 3; p++) {
            final int part = p;
            List<Integer> seq = got.stream()
                    .filter(r -> r.partition() == part)
                    .map(r -> Integer.parseInt(new String(r.key(), UTF_8).substring(1)))
                    .toList();
            for (int j = 1; j < seq.size(); j++) {
                assertTrue(seq.get(j - 1) < seq.get(j));
            }
        }

        // The single-record convenience appends after the batch.
        RecordMetadata one = kafka.produce(topic, "extra".getBytes(UTF_8), "x".getBytes(UTF_8), ts0 - 1);
        assertEquals(n + 1, kafka.readAll(topic, true, TIMEOUT).size());
        assertTrue(one.offset() >= 0);
    }

    @Test
    void readCommittedSeesOnlyCommittedTransactions() {
        String topic = "transactional";
        kafka.createTopic(topic, 2);

        int committedCount = 37;
        int abortedCount = 23;
        Set<String> committedValues = new HashSet<>();
        Set<String> abortedValues = new HashSet<>();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(kafka.transactionalProducerProps("tx-test-1"))) {
            producer.initTransactions();

            producer.beginTransaction();
            for (int i = 0; i < committedCount; i++) {
                String v = "committed-" + i;
                committedValues.add(v);
                producer.send(new ProducerRecord<>(topic, ("c" + i).getBytes(UTF_8), v.getBytes(UTF_8)));
            }
            producer.commitTransaction();

            producer.beginTransaction();
            for (int i = 0; i < abortedCount; i++) {
                String v = "aborted-" + i;
                abortedValues.add(v);
                producer.send(new ProducerRecord<>(topic, ("a" + i).getBytes(UTF_8), v.getBytes(UTF_8)));
            }
            producer.flush(); // the aborted records really reach the log
            producer.abortTransaction();
        }

        Set<String> readCommitted = values(kafka.readAll(topic, true, TIMEOUT));
        assertEquals(committedValues, readCommitted);

        List<ConsumerRecord<byte[], byte[]>> uncommitted = kafka.readAll(topic, false, TIMEOUT);
        assertEquals(committedCount + abortedCount, uncommitted.size());
        Set<String> both = new HashSet<>(committedValues);
        both.addAll(abortedValues);
        assertEquals(both, values(uncommitted));
    }

    @Test
    void readAllUntilWaitsForALaterCommitAndGivesUpAfterItsPatience() throws Exception {
        String topic = "late-commit";
        kafka.createTopic(topic, 1);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(kafka.transactionalProducerProps("tx-late-commit"))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k".getBytes(UTF_8), "first".getBytes(UTF_8)));
            producer.flush();
            Thread committer = new Thread(() -> {
                try {
                    Thread.sleep(1_500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                producer.commitTransaction();
            });
            committer.start();
            List<String> got = kafka.readAllUntil(
                    topic, true, r -> new String(r.value(), UTF_8), l -> !l.isEmpty(), Duration.ofSeconds(30));
            committer.join();
            assertEquals(List.of("first"), got);
        }
        long t0 = System.nanoTime();
        List<String> incomplete = kafka.readAllUntil(
                topic, true, r -> new String(r.value(), UTF_8), l -> l.size() > 1, Duration.ofSeconds(1));
        assertEquals(List.of("first"), incomplete, "what is there once the patience is spent");
        assertTrue(System.nanoTime() - t0 >= Duration.ofSeconds(1).toNanos());
    }

    @Test
    void createTopicRejectsDuplicatesAndReadAllRejectsUnknownTopics() throws Exception {
        kafka.createTopic("dup", 1);
        assertThrows(IllegalStateException.class, () -> kafka.createTopic("dup", 1));
        assertThrows(RuntimeException.class, () -> kafka.readAll("no-such-topic", false, Duration.ofSeconds(5)));
        kafka.deleteTopic("dup");
        assertFalse(kafka.admin().listTopics().names().get().contains("dup"));
    }

    @Test
    void brokerDefaultsSuitForExactlyOnceSinks() throws Exception {
        var resource = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.BROKER, "1");
        var cfg = kafka.admin().describeConfigs(List.of(resource)).all().get().get(resource);
        assertEquals("3600000", cfg.get("transaction.max.timeout.ms").value());
        assertEquals("1", cfg.get("transaction.state.log.replication.factor").value());
        assertEquals("1", cfg.get("transaction.state.log.min.isr").value());
        assertEquals("1", cfg.get("offsets.topic.replication.factor").value());
        assertEquals("0", cfg.get("group.initial.rebalance.delay.ms").value());
        assertEquals("false", cfg.get("auto.create.topics.enable").value());
    }

    @Test
    void restartsOnAFreshDirAndDeletesTheTemporaryDir() {
        Path dir;
        try (EmbeddedKafka other = EmbeddedKafka.start()) {
            dir = other.logDir();
            assertNotEquals(kafka.bootstrapServers(), other.bootstrapServers());
            other.createTopic("t", 1);
            other.produce("t", null, "a".getBytes(UTF_8), 1L);
            assertEquals(1, other.readAll("t", true, TIMEOUT).size());
        }
        assertFalse(Files.exists(dir), "temporary log dir removed on close");

        try (EmbeddedKafka again = EmbeddedKafka.start()) {
            System.out.printf(
                    "EmbeddedKafka restart (fresh dir) startup time: %d ms%n",
                    again.startupTime().toMillis());
            assertNotEquals(dir, again.logDir());
            again.createTopic("t", 1); // fresh cluster: the topic does not exist yet
            assertEquals(0, again.readAll("t", true, TIMEOUT).size());
        }
    }

    @Test
    void restartsOnACallerOwnedDirWithItsData(@TempDir Path tmp) {
        Path dir = tmp.resolve("kafka");
        String clusterId;
        try (EmbeddedKafka first = EmbeddedKafka.builder().logDir(dir).start()) {
            clusterId = first.clusterId();
            first.createTopic("kept", 2);
            first.produce(List.of(
                    new ProducerRecord<>("kept", 0, 1L, null, "p0".getBytes(UTF_8)),
                    new ProducerRecord<>("kept", 1, 2L, null, "p1".getBytes(UTF_8))));
        }
        assertTrue(
                Files.exists(dir.resolve("kraft-combined-logs").resolve("meta.properties")),
                "caller-owned log dir kept on close");
        try (EmbeddedKafka second =
                EmbeddedKafka.builder().logDir(dir).deleteLogDirOnClose(true).start()) {
            assertEquals(clusterId, second.clusterId());
            assertEquals(Set.of("p0", "p1"), values(second.readAll("kept", true, TIMEOUT)));
        }
        assertFalse(Files.exists(dir));
    }

    @Test
    void fixedPortAndReservedKeys() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        try (EmbeddedKafka fixed = EmbeddedKafka.builder()
                .port(port)
                .brokerProperty("log.retention.hours", 1)
                .start()) {
            assertEquals("127.0.0.1:" + port, fixed.bootstrapServers());
            fixed.createTopic("f", 1);
            fixed.produce("f", null, "z".getBytes(UTF_8), 5L);
            assertEquals(1, fixed.readAll("f", false, TIMEOUT).size());
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedKafka.builder().brokerProperty("listeners", "PLAINTEXT://0.0.0.0:9092"));
    }

    private static Set<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.value(), UTF_8)).collect(Collectors.toSet());
    }
}
