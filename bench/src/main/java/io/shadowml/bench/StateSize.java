package io.shadowml.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.util.FileUtils;

import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * {@code --state-size}: what the label join keeps per pending request. N requests and no labels are
 * written; the whole job runs unbounded until its {@code join-labels} operator has received all N scored
 * requests (its {@code read-records} in the REST API), which then all wait for their label (none expires:
 * N requests span N ms of event time, the horizon is 14 days); a full checkpoint is triggered, and the
 * checkpointed state of the {@code join-labels} vertex (its operator chain, every subtask) divided by N is
 * the figure.
 */
final class StateSize {
    /** The join's operator name in the job (its vertex also holds the chained pre-aggregation). */
    static final String JOIN = "join-labels";

    /** One measurement. */
    record Result(
            Scenario scenario,
            StateChoice state,
            int parallelism,
            int pending,
            long joinStateBytes,
            long joinCheckpointedBytes,
            long jobStateBytes,
            double secondsToScore) {
        double bytesPerPendingRequest() {
            return (double) joinStateBytes / pending;
        }

        /** The Markdown table: header, alignment and this row. */
        String table() {
            return "| scenario | state | parallelism | pending requests | join-labels state (bytes) |"
                    + " bytes per pending request | whole job's state (bytes) |\n"
                    + "|---|---|---:|---:|---:|---:|---:|\n"
                    + String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %,d | %,d | %.1f | %,d |%n",
                            scenario,
                            state,
                            parallelism,
                            pending,
                            joinStateBytes,
                            bytesPerPendingRequest(),
                            jobStateBytes);
        }
    }

    private StateSize() {}

    static Result measure(
            EmbeddedKafka kafka,
            BenchConfig config,
            Scenario scenario,
            BenchRun.Cluster cluster,
            BenchData.Written data,
            int batchSize,
            Duration timeout)
            throws Exception {
        if (data.labels() != 0) {
            throw new IllegalArgumentException("the state-size data must have no labels");
        }
        String run = "state-size";
        Path dir = Files.createTempDirectory(cluster.workDir(), run + "-");
        try {
            ShadowJobConfig cfg = config.write(
                    dir.resolve("shadow-job.yaml"),
                    scenario,
                    kafka.bootstrapServers(),
                    BenchConfig.Topics.of(data.requestsTopic(), data.labelsTopic(), run),
                    run,
                    batchSize,
                    cluster.checkpointInterval());
            BenchRun.createOutputs(kafka, cfg, Map.of());
            try (LiveJob job = LiveJob.start(cluster, cfg, dir, "shadowml bench " + run)) {
                long t0 = System.nanoTime();
                job.awaitRunning(Duration.ofMinutes(2));
                // No labels: the join receives exactly the N scored requests, and keeps every one.
                job.awaitRecordsIn(JOIN, data.requests(), timeout);
                double seconds = (System.nanoTime() - t0) / 1e9;
                long checkpoint = job.fullCheckpoint(Duration.ofMinutes(5));
                TaskStateStats join = job.checkpointedState(checkpoint, JOIN);
                // Still exactly N after the checkpoint: nothing arrived late or twice.
                job.awaitRecordsIn(JOIN, data.requests(), Duration.ZERO);
                return new Result(
                        scenario,
                        cluster.state(),
                        cluster.parallelism(),
                        data.requests(),
                        join.getStateSize(),
                        join.getCheckpointedSize(),
                        job.checkpointedStateOfJob(checkpoint),
                        seconds);
            }
        } finally {
            FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
    }
}
