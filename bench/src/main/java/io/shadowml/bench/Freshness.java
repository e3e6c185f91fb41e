package io.shadowml.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;

import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * {@code --freshness}: how long after a request is appended to the request topic its scored event is
 * appended to the scored-events topic, with the whole job running unbounded and requests arriving live
 * at a fixed rate. Both topics record the broker's append time ({@code message.timestamp.type=LogAppendTime}),
 * so the difference is measured on one clock, the broker's, and includes everything between the two
 * appends: the source's fetch, decoding, validation, the micro-batch wait, both models, the scored-events
 * sink's producer. Every scored event is written ({@code scored_events_sample_rate: 1.0}).
 *
 * <p>Request {@code i} is sent at {@code start + i / rate} with the wall clock as its event time; its label
 * (when {@link BenchData#labelled} says it has one) is sent {@value #LABEL_DELAY_SECONDS} s later, with
 * that moment as label time, so the join receives labels at nearly the request rate, as in a steady state.
 * The requests of the first {@code warmup} are left out of the figures (the sources' first fetches, the
 * first model sessions).
 */
final class Freshness {
    static final int LABEL_DELAY_SECONDS = 5;

    /** One measurement: latencies in ms, over the requests after the warm-up. */
    record Result(
            Scenario scenario,
            StateChoice state,
            int parallelism,
            double targetRate,
            double achievedRate,
            int written,
            int measured,
            long p50,
            long p90,
            long p99,
            long max) {
        String table() {
            return "| scenario | state | parallelism | target req/s | sent req/s | measured requests |"
                    + " p50 ms | p90 ms | p99 ms | max ms |\n"
                    + "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
                    + String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %,.0f | %,.0f | %,d | %d | %d | %d | %d |%n",
                            scenario,
                            state,
                            parallelism,
                            targetRate,
                            achievedRate,
                            measured,
                            p50,
                            p90,
                            p99,
                            max);
        }
    }

    private Freshness() {}

    static Result measure(
            EmbeddedKafka kafka,
            BenchConfig config,
            Scenario scenario,
            BenchRun.Cluster cluster,
            BenchData data,
            int batchSize,
            double rate,
            Duration duration,
            Duration warmup)
            throws Exception {
        String run = "freshness";
        Path dir = Files.createTempDirectory(cluster.workDir(), run + "-");
        String requests = run + "-requests";
        String labels = run + "-labels";
        Map<String, String> appendTime = Map.of("retention.ms", "-1", "message.timestamp.type", "LogAppendTime");
        kafka.createTopic(requests, cluster.parallelism(), appendTime);
        kafka.createTopic(labels, cluster.parallelism(), Map.of("retention.ms", "-1"));
        try {
            ShadowJobConfig cfg = config.write(
                    dir.resolve("shadow-job.yaml"),
                    scenario,
                    kafka.bootstrapServers(),
                    BenchConfig.Topics.of(requests, labels, run),
                    run,
                    batchSize,
                    cluster.checkpointInterval(),
                    1.0);
            BenchRun.createOutputs(kafka, cfg, Map.of("message.timestamp.type", "LogAppendTime"));
            int n = (int) Math.max(1, Math.round(rate * duration.toMillis() / 1000.0));
            int skipped = (int) Math.min(n - 1L, Math.round(rate * warmup.toMillis() / 1000.0));
            double seconds;
            try (LiveJob job = LiveJob.start(cluster, cfg, dir, "shadowml bench " + run)) {
                job.awaitRunning(Duration.ofMinutes(2));
                seconds = produce(kafka, data, requests, labels, n, rate);
                awaitEnd(kafka, cfg.scoredEventsTopic, n, Duration.ofMinutes(2));
            }
            long[] requestAppend = appendTimes(kafka, data, requests, n);
            long[] scoredAppend = appendTimes(kafka, data, cfg.scoredEventsTopic, n);
            long[] latency = new long[n - skipped];
            int missing = 0;
            for (int i = skipped; i < n; i++) {
                if (requestAppend[i] < 0 || scoredAppend[i] < 0) {
                    missing++;
                }
                latency[i - skipped] = scoredAppend[i] - requestAppend[i];
            }
            if (missing > 0) {
                throw new Verification.Failed(String.format(
                        Locale.ROOT, "freshness: %,d of the %,d requests sent have no scored event", missing, n));
            }
            Arrays.sort(latency);
            return new Result(
                    scenario,
                    cluster.state(),
                    cluster.parallelism(),
                    rate,
                    n / seconds,
                    n,
                    latency.length,
                    percentile(latency, 0.50),
                    percentile(latency, 0.90),
                    percentile(latency, 0.99),
                    latency[latency.length - 1]);
        } finally {
            FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
    }

    /** The nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    /** Sends {@code n} requests at {@code rate} per second, each label {@value #LABEL_DELAY_SECONDS} s after its request; returns the seconds it took. */
    private static double produce(
            EmbeddedKafka kafka, BenchData data, String requests, String labels, int n, double rate) {
        Map<String, Object> props = kafka.producerProps();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "shadowml-bench-live");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        AtomicReference<Exception> failure = new AtomicReference<>();
        Callback failed = (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        };
        int lag = (int) Math.round(rate * LABEL_DELAY_SECONDS);
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < n && failure.get() == null; i++) {
                long due = t0 + (long) (i * 1e9 / rate);
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                long now = System.currentTimeMillis();
                producer.send(new ProducerRecord<>(requests, null, now, data.key(i), data.request(i, now)), failed);
                int j = i - lag;
                if (j >= 0 && data.labelled(j)) {
                    producer.send(new ProducerRecord<>(labels, null, now, data.key(j), data.label(j, now)), failed);
                }
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending the live requests failed: " + failure.get(), failure.get());
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Waits until {@code topic} holds at least {@code n} records. */
    private static void awaitEnd(EmbeddedKafka kafka, String topic, int n, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(kafka.consumerProps(null, false))) {
            List<TopicPartition> tps = c.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            long records;
            while ((records = c.endOffsets(tps).values().stream()
                            .mapToLong(Long::longValue)
                            .sum())
                    < n) {
                if (System.nanoTime() > deadline) {
                    throw new Verification.Failed(String.format(
                            Locale.ROOT, "freshness: %,d scored events within %s, expected %,d", records, timeout, n));
                }
                Thread.sleep(200);
            }
        }
    }

    /** Per request index below {@code n}, the first broker append time of a record keyed by its id, or -1. */
    private static long[] appendTimes(EmbeddedKafka kafka, BenchData data, String topic, int n) {
        long[] at = new long[n];
        Arrays.fill(at, -1);
        for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(topic, false, Duration.ofMinutes(2))) {
            if (r.timestampType() != TimestampType.LOG_APPEND_TIME) {
                throw new IllegalStateException(
                        topic + " does not record the broker's append time: " + r.timestampType());
            }
            int i = data.index(new String(r.key(), StandardCharsets.UTF_8));
            if (i >= 0 && i < n && (at[i] < 0 || r.timestamp() < at[i])) {
                at[i] = r.timestamp(); // at-least-once: a duplicate counts from its first append
            }
        }
        return at;
    }
}
