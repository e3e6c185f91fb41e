package io.shadowml.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.core.execution.CheckpointType;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * The whole job with <em>unbounded</em> Kafka sources (as {@code ShadowJob.main} runs it) on a MiniCluster
 * of its own, running until {@link #close} cancels it: for the measurements that need a job that is still
 * running (state size, freshness). Records counts come from the MiniCluster's REST API (the per-vertex
 * {@code read-records} a Flink operator sees in the web UI); checkpoints are triggered and their statistics
 * read through the MiniCluster itself.
 */
final class LiveJob implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MiniCluster flink;
    private final JobID id;
    private final URI rest;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private LiveJob(MiniCluster flink, JobID id, URI rest) {
        this.flink = flink;
        this.id = id;
        this.rest = rest;
    }

    /** Starts a MiniCluster and submits the whole job with unbounded sources; returns once it is submitted. */
    static LiveJob start(BenchRun.Cluster cluster, ShadowJobConfig cfg, Path dir, String name) throws Exception {
        Configuration conf = BenchRun.flinkConfiguration(cluster, dir);
        // The REST API's metrics are fetched from the TaskManager at most this often (default 10 s).
        conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofMillis(500));
        MiniCluster flink = BenchRun.miniCluster(conf, cluster);
        try {
            flink.start();
            JobID id = flink.submitJob(BenchRun.streamGraph(conf, cluster, cfg, BenchRun.wholeJob(cfg, false), name))
                    .get()
                    .getJobID();
            return new LiveJob(flink, id, flink.getRestAddress().get());
        } catch (Exception e) {
            flink.close();
            throw e;
        }
    }

    /** Waits until every task of the job is RUNNING. */
    void awaitRunning(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            AccessExecutionGraph g = graph();
            if (g.getState().isTerminalState()) {
                throw new Verification.Failed("the job ended (" + g.getState() + ") before all its tasks ran"
                        + (g.getFailureInfo() == null
                                ? ""
                                : ": " + g.getFailureInfo().getExceptionAsString()));
            }
            boolean all = true;
            for (AccessExecutionVertex v : g.getAllExecutionVertices()) {
                all &= v.getExecutionState() == ExecutionState.RUNNING;
            }
            if (all) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new Verification.Failed("the job's tasks were not all running after " + timeout);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Records the job vertex whose name is {@code operator} (or whose operator chain starts with it) has
     * received, over all its subtasks: its {@code read-records} in the REST API's job details, as fresh as
     * the metric fetcher (500 ms here).
     */
    long recordsIn(String operator) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(rest.resolve("/jobs/" + id))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET /jobs/" + id + ": HTTP " + r.statusCode() + " " + r.body());
        }
        JsonNode job = JSON.readTree(r.body());
        if (JobStatus.valueOf(job.path("state").asText()).isTerminalState()) {
            AccessExecutionGraph g = graph();
            throw new Verification.Failed("the job ended (" + g.getState() + ") while it should have been running"
                    + (g.getFailureInfo() == null
                            ? ""
                            : ": " + g.getFailureInfo().getExceptionAsString()));
        }
        for (JsonNode v : job.path("vertices")) {
            if (isOperator(v.path("name").asText(), operator)) {
                return v.path("metrics").path("read-records").asLong();
            }
        }
        // The REST API's cached view of a job that has just started can list no vertices yet: nothing received.
        return 0;
    }

    /**
     * Waits until the vertex {@code operator} has received exactly {@code expected} records; fails if it
     * received more, if the job ended, or after {@code timeout} (naming the count it reached).
     */
    void awaitRecordsIn(String operator, long expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long seen;
        while ((seen = recordsIn(operator)) < expected) {
            if (System.nanoTime() > deadline) {
                throw new Verification.Failed(String.format(
                        "%s received %,d records within %s, expected %,d", operator, seen, timeout, expected));
            }
            Thread.sleep(250);
        }
        if (seen != expected) {
            throw new Verification.Failed(
                    String.format("%s received %,d records, expected %,d", operator, seen, expected));
        }
    }

    /** Triggers a full (non-incremental) checkpoint and waits until it is completed; returns its id. */
    long fullCheckpoint(Duration timeout) throws Exception {
        return flink.triggerCheckpoint(id, CheckpointType.FULL).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The checkpoint statistics of the vertex {@code operator} (its whole operator chain, all subtasks) in
     * the completed checkpoint {@code checkpointId}.
     */
    TaskStateStats checkpointedState(long checkpointId, String operator) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            AccessExecutionGraph g = graph();
            AbstractCheckpointStats c =
                    g.getCheckpointStatsSnapshot().getHistory().getCheckpointById(checkpointId);
            if (c != null && c.getStatus() == CheckpointStatsStatus.COMPLETED) {
                for (AccessExecutionJobVertex v : g.getAllVertices().values()) {
                    if (isOperator(v.getName(), operator)) {
                        return c.getTaskStateStats(v.getJobVertexId());
                    }
                }
                throw new IllegalStateException("no vertex " + operator + " in the job");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no statistics of completed checkpoint " + checkpointId);
            }
            Thread.sleep(100);
        }
    }

    /** The whole job's state in the completed checkpoint {@code checkpointId}, in bytes. */
    long checkpointedStateOfJob(long checkpointId) throws Exception {
        return graph().getCheckpointStatsSnapshot()
                .getHistory()
                .getCheckpointById(checkpointId)
                .getStateSize();
    }

    private AccessExecutionGraph graph() throws Exception {
        return flink.getArchivedExecutionGraph(id).get(30, TimeUnit.SECONDS);
    }

    private static boolean isOperator(String vertexName, String operator) {
        return vertexName.equals(operator) || vertexName.startsWith(operator + " ->");
    }

    /** Cancels the job and stops the MiniCluster. */
    @Override
    public void close() throws Exception {
        try {
            flink.cancelJob(id).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Already ended (it failed, and the measurement with it): nothing to cancel.
        } finally {
            flink.close();
        }
    }
}
