package io.shadowml.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.flink.util.FileUtils;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * {@code --cluster}: the whole job submitted to a running standalone Flink cluster (deploy/local) as
 * production submits it — the shaded job jar uploaded ({@code POST /jars/upload}) and run with its main,
 * {@code ShadowJob.main --config <yaml>} ({@code POST /jars/<id>/run}, at the given parallelism), reading the
 * bench's in-process broker on 127.0.0.1. {@code ShadowJob.main} reads its topics unbounded, so the job never
 * finishes: a run is timed from the run request until the {@code join-labels} task has received every
 * request and every label (N + L records), read from the TaskManager's Prometheus reporter (Flink's
 * {@code numRecordsIn} of the task, live at each scrape, not the REST API's 10 s metric fetcher), then
 * the job is cancelled. That leaves out what a bounded run ends with (the windows and label-horizon timers
 * flushed by the final watermark, the final checkpoint's commits), so the figure is comparable between
 * parallelisms on the cluster, not with the MiniCluster's submission-to-finished figure.
 */
final class ClusterRun implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A timed run on the cluster. */
    record Result(String run, int requests, int labels, double seconds, String jobId) {
        double requestsPerSecond() {
            return requests / seconds;
        }
    }

    private final URI rest;
    private final URI metrics;
    private final EmbeddedKafka kafka;
    private final BenchConfig config;
    private final Scenario scenario;
    private final int parallelism;
    private final Duration checkpointInterval;
    private final Path workDir;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String jarId;

    ClusterRun(
            URI rest,
            URI metrics,
            Path jobJar,
            EmbeddedKafka kafka,
            BenchConfig config,
            Scenario scenario,
            int parallelism,
            Duration checkpointInterval,
            Path workDir)
            throws Exception {
        this.rest = rest;
        this.metrics = metrics;
        this.kafka = kafka;
        this.config = config;
        this.scenario = scenario;
        this.parallelism = parallelism;
        this.checkpointInterval = checkpointInterval;
        this.workDir = workDir;
        this.jarId = upload(jobJar);
    }

    /** The job jar of the build: the one {@code jobs/target/shadowml-jobs-*-job.jar}. */
    static Path defaultJobJar(Path repoRoot) throws IOException {
        try (var files = Files.list(repoRoot.resolve("jobs/target"))) {
            List<Path> jars = files.filter(p -> p.getFileName().toString().matches("shadowml-jobs-.*-job\\.jar"))
                    .toList();
            if (jars.size() != 1) {
                throw new IOException(
                        "expected one jobs/target/shadowml-jobs-*-job.jar (build the jobs module), found " + jars);
            }
            return jars.get(0);
        }
    }

    private String upload(Path jar) throws Exception {
        String boundary = "shadowml-" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        JsonNode r = send(HttpRequest.newBuilder(rest.resolve("/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArrays(List.of(head, Files.readAllBytes(jar), tail))));
        String file = r.path("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /** Runs the whole job over {@code data} on the cluster, timed until join-labels received it all. */
    Result run(BenchData.Written data, String run, Duration timeout) throws Exception {
        Path dir = Files.createTempDirectory(workDir, run + "-");
        String jobId = null;
        try {
            ShadowJobConfig cfg = config.write(
                    dir.resolve("shadow-job.yaml"),
                    scenario,
                    kafka.bootstrapServers(),
                    BenchConfig.Topics.of(data.requestsTopic(), data.labelsTopic(), run),
                    run,
                    config.shippedBatchSize(),
                    checkpointInterval);
            List<String> outputs = BenchRun.createOutputs(kafka, cfg, Map.of());
            ObjectNode body = JSON.createObjectNode();
            body.put("entryClass", "io.shadowml.jobs.ShadowJob");
            body.putArray("programArgsList")
                    .add("--config")
                    .add(dir.resolve("shadow-job.yaml").toString());
            body.put("parallelism", parallelism);
            long t0 = System.nanoTime();
            jobId = send(HttpRequest.newBuilder(rest.resolve("/jars/" + jarId + "/run"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString())))
                    .path("jobid")
                    .asText();
            long expected = (long) data.requests() + data.labels();
            long deadline = t0 + timeout.toNanos();
            long seen;
            int polls = 0;
            while ((seen = joinRecordsIn(jobId)) < expected) {
                if (++polls % 10 == 0) {
                    String state = send(HttpRequest.newBuilder(rest.resolve("/jobs/" + jobId))
                                    .GET())
                            .path("state")
                            .asText();
                    if (!state.equals("RUNNING") && !state.equals("CREATED") && !state.equals("INITIALIZING")) {
                        throw new Verification.Failed(run + ": the job is " + state);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new Verification.Failed(String.format(
                            "%s: join-labels received %,d records within %s, expected %,d",
                            run, seen, timeout, expected));
                }
                Thread.sleep(100);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            String id = jobId;
            if (seen != expected) {
                throw new Verification.Failed(
                        String.format("%s: join-labels received %,d records, expected %,d", run, seen, expected));
            }
            jobId = null;
            cancel(id);
            for (String topic : outputs) {
                kafka.deleteTopic(topic);
            }
            return new Result(run, data.requests(), data.labels(), seconds, id);
        } finally {
            if (jobId != null) {
                cancel(jobId);
            }
            FileUtils.deleteDirectoryQuietly(dir.toFile());
        }
    }

    /** The job's join-labels task's numRecordsIn over its subtasks, from the TaskManager's Prometheus reporter. */
    private long joinRecordsIn(String jobId) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(metrics)
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        long sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("flink_taskmanager_job_task_numRecordsIn{")
                    && line.contains("job_id=\"" + jobId + "\"")
                    && line.contains("task_name=\"" + StateSize.JOIN)) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private void cancel(String jobId) throws Exception {
        http.send(
                HttpRequest.newBuilder(rest.resolve("/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            String state = send(HttpRequest.newBuilder(rest.resolve("/jobs/" + jobId))
                            .GET())
                    .path("state")
                    .asText();
            if (state.equals("CANCELED") || state.equals("FAILED") || state.equals("FINISHED")) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("job " + jobId + " not cancelled within 60 s");
    }

    private JsonNode send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> r =
                http.send(request.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(
                    r.request().method() + " " + r.request().uri() + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** Deletes the uploaded jar. */
    @Override
    public void close() throws Exception {
        http.send(
                HttpRequest.newBuilder(rest.resolve("/jars/" + jarId))
                        .DELETE()
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
