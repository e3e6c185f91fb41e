package io.shadowml.local;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.jobs.io.format.ContractJson;

/**
 * Replays a scenario into the request and label topics on one compressed clock: a request is sent when
 * the clock reaches its event time, its label when the clock reaches the label time, so labels that
 * take days arrive seconds later. A few bad records are mixed in to show the dead-letter path.
 */
final class TimelineReplayer implements Runnable {
    /** What a record is, which decides its topic and what it counts as. */
    enum Kind {
        REQUEST,
        LABEL,
        BAD_REQUEST
    }

    /** One record to send at an event time. */
    record Timed(long time, Kind kind, byte[] key, byte[] value) {}

    private final List<Timed> timeline = new ArrayList<>();
    private final String requestsTopic;
    private final String labelsTopic;
    private final String bootstrapServers;
    private final double speed;
    final long firstTime;
    final long lastTime;
    final long requestCount;
    final AtomicLong sentRequests = new AtomicLong();
    final AtomicLong sentLabels = new AtomicLong();
    final AtomicLong sentBad = new AtomicLong();
    volatile long clock;
    volatile boolean done;

    TimelineReplayer(
            List<LabelledRequest> events,
            String requestsTopic,
            String labelsTopic,
            String bootstrapServers,
            DemoOptions options) {
        this.requestsTopic = requestsTopic;
        this.labelsTopic = labelsTopic;
        this.bootstrapServers = bootstrapServers;
        boolean json = options.format.equals("json");
        Function<Request, byte[]> requestBytes = json ? ContractJson::encode : AvroCodec::encode;
        Function<Label, byte[]> labelBytes = json ? ContractJson::encode : AvroCodec::encode;
        int i = 0;
        for (LabelledRequest e : events) {
            Request r = e.request();
            long t = r.getEventTime().toEpochMilli();
            timeline.add(new Timed(t, Kind.REQUEST, key(r.getRequestId()), requestBytes.apply(r)));
            if (e.labelled()) {
                timeline.add(new Timed(
                        e.label().getLabelTime().toEpochMilli(),
                        Kind.LABEL,
                        key(r.getRequestId()),
                        labelBytes.apply(e.label())));
            }
            if (i % 997 == 500) {
                timeline.add(new Timed(
                        t, Kind.BAD_REQUEST, key("garbage-" + i), ("not avro " + i).getBytes(StandardCharsets.UTF_8)));
            }
            if (i % 1499 == 700) {
                Request broken = Request.newBuilder(r)
                        .setRequestId(r.getRequestId() + "-broken")
                        .build();
                if (broken.getFeatures() != null) {
                    broken.setFeatures(new java.util.HashMap<>(broken.getFeatures()));
                    broken.getFeatures().put("amount", Double.NaN);
                } else {
                    broken.setVector(new ArrayList<>(broken.getVector().subList(0, 100)));
                }
                timeline.add(new Timed(t, Kind.BAD_REQUEST, key(broken.getRequestId()), requestBytes.apply(broken)));
            }
            i++;
        }
        timeline.sort(Comparator.comparingLong(Timed::time));
        this.firstTime = timeline.get(0).time();
        this.lastTime = timeline.get(timeline.size() - 1).time();
        this.requestCount = events.size();
        long lastRequest =
                events.get(events.size() - 1).request().getEventTime().toEpochMilli();
        // Event-time milliseconds per wall-clock millisecond.
        this.speed = Double.isNaN(options.rate)
                ? (double) (lastTime - firstTime) / Math.max(1, options.duration.toMillis())
                : (lastRequest - firstTime) / (events.size() / options.rate * 1000.0);
        this.clock = firstTime;
    }

    double speed() {
        return speed;
    }

    long wallMillis() {
        return (long) ((lastTime - firstTime) / speed);
    }

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void run() {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            long wallStart = System.currentTimeMillis();
            for (Timed t : timeline) {
                long due = wallStart + (long) ((t.time() - firstTime) / speed);
                long wait = due - System.currentTimeMillis();
                if (wait > 0) {
                    producer.flush();
                    Thread.sleep(wait);
                }
                clock = t.time();
                String topic = t.kind() == Kind.LABEL ? labelsTopic : requestsTopic;
                producer.send(new ProducerRecord<>(topic, null, t.time(), t.key(), t.value()));
                switch (t.kind()) {
                    case REQUEST -> sentRequests.incrementAndGet();
                    case LABEL -> sentLabels.incrementAndGet();
                    case BAD_REQUEST -> sentBad.incrementAndGet();
                }
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            done = true;
        }
    }
}
