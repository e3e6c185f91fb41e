package io.shadowml.deploy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.WindowKind;

/** One read_committed consumer of an output topic from its beginning, accumulating every record committed so far. */
final class CommittedRecords<T extends SpecificRecord> implements AutoCloseable {
    final List<T> all = new ArrayList<>();
    private final Class<T> type;
    private final KafkaConsumer<byte[], byte[]> consumer;

    CommittedRecords(String bootstrap, String topic, Class<T> type) {
        this.type = type;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition()))
                .toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** Reads what has been committed since the last call (one poll). */
    List<T> poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            all.add(AvroCodec.decode(r.value(), type));
        }
        return all;
    }

    /** Reads until three polls in a row (1.5 s) bring nothing new: the first polls may come back empty. */
    List<T> readToEnd() {
        for (int quiet = 0; quiet < 3; ) {
            int before = all.size();
            poll();
            quiet = all.size() > before ? 0 : quiet + 1;
        }
        return all;
    }

    /** Of a report topic: the latest committed CUMULATIVE report, or null. */
    static ComparisonReport latestCumulative(List<ComparisonReport> reports) {
        return reports.stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                .orElse(null);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
