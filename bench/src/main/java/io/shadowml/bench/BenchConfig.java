package io.shadowml.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.shadowml.jobs.config.DurationParser;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.config.VerdictMetric;
import io.shadowml.models.ModelDescriptor;

/**
 * The job config of every run: the shipped example config ({@value #SHIPPED}, the reference of a
 * production config) with only what a benchmark run has to change — the embedded broker, the run's own
 * topics, consumer group and transactional ids, the scenario's models and segment fields, the batch size
 * and the checkpoint interval. Everything else (report window, label horizon, event-time tolerances,
 * batching wait, scored-events sample rate, metric shards, verdict settings) is the shipped value; of the
 * verdict's guardrails, those that do not apply to the scenario's task (recall and precision for the
 * multiclass Fashion-MNIST models) are left out.
 */
final class BenchConfig {
    static final String SHIPPED = "jobs/examples/shadow-job.yaml";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Path repoRoot;
    private final ObjectNode shippedTree;
    private final ShadowJobConfig shipped;

    /** The Kafka topics one run reads and writes. */
    record Topics(String requests, String labels, String reports, String verdicts, String scored, String deadLetters) {
        /** The shared input topics and, for a whole-job run, output topics of its own named {@code <run>-<kind>}. */
        static Topics of(String requests, String labels, String run) {
            return new Topics(
                    requests, labels, run + "-reports", run + "-verdicts", run + "-scored", run + "-dead-letters");
        }
    }

    private BenchConfig(Path repoRoot, ObjectNode shippedTree, ShadowJobConfig shipped) {
        this.repoRoot = repoRoot;
        this.shippedTree = shippedTree;
        this.shipped = shipped;
    }

    /** The same, with {@code sample_rate} set in every run's config (null: the shipped value). */
    BenchConfig withSampleRate(Double rate) {
        if (rate == null) {
            return this;
        }
        ObjectNode tree = shippedTree.deepCopy();
        tree.put("sample_rate", rate);
        return new BenchConfig(repoRoot, tree, shipped);
    }

    /**
     * This config with {@code topics.control} set (a control topic of each run's own, empty): the job as it
     * runs when candidates can be announced, its scoring operator with the control input.
     */
    BenchConfig withControlTopic(boolean control) {
        if (!control) {
            return this;
        }
        ObjectNode tree = shippedTree.deepCopy();
        ((ObjectNode) tree.get("topics")).put("control", "per-run");
        return new BenchConfig(repoRoot, tree, shipped);
    }

    /** Whether the runs score a sample of the traffic only. */
    boolean sampled() {
        return shippedTree.path("sample_rate").asDouble(1.0) < 1.0;
    }

    /** Reads (and, through the job's own loader, checks) the shipped config of the repository. */
    static BenchConfig load(Path repoRoot) throws IOException {
        Path file = repoRoot.resolve(SHIPPED);
        ShadowJobConfig shipped = ShadowJobConfig.load(file);
        return new BenchConfig(repoRoot, (ObjectNode) YAML.readTree(file.toFile()), shipped);
    }

    /** {@code batching.max_size} of the shipped config: the default batch size. */
    int shippedBatchSize() {
        return shipped.batchMaxSize;
    }

    /** {@code checkpoint_interval} of the shipped config: the default checkpoint interval. */
    Duration shippedCheckpointInterval() {
        return shipped.checkpointInterval;
    }

    /** {@code label_horizon} of the shipped config, which every run keeps. */
    Duration labelHorizon() {
        return shipped.labelHorizon;
    }

    /**
     * Writes the config of one run to {@code file} and loads it with the job's loader.
     *
     * @param run names the run's consumer group and transactional-id prefix (fresh for every run)
     */
    ShadowJobConfig write(
            Path file,
            Scenario scenario,
            String bootstrap,
            Topics topics,
            String run,
            int batchSize,
            Duration checkpointInterval)
            throws IOException {
        return write(file, scenario, bootstrap, topics, run, batchSize, checkpointInterval, null);
    }

    /**
     * {@link #write(Path, Scenario, String, Topics, String, int, Duration)} with {@code
     * scored_events_sample_rate} set to {@code scoredEventsSampleRate} (null: the shipped value).
     */
    ShadowJobConfig write(
            Path file,
            Scenario scenario,
            String bootstrap,
            Topics topics,
            String run,
            int batchSize,
            Duration checkpointInterval,
            Double scoredEventsSampleRate)
            throws IOException {
        ObjectNode c = shippedTree.deepCopy();
        c.put("experiment_id", "bench-" + scenario);

        ObjectNode kafka = (ObjectNode) c.get("kafka");
        kafka.remove("properties"); // the example's SASL/TLS settings; the embedded broker is PLAINTEXT
        kafka.remove("start_timestamp_ms");
        kafka.put("bootstrap_servers", bootstrap);
        kafka.put("group_id", "shadowml-bench-" + run);
        kafka.put("start", "earliest");
        kafka.put("transactional_id_prefix", "shadowml-bench-" + run);

        ObjectNode t = c.putObject("topics");
        t.put("requests", topics.requests());
        t.put("labels", topics.labels());
        t.put("reports", topics.reports());
        t.put("verdicts", topics.verdicts());
        t.put("dead_letter", topics.deadLetters());
        t.put("scored_events", topics.scored());
        if (shippedTree.path("topics").has("control")) {
            t.put("control", run + "-control");
        }

        ObjectNode models = (ObjectNode) c.get("models");
        Path dir = scenario.models(repoRoot);
        models.put("live", dir.resolve("live/model.json").toString());
        models.putArray("candidates").add(dir.resolve("candidate/model.json").toString());

        ArrayNode segments = c.putArray("segment_fields");
        scenario.segmentFields.forEach(segments::add);
        ((ObjectNode) c.get("batching")).put("max_size", batchSize);
        c.put("checkpoint_interval", DurationParser.format(checkpointInterval));
        if (scoredEventsSampleRate != null) {
            c.put("scored_events_sample_rate", scoredEventsSampleRate);
        }

        ModelDescriptor.Task task =
                ModelDescriptor.load(dir.resolve("live/model.json")).task();
        JsonNode guardrails = c.path("verdict").path("guardrails");
        for (Iterator<Map.Entry<String, JsonNode>> it = guardrails.fields(); it.hasNext(); ) {
            VerdictMetric m = VerdictMetric.fromConfigName(it.next().getKey());
            if (m != null && !m.appliesTo(task)) {
                it.remove();
            }
        }

        YAML.writeValue(file.toFile(), c);
        return ShadowJobConfig.load(file);
    }
}
