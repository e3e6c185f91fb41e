package io.shadowml.deploy;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.shadowml.avro.Label;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.avro.AvroCodec;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;

/**
 * Replays the fraud holdout scenario into a running cluster's input topics on a compressed clock:
 * requests at their event_time, labels at their label_time (hours to days later), the whole
 * timeline squeezed into {@code --duration}, each record stamped with its event time. Every
 * {@code --bad-every}th request is followed by a record that is not Avro (dead-lettered by the job),
 * and one garbage label is sent too.
 *
 * <p>Writes a summary ({@code --summary}, Java properties) the cluster IT compares the job's reports
 * with: valid_requests, bad_requests, labels, bad_labels.
 *
 * <pre>java -cp ... io.shadowml.deploy.ScenarioReplay --config work/shadow-job.yaml --events 3000 --duration 20s</pre>
 */
public final class ScenarioReplay {
    private ScenarioReplay() {}

    private record Item(long time, String topic, String key, byte[] value) {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        ShadowJobConfig cfg = ShadowJobConfig.load(Path.of(args.get("config")));
        int events = args.getInt("events", 3000);
        Duration wall = Duration.ofSeconds(Long.parseLong(args.get("duration", "20s").replaceAll("s$", "")));
        int badEvery = args.getInt("bad-every", 500);
        Path csv = Path.of(args.get("csv", ScenarioData.repoRoot().resolve("models/data/fraud/holdout.csv").toString()));

        List<LabelledRequest> data = ScenarioData.fraud(csv, events);
        List<Item> timeline = new ArrayList<>();
        long validRequests = 0, badRequests = 0, labels = 0, badLabels = 0;
        for (int i = 0; i < data.size(); i++) {
            LabelledRequest e = data.get(i);
            long t = e.request().getEventTime().toEpochMilli();
            String id = e.request().getRequestId();
            timeline.add(new Item(t, cfg.requestsTopic, id, AvroCodec.encode(e.request())));
            validRequests++;
            if (e.labelled()) {
                Label l = e.label();
                timeline.add(new Item(l.getLabelTime().toEpochMilli(), cfg.labelsTopic, id, AvroCodec.encode(l)));
                labels++;
            }
            if (badEvery > 0 && i % badEvery == badEvery / 2) {
                timeline.add(new Item(t, cfg.requestsTopic, "garbage-" + i,
                        ("not avro " + i).getBytes(StandardCharsets.UTF_8)));
                badRequests++;
            }
            if (badEvery > 0 && i == badEvery / 2) {
                timeline.add(new Item(t + 1, cfg.labelsTopic, "garbage-label-" + i,
                        ("not a label " + i).getBytes(StandardCharsets.UTF_8)));
                badLabels++;
            }
        }
        timeline.sort(Comparator.comparingLong(Item::time));
        long t0 = timeline.get(0).time();
        long span = Math.max(1, timeline.get(timeline.size() - 1).time() - t0);
        double wallPerEventMs = (double) wall.toMillis() / span;
        System.out.printf("replaying %d records (%d requests, %d labels) spanning %.1f h of event time in %d s%n",
                timeline.size(), validRequests + badRequests, labels + badLabels, span / 3.6e6, wall.toSeconds());

        Properties p = cfg.clientProperties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap", cfg.bootstrapServers));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Item it : timeline) {
                long dueNanos = start + (long) ((it.time() - t0) * wallPerEventMs * 1e6);
                long sleep = dueNanos - System.nanoTime();
                if (sleep > 1_000_000) {
                    Thread.sleep(sleep / 1_000_000);
                }
                producer.send(new ProducerRecord<>(it.topic(), null, it.time(),
                        it.key().getBytes(StandardCharsets.UTF_8), it.value()));
            }
            producer.flush();
        }
        System.out.printf("replay done in %.1f s%n", (System.nanoTime() - start) / 1e9);

        Properties summary = new Properties();
        summary.setProperty("valid_requests", Long.toString(validRequests));
        summary.setProperty("bad_requests", Long.toString(badRequests));
        summary.setProperty("labels", Long.toString(labels));
        summary.setProperty("bad_labels", Long.toString(badLabels));
        summary.setProperty("first_time_ms", Long.toString(t0));
        summary.setProperty("last_time_ms", Long.toString(t0 + span));
        String out = args.get("summary", null);
        if (out != null) {
            write(Path.of(out), summary);
        }
        summary.forEach((k, v) -> System.out.println("SUMMARY " + k + "=" + v));
    }

    private static void write(Path file, Properties summary) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(file)) {
            summary.store(w, "ScenarioReplay");
        }
    }
}
