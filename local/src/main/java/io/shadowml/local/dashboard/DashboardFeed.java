package io.shadowml.local.dashboard;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;

/**
 * Follows the four output topics of the job from the beginning and feeds {@link DashboardState}. The job
 * writes them in Kafka transactions, so the consumer reads committed records only.
 */
final class DashboardFeed implements Runnable, AutoCloseable {
    /** Names of the job's output topics. */
    record Topics(String reports, String verdicts, String scoredEvents, String deadLetters) {
        static Topics defaults() {
            return new Topics("reports", "verdicts", "scored-events", "dead-letters");
        }
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final DashboardState state;
    private volatile boolean running = true;

    DashboardFeed(String bootstrapServers, Topics topics, DashboardState state) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        // Its own group, never committed: every dashboard reads the topics from the start.
        p.put("group.id", "shadowml-dashboard-" + UUID.randomUUID());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", "read_committed");
        p.put("metadata.max.age.ms", "2000");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topics.reports(), topics.verdicts(), topics.scoredEvents(), topics.deadLetters()));
        this.topics = topics;
        this.state = state;
    }

    @Override
    public void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(250))) {
                    accept(r);
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        try {
            if (r.topic().equals(topics.reports())) {
                state.addReport(AvroCodec.decode(r.value(), ComparisonReport.class));
            } else if (r.topic().equals(topics.verdicts())) {
                state.addVerdict(AvroCodec.decode(r.value(), Verdict.class));
            } else if (r.topic().equals(topics.scoredEvents())) {
                state.addScoredEvent(AvroCodec.decode(r.value(), ScoredEvent.class));
            } else if (r.topic().equals(topics.deadLetters())) {
                state.addDeadLetter(AvroCodec.decode(r.value(), DeadLetter.class));
            }
        } catch (RuntimeException e) {
            state.addUndecodable();
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
    }
}
