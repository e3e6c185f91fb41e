package io.shadowml.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.state.rocksdb.RocksDBOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.FileUtils;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;

/**
 * Runs one {@link Variant} over the written data on a Flink MiniCluster of its own, times it from job
 * submission to job finished, and verifies what it did ({@link Verification}). Checkpointing is the job's
 * own ({@link ShadowJob#enableCheckpointing}, exactly-once at the config's interval), to a filesystem
 * checkpoint storage in a temporary folder that is deleted after the run, with the chosen state backend
 * (RocksDB with full checkpoints). No restarts: a failure fails the benchmark instead of being timed.
 */
final class BenchRun {
    /** How long the whole job's last transaction may take to become visible after it finished. */
    private static final Duration COMMIT_PATIENCE = Duration.ofSeconds(60);

    private static final String REQUESTS = "requests";
    private static final String LABELS = "labels";

    /** The settings every run shares. */
    record Cluster(int parallelism, StateChoice state, Duration checkpointInterval, Path workDir) {}

    /** A verified run. */
    record Result(Variant variant, String run, int requests, double seconds, String verified) {
        double requestsPerSecond() {
            return requests / seconds;
        }
    }

    private final EmbeddedKafka kafka;
    private final BenchConfig config;
    private final Scenario scenario;
    private final Cluster cluster;

    BenchRun(EmbeddedKafka kafka, BenchConfig config, Scenario scenario, Cluster cluster) {
        this.kafka = kafka;
        this.config = config;
        this.scenario = scenario;
        this.cluster = cluster;
    }

    /**
     * Runs {@code variant} over {@code data}.
     *
     * @param run a name unique in this benchmark: it names the run's topics, consumer group and transactional ids
     */
    Result run(Variant variant, BenchData.Written data, String run) throws Exception {
        Path dir = Files.createTempDirectory(cluster.workDir(), run + "-");
        try {
            BenchConfig.Topics topics = BenchConfig.Topics.of(data.requestsTopic(), data.labelsTopic(), run);
            int batchSize = variant.isWholeJob() ? variant.batchSize() : config.shippedBatchSize();
            ShadowJobConfig cfg = config.write(
                    dir.resolve("shadow-job.yaml"),
                    scenario,
                    kafka.bootstrapServers(),
                    topics,
                    run,
                    batchSize,
                    cluster.checkpointInterval());
            return variant.isWholeJob()
                    ? wholeJob(variant, data, run, cfg, dir)
                    : ceiling(variant, data, run, cfg, dir);
        } finally {
            FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
    }

    private Result ceiling(Variant variant, BenchData.Written data, String run, ShadowJobConfig cfg, Path dir)
            throws Exception {
        // The job's sources exactly as ShadowJob.build reads them (deserializer, watermarks), then only a
        // count: no validation, scoring, join, windows or sinks.
        Timed t = execute(
                env -> {
                    countAndDiscard(
                            env,
                            KafkaIO.requestSource(cfg, true),
                            ShadowJob.eventTime(cfg, Request::getEventTime),
                            REQUESTS);
                    countAndDiscard(
                            env, KafkaIO.labelSource(cfg, true), ShadowJob.eventTime(cfg, Label::getLabelTime), LABELS);
                },
                cfg,
                dir,
                "shadowml bench " + run);
        String verified = Verification.ceiling(
                run,
                data,
                t.counter(REQUESTS),
                t.counter(CountAndDiscard.undecodable(REQUESTS)),
                t.counter(LABELS),
                t.counter(CountAndDiscard.undecodable(LABELS)));
        return new Result(variant, run, data.requests(), t.seconds(), verified);
    }

    private static <T> void countAndDiscard(
            StreamExecutionEnvironment env,
            Source<Decoded<T>, ?, ?> source,
            WatermarkStrategy<Decoded<T>> watermarks,
            String name) {
        env.fromSource(source, watermarks, name)
                .process(new CountAndDiscard<T>(name))
                .name("count-" + name)
                .sinkTo(new DiscardingSink<>());
    }

    private Result wholeJob(Variant variant, BenchData.Written data, String run, ShadowJobConfig cfg, Path dir)
            throws Exception {
        List<String> outputs = createOutputs(kafka, cfg, Map.of());
        Timed t = execute(wholeJob(cfg, true), cfg, dir, "shadowml bench " + run);
        List<ComparisonReport> reports = kafka.readAllUntil(
                cfg.reportsTopic,
                true,
                r -> AvroCodec.decode(r.value(), ComparisonReport.class),
                rs -> Verification.mismatches(data, Verification.finalCumulative(rs), config.sampled())
                        .isEmpty(),
                COMMIT_PATIENCE);
        String verified = Verification.wholeJob(
                run, cfg.reportsTopic, data, Verification.finalCumulative(reports), config.sampled());
        // Verified: the outputs are of no further use (a failed run ends the benchmark, and the broker with it).
        for (String topic : outputs) {
            kafka.deleteTopic(topic);
        }
        return new Result(variant, run, data.requests(), t.seconds(), verified);
    }

    /**
     * Creates the whole job's four output topics (one partition, kept forever: report timestamps are window
     * ends in the scenario's past), the scored-events topic with {@code scoredConfig} in addition.
     *
     * @return their names
     */
    static List<String> createOutputs(EmbeddedKafka kafka, ShadowJobConfig cfg, Map<String, String> scoredConfig) {
        Map<String, String> keep = Map.of("retention.ms", "-1");
        kafka.createTopic(cfg.reportsTopic, 1, keep);
        kafka.createTopic(cfg.verdictsTopic, 1, keep);
        kafka.createTopic(cfg.deadLetterTopic, 1, keep);
        Map<String, String> scored = new HashMap<>(keep);
        scored.putAll(scoredConfig);
        kafka.createTopic(cfg.scoredEventsTopic, 1, scored);
        if (cfg.controlTopic != null) {
            kafka.createTopic(cfg.controlTopic, 1, Map.of("cleanup.policy", "compact"));
            return List.of(
                    cfg.reportsTopic, cfg.verdictsTopic, cfg.scoredEventsTopic, cfg.deadLetterTopic, cfg.controlTopic);
        }
        return List.of(cfg.reportsTopic, cfg.verdictsTopic, cfg.scoredEventsTopic, cfg.deadLetterTopic);
    }

    /** A finished job: its wall time from submission to finished, and its accumulators. */
    private record Timed(double seconds, JobExecutionResult result) {
        long counter(String name) {
            Long v = result.getAccumulatorResult(name);
            return v == null ? 0 : v;
        }
    }

    /** Builds the pipeline, starts a MiniCluster (not timed), then times the job from submission to finished. */
    private Timed execute(Consumer<StreamExecutionEnvironment> pipeline, ShadowJobConfig cfg, Path dir, String name)
            throws Exception {
        Configuration conf = flinkConfiguration(cluster, dir);
        StreamGraph graph = streamGraph(conf, cluster, cfg, pipeline, name);
        try (MiniCluster flink = miniCluster(conf, cluster)) {
            flink.start();
            long t0 = System.nanoTime();
            JobID id = flink.submitJob(graph).get().getJobID();
            JobExecutionResult result =
                    flink.requestJobResult(id).get().toJobExecutionResult(BenchRun.class.getClassLoader());
            return new Timed((System.nanoTime() - t0) / 1e9, result);
        }
    }

    /** The stream graph of {@code pipeline} at the cluster's parallelism, with the job's own checkpointing. */
    static StreamGraph streamGraph(
            Configuration conf,
            Cluster cluster,
            ShadowJobConfig cfg,
            Consumer<StreamExecutionEnvironment> pipeline,
            String name)
            throws Exception {
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        env.setParallelism(cluster.parallelism());
        ShadowJob.enableCheckpointing(env, cfg);
        pipeline.accept(env);
        StreamGraph graph = PipelineExecutorUtils.getStreamGraph(env.getStreamGraph(), conf);
        graph.setJobName(name);
        graph.serializeUserDefinedInstances();
        return graph;
    }

    /** A MiniCluster (not started) of one TaskManager with a slot per subtask. */
    static MiniCluster miniCluster(Configuration conf, Cluster cluster) {
        return new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(cluster.parallelism())
                .withRandomPorts()
                .build());
    }

    /** The whole job as {@link ShadowJob#main} builds it, with bounded or unbounded Kafka sources. */
    static Consumer<StreamExecutionEnvironment> wholeJob(ShadowJobConfig cfg, boolean bounded) {
        return env -> new ShadowJob(
                        cfg, KafkaIO.requestSource(cfg, bounded), KafkaIO.labelSource(cfg, bounded), KafkaIO.sinks(cfg))
                .withControlSource(cfg.controlTopic == null ? null : KafkaIO.controlSource(cfg, bounded))
                .build(env);
    }

    /** The Flink configuration of every run: state backend, checkpoint storage and RocksDB files in {@code dir}. */
    static Configuration flinkConfiguration(Cluster cluster, Path dir) throws IOException {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, cluster.state().flinkName);
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                dir.resolve("checkpoints").toUri().toString());
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, false);
        // RocksDB's working files (the state itself) go with the run's folder too.
        conf.set(
                RocksDBOptions.LOCAL_DIRECTORIES,
                Files.createDirectories(dir.resolve("rocksdb")).toString());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        // The REST endpoint of the MiniCluster on a free port of the loopback, never 8081.
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        return conf;
    }
}
