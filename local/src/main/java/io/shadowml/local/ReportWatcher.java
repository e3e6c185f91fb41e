package io.shadowml.local;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;

/**
 * Follows the committed reports and verdicts, keeping the latest cumulative report and the latest verdict per
 * candidate and, for canary verdicts, arm.
 */
final class ReportWatcher implements Runnable, AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String reportsTopic;
    private volatile boolean running = true;
    volatile ComparisonReport latestCumulative;
    final Map<String, Verdict> latestVerdicts = new HashMap<>();

    ReportWatcher(String bootstrapServers, String reportsTopic, String verdictsTopic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("group.id", "shadowml-demo-watcher");
        p.put("auto.offset.reset", "earliest");
        // Reports are written in Kafka transactions: only committed ones are final.
        p.put("isolation.level", "read_committed");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(reportsTopic, verdictsTopic));
        this.reportsTopic = reportsTopic;
    }

    @Override
    public void run() {
        while (running) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (r.topic().equals(reportsTopic)) {
                    ComparisonReport report = AvroCodec.decode(r.value(), ComparisonReport.class);
                    ComparisonReport current = latestCumulative;
                    if (report.getWindowKind() == WindowKind.CUMULATIVE
                            && (current == null || !report.getWindowEnd().isBefore(current.getWindowEnd()))) {
                        latestCumulative = report;
                    }
                } else {
                    Verdict v = AvroCodec.decode(r.value(), Verdict.class);
                    synchronized (latestVerdicts) {
                        latestVerdicts.put(key(v), v);
                    }
                }
            }
        }
        consumer.close();
    }

    /** A candidate's shadow verdict and its canary verdicts (one per arm it serves) are kept apart. */
    static String key(Verdict v) {
        return v.getArm() == null ? v.getCandidate() : v.getCandidate() + "/canary/" + v.getArm();
    }

    Map<String, Verdict> verdicts() {
        synchronized (latestVerdicts) {
            return new HashMap<>(latestVerdicts);
        }
    }

    @Override
    public void close() {
        running = false;
    }
}
