package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;

/**
 * One run of the whole job over topics of its own on a real broker, in the test's MiniCluster: the
 * requests and labels are produced as the given bytes, the job reads them to their end (bounded) and
 * its committed outputs are read back. {@code inputs} is appended to the config as is (an inputs
 * section, or further top-level keys).
 */
final class JobRun {
    /** A record that must come back as a dead letter whose reason contains {@code reason}. */
    record Misfit(ProducerRecord<byte[], byte[]> record, String reason) {}

    final EmbeddedKafka kafka;
    final Path tmp;
    final String name;
    final String inputs;
    final Function<Request, byte[]> requestBytes;
    final Function<Label, byte[]> labelBytes;
    String horizon = "14d";
    /** models.live: the live descriptor's path, or a logged live model's mapping. */
    String live = ScenarioData.repoRoot()
            .resolve("models/shipped/fraud/live/model.json")
            .toString();

    ShadowJobConfig config;

    JobRun(
            EmbeddedKafka kafka,
            Path tmp,
            String name,
            String inputs,
            Function<Request, byte[]> requestBytes,
            Function<Label, byte[]> labelBytes) {
        this.kafka = kafka;
        this.tmp = tmp;
        this.name = name;
        this.inputs = inputs;
        this.requestBytes = requestBytes;
        this.labelBytes = labelBytes;
    }

    String topic(String kind) {
        return name + "-" + kind;
    }

    ProducerRecord<byte[], byte[]> record(String kind, String key, byte[] value, long timestamp) {
        return new ProducerRecord<>(topic(kind), null, timestamp, key.getBytes(StandardCharsets.UTF_8), value);
    }

    Misfit misfitRequest(String json, long timestamp, String reason) {
        return new Misfit(record("requests", "misfit", json.getBytes(StandardCharsets.UTF_8), timestamp), reason);
    }

    Misfit misfitLabel(byte[] value, long timestamp, String reason) {
        return new Misfit(record("labels", "misfit", value, timestamp), reason);
    }

    void produce(List<LabelledRequest> events, List<Misfit> badRequests, List<Misfit> badLabels) {
        kafka.createTopic(topic("requests"), 3);
        kafka.createTopic(topic("labels"), 2);
        for (String t : List.of("reports", "verdicts", "dead-letters")) {
            kafka.createTopic(topic(t), 1);
        }
        List<ProducerRecord<byte[], byte[]>> requests = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> labels = new ArrayList<>();
        for (LabelledRequest e : events) {
            Request r = e.request();
            requests.add(record(
                    "requests",
                    r.getRequestId(),
                    requestBytes.apply(r),
                    r.getEventTime().toEpochMilli()));
            if (e.labelled()) {
                labels.add(record(
                        "labels",
                        r.getRequestId(),
                        labelBytes.apply(e.label()),
                        e.label().getLabelTime().toEpochMilli()));
            }
        }
        badRequests.forEach(m -> requests.add(m.record()));
        badLabels.forEach(m -> labels.add(m.record()));
        labels.sort(Comparator.comparingLong(ProducerRecord::timestamp)); // in the order they become known
        List<RecordMetadata> sent = new ArrayList<>(kafka.produce(requests));
        sent.addAll(kafka.produce(labels));
        assertEquals(requests.size() + labels.size(), sent.size());
    }

    void execute() throws Exception {
        String yaml = String.join(
                "\n",
                "experiment_id: mapped-" + name,
                "kafka:",
                "  bootstrap_servers: " + kafka.bootstrapServers(),
                "  group_id: mapped-" + name,
                "topics:",
                "  requests: " + topic("requests"),
                "  labels: " + topic("labels"),
                "  reports: " + topic("reports"),
                "  verdicts: " + topic("verdicts"),
                "  dead_letter: " + topic("dead-letters"),
                "models:",
                "  live: " + live,
                "  candidates: [" + ScenarioData.repoRoot().resolve("models/shipped/fraud/candidate/model.json") + "]",
                "label_horizon: " + horizon,
                "report_window: 1d",
                "segment_fields: [region, channel]",
                "event_time: {max_out_of_orderness: 1m, idleness: 5s}",
                "checkpoint_interval: 1s",
                "verdict: {min_labelled_pairs: 200}",
                inputs,
                "");
        Path file = tmp.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        ShadowJobConfig cfg = ShadowJobConfig.load(file);
        config = cfg;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        ShadowJob.enableCheckpointing(env, cfg);
        new ShadowJob(cfg, KafkaIO.requestSource(cfg, true), KafkaIO.labelSource(cfg, true), KafkaIO.sinks(cfg))
                .build(env);
        env.execute("mapped-" + name);
    }

    <T extends SpecificRecord> List<T> readCommitted(
            String kind, Class<T> type, java.util.function.Predicate<List<T>> complete) {
        return kafka.readAllUntil(
                topic(kind), true, r -> AvroCodec.decode(r.value(), type), complete, Duration.ofSeconds(60));
    }

    ComparisonReport finalReport(int scored) {
        return readCommitted(
                        "reports",
                        ComparisonReport.class,
                        rs -> rs.stream()
                                .anyMatch(r -> r.getWindowKind() == WindowKind.CUMULATIVE
                                        && r.getCounts().getScored() == scored))
                .stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                .orElseThrow();
    }
}
