package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The demo's Flink configuration ({@link DemoFlinkConfig}) checkpoints keyed state far beyond the 5 MiB
 * that JobManager (in-memory) checkpoint storage accepts per state handle, into the demo's checkpoint
 * directory, which is gone afterwards; and the configuration the demo had before (no checkpoint storage,
 * so Flink's in-memory default) fails on the same job. Issue 10: the label join passed the 5 MiB at about
 * a million pending requests, and the job then restarted from its last checkpoint forever.
 *
 * <p>The job: a generator source keyed over {@value #KEYS} keys, each holding a {@value #VALUE_BYTES}-byte
 * {@code ValueState} (16 MiB in all, about 8 MiB in each of the two subtasks), checkpointed every second.
 * Both runs go through {@link DemoFlinkConfig#environment}, the MiniCluster with web UI the demo runs on,
 * and read the checkpoint statistics from its REST API ({@code /jobs/:id/checkpoints}).
 */
class DemoCheckpointStorageTest {
    static final int KEYS = 16_384;
    static final int VALUE_BYTES = 1_024;
    static final long FIVE_MIB = 5L << 20;
    static final double MIB = 1 << 20;
    /** What JobManager checkpoint storage says when a state handle is over its limit. */
    static final String TOO_LARGE = "larger than the maximum permitted memory-backed state";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void checkpointsBeyondFiveMibCompleteInTheDemoDirectory() throws Exception {
        long t0 = System.nanoTime();
        Path dir;
        try (CheckpointDirectory checkpoints = CheckpointDirectory.create()) {
            dir = checkpoints.path();
            int port = freePort();
            Configuration conf = DemoFlinkConfig.configuration(port, dir);
            assertEquals("filesystem", conf.get(CheckpointingOptions.CHECKPOINT_STORAGE));
            assertEquals(dir.toUri().toString(), conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));

            JobClient job = submit(conf, FAST);
            try {
                // 12 MiB over two subtasks: at least one of them holds more than 5 MiB.
                JsonNode completed = awaitCompleted(port, job, 12L << 20);
                long size = completed.path("state_size").asLong();
                long largestSubtask =
                        largestSubtaskState(port, job, completed.path("id").asLong());
                System.out.printf(
                        "demo config: checkpoint %d COMPLETED after %.1f s, state %.1f MiB (largest subtask %.1f MiB),"
                                + " %d ms end to end, at %s%n",
                        completed.path("id").asLong(),
                        (System.nanoTime() - t0) / 1e9,
                        size / MIB,
                        largestSubtask / MIB,
                        completed.path("end_to_end_duration").asLong(),
                        completed.path("external_path").asText());
                assertEquals("COMPLETED", completed.path("status").asText());
                assertTrue(largestSubtask > FIVE_MIB, "largest subtask state " + largestSubtask);

                // The checkpoint is on disk under the demo's directory, and its files are there.
                Path metadataDir =
                        Path.of(URI.create(completed.path("external_path").asText()));
                assertTrue(metadataDir.startsWith(dir.resolve(job.getJobID().toString())), metadataDir.toString());
                long onDisk = bytesUnder(dir);
                System.out.printf("demo config: %.1f MiB of checkpoint files under %s%n", onDisk / MIB, dir);
                assertTrue(onDisk > FIVE_MIB, "only " + onDisk + " bytes under " + dir);
            } finally {
                cancel(job);
            }
        }
        assertFalse(Files.exists(dir), dir + " is still there after close");
        System.out.printf("demo config: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * What the demo ran on before: the same configuration without checkpoint storage, so Flink's default,
     * checkpoints in the JobManager's memory. Once a subtask's state passes 5 MiB its checkpoints are
     * declined, the job fails over to the last checkpoint that fit and starts over: the loop of issue 10.
     */
    @Test
    void theOldInMemoryDefaultFailsTheSameCheckpoints() throws Exception {
        long t0 = System.nanoTime();
        try (CheckpointDirectory dir = CheckpointDirectory.create();
                CapturedLog declines = new CapturedLog(CheckpointCoordinator.class)) {
            int port = freePort();
            Configuration conf = DemoFlinkConfig.configuration(port, dir.path());
            conf.removeConfig(CheckpointingOptions.CHECKPOINT_STORAGE);
            conf.removeConfig(CheckpointingOptions.CHECKPOINTS_DIRECTORY);

            JobClient job = submit(conf, SLOW);
            try {
                JsonNode stats = JSON.createObjectNode();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
                while (System.nanoTime() < deadline
                        && !(stats.path("counts").path("restored").asLong() > 0 && declines.contains(TOO_LARGE))) {
                    Thread.sleep(250);
                    stats = checkpointStats(port, job);
                }
                JsonNode failed = stats.path("latest").path("failed");
                System.out.printf(
                        "in-memory default after %.1f s: checkpoints %s; checkpoint %d %s (%s)%n",
                        (System.nanoTime() - t0) / 1e9,
                        stats.path("counts"),
                        failed.path("id").asLong(),
                        failed.path("status").asText(),
                        failed.path("failure_message").asText());
                declines.lines().stream()
                        .filter(l -> l.contains(TOO_LARGE))
                        .findFirst()
                        .ifPresent(l -> System.out.println("in-memory default: " + l.substring(l.indexOf("Size of"))));
                assertTrue(declines.contains(TOO_LARGE), "no checkpoint declined for its size: " + declines.lines());
                assertTrue(stats.path("counts").path("restored").asLong() > 0, "the job did not fail over: " + stats);
                for (JsonNode c : stats.path("history")) {
                    if (c.path("status").asText().equals("COMPLETED")) {
                        long largest =
                                largestSubtaskState(port, job, c.path("id").asLong());
                        assertTrue(largest <= FIVE_MIB, "checkpoint " + c.path("id") + " has " + largest + " B");
                    }
                }
            } finally {
                cancel(job);
            }
        }
        System.out.printf("in-memory default: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** Fills all keys within half a second. */
    static final int FAST = 40_000;
    /**
     * Passes 5 MiB in a subtask only after about 2.5 s, so the first checkpoints fit and a failed one has
     * something to fail over to; at {@link #FAST} a slow start let the first checkpoint already be too large,
     * and a job that restarts from nothing shows no restore.
     */
    static final int SLOW = 4_000;

    /**
     * The test job on {@link DemoFlinkConfig#environment}: about 16 MiB of keyed state, filled at
     * {@code keysPerSecond}, checkpoints every 1 s.
     */
    private static JobClient submit(Configuration conf, int keysPerSecond) throws Exception {
        StreamExecutionEnvironment env = DemoFlinkConfig.environment(conf);
        env.enableCheckpointing(1_000);
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(
                i -> i % KEYS, Long.MAX_VALUE, RateLimiterStrategy.perSecond(keysPerSecond), Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "keys")
                .keyBy(k -> k)
                .process(new HoldBytes())
                .sinkTo(new DiscardingSink<>());
        return env.executeAsync("checkpoint storage test");
    }

    /** Keeps {@value #VALUE_BYTES} bytes per key. */
    static final class HoldBytes extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<byte[]> bytes;

        @Override
        public void open(OpenContext context) {
            bytes = getRuntimeContext().getState(new ValueStateDescriptor<>("bytes", byte[].class));
        }

        @Override
        public void processElement(Long key, Context ctx, Collector<Long> out) throws Exception {
            if (bytes.value() == null) {
                byte[] value = new byte[VALUE_BYTES];
                // Not all zeros, in case anything on the way compresses.
                new Random(key).nextBytes(value);
                bytes.update(value);
            }
        }
    }

    private static JsonNode checkpointStats(int port, JobClient job) throws Exception {
        return get(port, "/jobs/" + job.getJobID() + "/checkpoints");
    }

    private static String rootException(int port, JobClient job) throws Exception {
        JsonNode history = get(port, "/jobs/" + job.getJobID() + "/exceptions")
                .path("exceptionHistory")
                .path("entries");
        return history.isEmpty()
                ? "none"
                : history.get(0).path("stacktrace").asText().lines().findFirst().orElse("");
    }

    private static JsonNode get(int port, String path) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            // the job is not registered yet
            return JSON.createObjectNode();
        }
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return JSON.readTree(response.body());
    }

    /** The first completed checkpoint of more than {@code minBytes}, within 40 s. */
    private static JsonNode awaitCompleted(int port, JobClient job, long minBytes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        JsonNode stats = JSON.createObjectNode();
        while (System.nanoTime() < deadline) {
            stats = checkpointStats(port, job);
            JsonNode latest = stats.path("latest").path("completed");
            if (latest.path("state_size").asLong() > minBytes) {
                return latest;
            }
            Thread.sleep(250);
        }
        return fail("no checkpoint of more than " + minBytes + " B completed within 40 s: " + stats);
    }

    /** The largest state of one subtask in checkpoint {@code id}. */
    private static long largestSubtaskState(int port, JobClient job, long id) throws Exception {
        String details = "/jobs/" + job.getJobID() + "/checkpoints/details/" + id;
        long largest = 0;
        for (Iterator<String> vertices = get(port, details).path("tasks").fieldNames(); vertices.hasNext(); ) {
            for (JsonNode subtask :
                    get(port, details + "/subtasks/" + vertices.next()).path("subtasks")) {
                largest = Math.max(largest, subtask.path("state_size").asLong());
            }
        }
        return largest;
    }

    private static void cancel(JobClient job) throws Exception {
        job.cancel().get(30, TimeUnit.SECONDS);
        try {
            job.getJobExecutionResult().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException cancelled) {
            // a cancelled job's result is an exception
        }
    }

    /** The messages (with their exceptions) one class logs at INFO and above while this is open. */
    static final class CapturedLog implements AutoCloseable {
        private final String name;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final AbstractAppender appender;

        CapturedLog(Class<?> logging) {
            name = logging.getName();
            appender = new AbstractAppender("capture-" + name, null, null, true, Property.EMPTY_ARRAY) {
                @Override
                public void append(LogEvent event) {
                    StringBuilder line = new StringBuilder(event.getMessage().getFormattedMessage());
                    for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
                        line.append(" | ").append(t);
                    }
                    lines.add(line.toString());
                }
            };
            appender.start();
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            LoggerConfig logger = new LoggerConfig(name, Level.INFO, false);
            logger.addAppender(appender, Level.INFO, null);
            context.getConfiguration().addLogger(name, logger);
            context.updateLoggers();
        }

        boolean contains(String text) {
            return lines.stream().anyMatch(l -> l.contains(text));
        }

        List<String> lines() {
            return List.copyOf(lines);
        }

        @Override
        public void close() {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            context.getConfiguration().removeLogger(name);
            context.updateLoggers();
            appender.stop();
        }
    }

    /** Bytes of all files under {@code dir}; a checkpoint subsumed meanwhile is skipped on a second walk. */
    private static long bytesUnder(Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(Files::isRegularFile)
                        .mapToLong(f -> {
                            try {
                                return Files.size(f);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        })
                        .sum();
            } catch (UncheckedIOException subsumed) {
                if (attempt == 5) {
                    throw subsumed.getCause();
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
