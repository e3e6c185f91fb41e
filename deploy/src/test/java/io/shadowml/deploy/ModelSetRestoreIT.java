package io.shadowml.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;

/**
 * On deploy/local's standalone cluster (issue 13 §3): a savepoint taken with one model set restores with
 * another. The job runs with the shipped candidate A, is stopped with a savepoint while labels of its
 * requests are still pending, and is resubmitted from it with a YAML that has B (A's graph under another
 * name) instead, effective at the stop. A is retired there: its final report and verdict come once, at its
 * release, with every request before the stop and every one of their labels; B counts exactly the requests
 * from the stop on; the live model, all of them.
 */
class ModelSetRestoreIT extends LocalClusterSupport {
    private static final String BOOTSTRAP = "127.0.0.1:19092";
    private static final String PREFIX = "msr.";
    private static final int REQUESTS = 6_000;
    private static final long SPACING = 5_000;
    private static final long HOUR = 3_600_000L;
    private static final long WINDOW = HOUR / 2;
    private static final long HORIZON = 2 * HOUR;
    private static final String A = "fraud-mlp:2.0.0";
    private static final String B = "fraud-mlp-b:2.0.0";

    @Test
    void aSavepointTakenWithOneModelSetRestoresWithAnother() throws Exception {
        assertTrue(Files.isRegularFile(jobJar), "job jar missing: " + jobJar + " (build the jobs module first)");
        deleteTree(work);
        Files.createDirectories(work);
        Path shipped = deploy.getParent().resolve("models/shipped/fraud/candidate");
        Path folderB = Files.createDirectories(work.resolve("models-b/fraud-mlp-b"));
        Files.copy(shipped.resolve("model.onnx"), folderB.resolve("model.onnx"));
        Files.writeString(
                folderB.resolve("model.json"),
                Files.readString(shipped.resolve("model.json")).replace("\"fraud-mlp\"", "\"fraud-mlp-b\""));

        List<LabelledRequest> rows = timeline();
        long t0 = rows.get(0).request().getEventTime().toEpochMilli();
        long stopAt = t0 + 3 * HOUR + 789;
        long releaseA = Math.floorDiv(stopAt + HORIZON, WINDOW) * WINDOW + 2 * WINDOW;
        assertTrue(t0 + REQUESTS * SPACING > releaseA + 2 * WINDOW, "the requests run past A's release");

        Path withA = itDir.resolve("model-set-a.yaml");
        Files.writeString(withA, config("@MODELS_DIR@/fraud/candidate/model.json", null));
        Path withB = itDir.resolve("model-set-b.yaml");
        Files.writeString(withB, config(folderB.resolve("model.json").toString(), Instant.ofEpochMilli(stopAt)));
        List<Long> pids = new ArrayList<>();
        try {
            script(Duration.ofMinutes(4), "start.sh");
            pids.addAll(pids());
            String job = submit(withA, null);
            step("job " + job + " running with " + A);
            write(rows, Long.MIN_VALUE, stopAt);
            awaitEverythingRead(
                    BOOTSTRAP, "shadowml-model-set-restore", List.of(PREFIX + "requests", PREFIX + "labels"));
            String savepoint = stopWithSavepoint(job, false);
            step("stopped with savepoint " + savepoint);

            job = submit(withB, savepoint);
            step("resumed from the savepoint with " + B + " instead, as job " + job);
            write(rows, stopAt, Long.MAX_VALUE);
            awaitEverythingRead(
                    BOOTSTRAP, "shadowml-model-set-restore", List.of(PREFIX + "requests", PREFIX + "labels"));
            stopWithSavepoint(job, true);
            step("drained");

            List<ComparisonReport> cumulative = new ArrayList<>();
            try (CommittedRecords<ComparisonReport> r =
                    new CommittedRecords<>(BOOTSTRAP, PREFIX + "reports", ComparisonReport.class)) {
                for (ComparisonReport c : r.readToEnd()) {
                    if (c.getWindowKind() == WindowKind.CUMULATIVE) {
                        cumulative.add(c);
                    }
                }
            }
            cumulative.sort(Comparator.comparing(ComparisonReport::getWindowEnd));
            List<Verdict> verdicts;
            try (CommittedRecords<Verdict> v = new CommittedRecords<>(BOOTSTRAP, PREFIX + "verdicts", Verdict.class)) {
                verdicts = new ArrayList<>(v.readToEnd());
            }
            step(cumulative.size() + " cumulative reports, " + verdicts.size() + " verdicts committed");

            long before = 0;
            long labelledBefore = 0;
            long labelled = 0;
            for (LabelledRequest row : rows) {
                boolean early = row.request().getEventTime().toEpochMilli() < stopAt;
                before += early ? 1 : 0;
                labelledBefore += early && row.labelled() ? 1 : 0;
                labelled += row.labelled() ? 1 : 0;
            }
            List<ComparisonReport> finalsOfA = cumulative.stream()
                    .filter(c -> c.getMetrics().containsKey("candidate_final[" + A + "]"))
                    .toList();
            assertEquals(1, finalsOfA.size(), "A's final report comes once");
            ComparisonReport finalOfA = finalsOfA.get(0);
            assertEquals(releaseA, finalOfA.getWindowEnd().toEpochMilli());
            assertEquals((double) stopAt, finalOfA.getMetrics().get("candidate_until[" + A + "]"));
            assertEquals(before, disagreement(finalOfA, A).orElseThrow().getCompared());
            assertEquals(labelledBefore, quality(finalOfA, A).orElseThrow().getLabelled(), "A's labels, none lost");

            ComparisonReport last = cumulative.get(cumulative.size() - 1);
            assertEquals(REQUESTS, last.getCounts().getScored());
            assertEquals(labelled, last.getCounts().getLabelled());
            assertEquals(REQUESTS - before, disagreement(last, B).orElseThrow().getCompared());
            assertEquals(
                    labelled - labelledBefore, quality(last, B).orElseThrow().getLabelled());
            assertEquals((double) stopAt, last.getMetrics().get("candidate_from[" + B + "]"));
            assertTrue(disagreement(last, A).isEmpty(), "A released");
            List<Verdict> finalVerdictsOfA = verdicts.stream()
                    .filter(v -> v.getCandidate().equals(A))
                    .filter(v -> v.getReasons().stream().anyMatch(x -> x.startsWith("final")))
                    .toList();
            assertEquals(1, finalVerdictsOfA.size(), finalVerdictsOfA.toString());
            assertEquals(releaseA, finalVerdictsOfA.get(0).getDecidedAt().toEpochMilli());
            step("A retired at the restore with all its labels, B counted from it");
        } finally {
            stopCluster(pids);
        }
    }

    /**
     * The fraud scenario's requests, one every 5 s of event time, each but every tenth labelled within an
     * hour (inside the 2 h horizon).
     */
    private static List<LabelledRequest> timeline() throws Exception {
        List<LabelledRequest> scenario = ScenarioData.fraud(REQUESTS);
        long t0 = scenario.get(0).request().getEventTime().toEpochMilli();
        List<LabelledRequest> out = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            LabelledRequest row = scenario.get(i);
            long t = t0 + i * SPACING;
            String id = "msr-" + i;
            Request r = Request.newBuilder(row.request())
                    .setRequestId(id)
                    .setEventTime(Instant.ofEpochMilli(t))
                    .build();
            Label l = row.labelled() && i % 10 != 9
                    ? Label.newBuilder()
                            .setRequestId(id)
                            .setLabelTime(Instant.ofEpochMilli(t + 1 + (i * 7919L) % HOUR))
                            .setValue(row.label().getValue())
                            .build()
                    : null;
            out.add(new LabelledRequest(r, l));
        }
        return out;
    }

    /** The requests with event time, and the labels with label time, in [from, until), each topic in time order. */
    private static void write(List<LabelledRequest> rows, long from, long until) throws Exception {
        List<ProducerRecord<byte[], byte[]>> requests = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> labels = new ArrayList<>();
        for (LabelledRequest row : rows) {
            byte[] key = row.request().getRequestId().getBytes(StandardCharsets.UTF_8);
            long t = row.request().getEventTime().toEpochMilli();
            if (t >= from && t < until) {
                requests.add(new ProducerRecord<>(PREFIX + "requests", null, t, key, AvroCodec.encode(row.request())));
            }
            long lt = row.labelled() ? row.label().getLabelTime().toEpochMilli() : Long.MIN_VALUE;
            if (row.labelled() && lt >= from && lt < until) {
                labels.add(new ProducerRecord<>(PREFIX + "labels", null, lt, key, AvroCodec.encode(row.label())));
            }
        }
        labels.sort(Comparator.comparingLong(ProducerRecord::timestamp));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BOOTSTRAP);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<byte[], byte[]> r : requests) {
                producer.send(r);
            }
            for (ProducerRecord<byte[], byte[]> r : labels) {
                producer.send(r);
            }
            producer.flush();
        }
    }

    private static String config(String candidate, Instant effectiveTime) {
        return String.join(
                "\n",
                "experiment_id: model-set-restore",
                "kafka:",
                "  bootstrap_servers: @KAFKA_BOOTSTRAP@",
                "  group_id: shadowml-model-set-restore",
                "  start: earliest",
                "  transactional_id_prefix: shadowml-model-set-restore-tx",
                "  transaction_timeout: 10m",
                "topics:",
                "  requests: " + PREFIX + "requests",
                "  labels: " + PREFIX + "labels",
                "  reports: " + PREFIX + "reports",
                "  verdicts: " + PREFIX + "verdicts",
                "  dead_letter: " + PREFIX + "dead-letter",
                "  control: " + PREFIX + "control",
                "models:",
                "  live: @MODELS_DIR@/fraud/live/model.json",
                "  candidates:",
                "    - " + candidate,
                "  candidate_slots: 2",
                effectiveTime == null ? "" : "  effective_time: " + effectiveTime,
                "label_horizon: 2h",
                "report_window: 30m",
                // Nothing in this test is quiet for long; a drain after every partition went idle would never
                // send the final watermark (FLINK-40499, jobs/README "Known limits").
                "event_time: {max_out_of_orderness: 1m, idleness: 10m}",
                "checkpoint_interval: 1s",
                "verdict:",
                "  min_labelled_pairs: 200",
                "");
    }

    private static Optional<Disagreement> disagreement(ComparisonReport r, String candidate) {
        return r.getDisagreement().stream()
                .filter(x -> x.getCandidate().equals(candidate))
                .findFirst();
    }

    private static Optional<ModelQuality> quality(ComparisonReport r, String model) {
        return r.getQuality().stream().filter(x -> x.getModel().equals(model)).findFirst();
    }
}
