package io.shadowml.tools.verdict;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.shadowml.avro.Verdict;
import io.shadowml.jobs.io.AvroDecodingDeserializer;
import io.shadowml.jobs.io.Decoded;

/**
 * Reads the verdict topic the way a promotion gate must: {@code read_committed} (the job writes verdicts in
 * exactly-once transactions; an aborted one must never count), every partition from its beginning, each
 * {@link #look} up to the end offsets (last stable offsets) taken when it starts, and from where the last look
 * stopped after that. Keeps the latest verdict per key of one experiment; decodes values exactly as the job
 * decodes its inputs ({@link AvroDecodingDeserializer}: plain Avro binary or single-object encoding, no trailing
 * bytes, bounded lengths), and skips, with a warning, whatever does not decode. No consumer group: nothing is
 * committed, every run reads the whole topic.
 */
final class VerdictReader implements AutoCloseable {
    /** The verdicts could not be read (no answer, topic missing, no progress): exit 4. */
    static final class UnreadableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnreadableException(String message) {
            super(message);
        }
    }

    private static final int MAX_WARNINGS = 20;
    private static final Duration MAX_POLL = Duration.ofMillis(200);

    private final String bootstrap;
    private final String topic;
    private final String experiment;
    private final Duration timeout;
    private final PrintWriter err;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDecodingDeserializer<Verdict> decoding =
            new AvroDecodingDeserializer<>(Verdict.class, null, List.of());
    private final Set<TopicPartition> assigned = new HashSet<>();
    private final Map<String, Seen> latest = new HashMap<>();
    private long skipped;

    private record Seen(Verdict verdict, int partition) {}

    /**
     * The consumer settings: {@code clientProperties} (the job config's kafka.properties, then
     * --consumer-property) between the tool's defaults and what the tool must decide itself.
     */
    static Properties consumerProperties(String bootstrap, Properties clientProperties, Duration timeout) {
        Properties p = new Properties();
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "shadowml-verdict");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(ms));
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.min(ms, 30_000)));
        p.putAll(clientProperties);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    VerdictReader(VerdictCommand.Target target, Duration timeout, PrintWriter err) throws UnreadableException {
        this.bootstrap = target.bootstrap();
        this.topic = target.topic();
        this.experiment = target.experiment();
        this.timeout = timeout;
        this.err = err;
        try {
            this.consumer = new KafkaConsumer<>(target.clientProperties());
        } catch (KafkaException e) {
            throw new UnreadableException("cannot create a Kafka consumer for " + bootstrap + ": " + describe(e));
        }
    }

    /** The key a verdict has on the topic: {@code <experiment>/<candidate>}, canary {@code <experiment>/canary/<arm>}. */
    static String key(Verdict v) {
        return v.getExperimentId() + "/" + (v.getArm() == null ? v.getCandidate() : "canary/" + v.getArm());
    }

    /** The latest verdict per key of the experiment, after the looks so far. */
    Map<String, Verdict> latest() {
        Map<String, Verdict> m = new LinkedHashMap<>();
        latest.forEach((k, s) -> m.put(k, s.verdict()));
        return m;
    }

    /** Records skipped because they did not decode. */
    long skipped() {
        return skipped;
    }

    /** Reads every partition up to the end offsets taken now. */
    void look() throws UnreadableException {
        try {
            readToEnd();
        } catch (TimeoutException e) {
            throw new UnreadableException("no answer from Kafka at " + bootstrap + " within "
                    + VerdictCommand.text(timeout) + " (" + describe(e) + ")");
        } catch (KafkaException e) {
            throw new UnreadableException("reading topic " + topic + " at " + bootstrap + " failed: " + describe(e));
        }
    }

    private void readToEnd() throws UnreadableException {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            throw new UnreadableException("topic " + topic + " does not exist at " + bootstrap);
        }
        List<TopicPartition> partitions = infos.stream()
                .map(i -> new TopicPartition(i.topic(), i.partition()))
                .toList();
        List<TopicPartition> fresh =
                partitions.stream().filter(tp -> !assigned.contains(tp)).toList();
        if (!fresh.isEmpty()) {
            consumer.assign(partitions); // keeps the positions of the partitions assigned before
            consumer.seekToBeginning(fresh);
            assigned.addAll(fresh);
        }
        // read_committed: the last stable offsets, so an open transaction is not waited for.
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long progressDeadline = System.nanoTime() + timeout.toNanos();
        long lastPositions = -1;
        while (true) {
            long positions = 0;
            boolean done = true;
            for (TopicPartition tp : partitions) {
                long p = consumer.position(tp, timeout);
                positions += p;
                done &= p >= end.get(tp);
            }
            if (done) {
                return;
            }
            long now = System.nanoTime();
            if (positions > lastPositions) {
                lastPositions = positions;
                progressDeadline = now + timeout.toNanos();
            } else if (now - progressDeadline >= 0) {
                throw new UnreadableException("no progress reading topic " + topic + " at " + bootstrap + " for "
                        + VerdictCommand.text(timeout) + " (end offsets " + end + ")");
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(MAX_POLL)) {
                accept(r);
            }
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        Decoded<Verdict> d;
        try {
            d = decoding.decode(r.value(), r.key(), r.topic(), r.partition(), r.offset(), r.timestamp());
        } catch (IOException e) {
            d = Decoded.failed(e.toString(), r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
        }
        if (d.deadLetter != null) {
            skipped++;
            if (skipped <= MAX_WARNINGS) {
                err.println("verdict: warning: skipped record " + r.topic() + "-" + r.partition() + "@" + r.offset()
                        + ": " + d.deadLetter.getReason());
            } else if (skipped == MAX_WARNINGS + 1) {
                err.println("verdict: warning: further undecodable records are only counted");
            }
            err.flush();
            return;
        }
        Verdict v = d.value;
        if (!experiment.equals(v.getExperimentId())) {
            return;
        }
        String key = key(v);
        Seen old = latest.get(key);
        // One key, one partition: offset order. A verdict keyed otherwise may sit in another partition:
        // then the later evidence wins.
        if (old == null
                || old.partition() == r.partition()
                || !v.getDecidedAt().isBefore(old.verdict().getDecidedAt())) {
            latest.put(key, new Seen(v, r.partition()));
        }
    }

    private static String describe(Throwable e) {
        StringBuilder s = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        for (Throwable c = e.getCause(); c != null && c != e; c = c.getCause()) {
            s.append("; ").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
            if (c.getCause() == c) {
                break;
            }
        }
        return s.toString();
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}
