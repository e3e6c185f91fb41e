package io.shadowml.embedded;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** close() must leave nothing behind that would keep a JVM (e.g. the demo runner) alive. */
class EmbeddedKafkaLifecycleTest {

    @Test
    void closeLeavesNoNonDaemonThreadsAndNoLogDir() throws Exception {
        Set<Thread> before = nonDaemonThreads();
        Path dir;
        EmbeddedKafka kafka = EmbeddedKafka.start();
        try {
            dir = kafka.logDir();
            kafka.createTopic("life", 2);
            kafka.produce("life", null, "v".getBytes(UTF_8), 1L);
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.transactionalProducerProps("tx-life"))) {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>("life", "w".getBytes(UTF_8)));
                p.commitTransaction();
            }
            assertEquals(2, kafka.readAll("life", true, Duration.ofSeconds(30)).size());
            assertFalse(nonDaemonThreads().stream().allMatch(before::contains), "the broker runs threads");
        } finally {
            kafka.close();
        }
        kafka.close(); // idempotent
        assertThrows(IllegalStateException.class, kafka::admin);
        assertFalse(Files.exists(dir));

        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        Set<Thread> leftover;
        do {
            leftover = nonDaemonThreads();
            leftover.removeAll(before);
            if (leftover.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        assertTrue(
                leftover.isEmpty(),
                "non-daemon threads left after close: "
                        + leftover.stream().map(Thread::getName).sorted().toList());
    }

    private static Set<Thread> nonDaemonThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !t.isDaemon())
                .collect(Collectors.toSet());
    }
}
