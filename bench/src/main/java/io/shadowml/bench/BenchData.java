package io.shadowml.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.embedded.scenario.LabelledRequest;

/**
 * The benchmark's input, written once to a request and a label topic of the embedded broker (not timed).
 *
 * <p>Request {@code i} (0-based) is scenario row {@code i mod rows} with its own id {@code <scenario>-<i>} and
 * the event time {@code start + i} ms, where start is the first row's event time: 1,000 requests per
 * second of event time, the rate jobs/README sizes the join state for. It gets a label when its row has
 * one and {@code i mod 10 != 9} (about 87 % of the fraud requests, 86 % of the Fashion-MNIST ones; the others
 * expire unlabelled), with the row's label value at event time + the row's label delay, kept within
 * (0, label horizon) so that every label belongs to its request. Requests are written in event-time
 * order, labels in label-time order (as they become known), both keyed by request id with the event or
 * label time as Kafka timestamp and plain Avro binary values: what the replay tool writes.
 */
final class BenchData {
    /** What one {@link #write} put into Kafka: the counts every run is checked against. */
    record Written(String requestsTopic, String labelsTopic, int requests, int labels, double seconds) {
        int unlabelled() {
            return requests - labels;
        }
    }

    private final Scenario scenario;
    private final Request[] requests;
    /** Per row: the label delay in ms, or -1 when the row is never labelled. */
    private final long[] delay;

    private final double[] value;
    private final long start;

    BenchData(Scenario scenario, List<LabelledRequest> rows, Duration labelHorizon) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("scenario " + scenario + " has no rows");
        }
        this.scenario = scenario;
        this.requests = new Request[rows.size()];
        this.delay = new long[rows.size()];
        this.value = new double[rows.size()];
        this.start = rows.get(0).request().getEventTime().toEpochMilli();
        long horizon = labelHorizon.toMillis();
        for (int k = 0; k < rows.size(); k++) {
            LabelledRequest row = rows.get(k);
            requests[k] = row.request();
            if (row.labelled()) {
                long d = row.label().getLabelTime().toEpochMilli()
                        - row.request().getEventTime().toEpochMilli();
                delay[k] = Math.min(Math.max(d, 1), horizon - 1);
                value[k] = row.label().getValue();
            } else {
                delay[k] = -1;
            }
        }
    }

    /** Whether request {@code i} gets a label. */
    boolean labelled(int i) {
        return delay[i % delay.length] >= 0 && i % 10 != 9;
    }

    /** Creates the two topics ({@code partitions} each, kept forever) and writes {@code n} requests and their labels. */
    Written write(EmbeddedKafka kafka, int n, int partitions, String requestsTopic, String labelsTopic) {
        return write(kafka, n, partitions, requestsTopic, labelsTopic, true);
    }

    /**
     * Creates the two topics ({@code partitions} each, kept forever) and writes {@code n} requests, and
     * their labels only when {@code withLabels} (otherwise the label topic stays empty and every request
     * stays pending in the join until its horizon).
     */
    Written write(
            EmbeddedKafka kafka, int n, int partitions, String requestsTopic, String labelsTopic, boolean withLabels) {
        long t0 = System.nanoTime();
        Map<String, String> keepForever = Map.of("retention.ms", "-1");
        kafka.createTopic(requestsTopic, partitions, keepForever);
        kafka.createTopic(labelsTopic, partitions, keepForever);

        Map<String, Object> props = kafka.producerProps();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "shadowml-bench-data");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024);
        AtomicReference<Exception> failure = new AtomicReference<>();
        Callback failed = (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        };
        // A label's (time - start) in the high bits, the request's index in the low 31: sorting these
        // longs sorts the labels by time, ties in request order.
        long[] labels = new long[n];
        int count = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < n && failure.get() == null; i++) {
                int row = i % requests.length;
                long eventTime = start + i;
                // The row's request is re-stamped in place and encoded at once: from here on it is bytes.
                producer.send(
                        new ProducerRecord<>(requestsTopic, null, eventTime, key(i), request(i, eventTime)), failed);
                if (withLabels && labelled(i)) {
                    long relative = eventTime + delay[row] - start;
                    if (relative >= 1L << 32) {
                        throw new IllegalStateException("label times beyond 2^32 ms after the start are not supported");
                    }
                    labels[count++] = relative << 31 | i;
                }
            }
            long[] sorted = Arrays.copyOf(labels, count);
            Arrays.sort(sorted);
            for (int k = 0; k < sorted.length && failure.get() == null; k++) {
                int i = (int) (sorted[k] & Integer.MAX_VALUE);
                long labelTime = start + (sorted[k] >>> 31);
                producer.send(new ProducerRecord<>(labelsTopic, null, labelTime, key(i), label(i, labelTime)), failed);
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "writing the benchmark data to " + requestsTopic + "/" + labelsTopic + " failed: " + failure.get(),
                    failure.get());
        }
        return new Written(requestsTopic, labelsTopic, n, count, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Request {@code i} at {@code eventTime}, encoded: its row's request re-stamped in place (not
     * thread-safe) and encoded at once.
     */
    byte[] request(int i, long eventTime) {
        Request r = requests[i % requests.length];
        r.setRequestId(id(i));
        r.setEventTime(Instant.ofEpochMilli(eventTime));
        return AvroCodec.encode(r);
    }

    /** The label of request {@code i} (its row's value) at {@code labelTime}, encoded. */
    byte[] label(int i, long labelTime) {
        return AvroCodec.encode(Label.newBuilder()
                .setRequestId(id(i))
                .setLabelTime(Instant.ofEpochMilli(labelTime))
                .setValue(value[i % value.length])
                .build());
    }

    /** The id of request {@code i}: {@code <scenario>-<i>}. */
    String id(int i) {
        return scenario + "-" + i;
    }

    /** The index {@code i} of a request id {@link #id} made, or -1 when it is not one. */
    int index(String id) {
        String prefix = scenario + "-";
        if (!id.startsWith(prefix)) {
            return -1;
        }
        try {
            return Integer.parseInt(id.substring(prefix.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The Kafka key of request {@code i} and of its label: the request id in UTF-8. */
    byte[] key(int i) {
        return id(i).getBytes(StandardCharsets.UTF_8);
    }
}
