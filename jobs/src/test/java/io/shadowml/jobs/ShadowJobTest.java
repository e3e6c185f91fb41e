package io.shadowml.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;

/**
 * The event time of the two sources: the record's own time, else the Kafka record timestamp the record
 * carries (a FileSource passes no timestamp of its own: Long.MIN_VALUE).
 */
class ShadowJobTest {
    private static final Path SHIPPED =
            Path.of("../models/shipped").toAbsolutePath().normalize();
    private static final long KAFKA_TS = 1_767_571_000_000L; // 2026-01-05
    private static final long T = KAFKA_TS - 3_766;

    @TempDir
    Path dir;

    private ShadowJobConfig config() throws IOException {
        Path f = dir.resolve("shadow-job.yaml");
        Files.writeString(
                f,
                String.join(
                        "\n",
                        "experiment_id: exp",
                        "kafka:",
                        "  bootstrap_servers: localhost:9092",
                        "topics: {requests: req, labels: lab, reports: rep, verdicts: ver, dead_letter: dlq}",
                        "models:",
                        "  live: " + SHIPPED.resolve("fraud/live/model.json"),
                        "  candidates:",
                        "    - " + SHIPPED.resolve("fraud/candidate/model.json"),
                        ""));
        return ShadowJobConfig.load(f);
    }

    /** Through Java serialization first, as Flink ships the strategy to the task managers. */
    private static <T> TimestampAssigner<Decoded<T>> assigner(WatermarkStrategy<Decoded<T>> strategy) throws Exception {
        return InstantiationUtil.clone(strategy).createTimestampAssigner(null);
    }

    @Test
    void requestsAreAtTheirEventTime() throws Exception {
        TimestampAssigner<Decoded<Request>> a = assigner(ShadowJob.eventTime(config(), Request::getEventTime));
        Request timed = Request.newBuilder()
                .setRequestId("r")
                .setEventTime(Instant.ofEpochMilli(T))
                .setFeatures(Map.of())
                .build();
        Request untimed = Request.newBuilder(timed).setEventTime(null).build();
        assertEquals(T, a.extractTimestamp(Decoded.ok(timed, "req", 0, 0, KAFKA_TS, null), KAFKA_TS));
        assertEquals(KAFKA_TS, a.extractTimestamp(Decoded.ok(untimed, "req", 0, 1, KAFKA_TS, null), KAFKA_TS));
        assertEquals(KAFKA_TS, a.extractTimestamp(Decoded.failed("bad", "req", 0, 2, KAFKA_TS, null, null), KAFKA_TS));
        assertEquals(
                KAFKA_TS, a.extractTimestamp(Decoded.failed("bad", "req", 0, 3, KAFKA_TS, null, null), Long.MIN_VALUE));
    }

    /**
     * A time the validator dead-letters as implausible must not move the watermark either: such a record
     * is placed at its Kafka timestamp, like one without a time.
     */
    @Test
    void implausibleTimesAreAtTheKafkaTimestamp() throws Exception {
        TimestampAssigner<Decoded<Request>> a = assigner(ShadowJob.eventTime(config(), Request::getEventTime));
        for (long bad : new long[] {
            Long.MIN_VALUE,
            0,
            KAFKA_TS / 1000,
            KAFKA_TS * 1000,
            Instant.parse("3000-01-01T00:00:00Z").toEpochMilli(),
            KAFKA_TS + 3_600_001L,
            Long.MAX_VALUE
        }) {
            Request r = Request.newBuilder()
                    .setRequestId("r")
                    .setEventTime(Instant.ofEpochMilli(bad))
                    .build();
            assertEquals(KAFKA_TS, a.extractTimestamp(Decoded.ok(r, "req", 0, 0, KAFKA_TS, null), KAFKA_TS), "" + bad);
        }
        Request edge = Request.newBuilder()
                .setRequestId("r")
                .setEventTime(Instant.ofEpochMilli(KAFKA_TS + 3_600_000L))
                .build();
        assertEquals(
                KAFKA_TS + 3_600_000L, a.extractTimestamp(Decoded.ok(edge, "req", 0, 0, KAFKA_TS, null), KAFKA_TS));
    }

    @Test
    void labelsAreAtTheirLabelTime() throws Exception {
        TimestampAssigner<Decoded<Label>> a = assigner(ShadowJob.eventTime(config(), Label::getLabelTime));
        Label timed = Label.newBuilder()
                .setRequestId("r")
                .setLabelTime(Instant.ofEpochMilli(T + 1))
                .setValue(1)
                .build();
        Label untimed = Label.newBuilder(timed).setLabelTime(null).build();
        assertEquals(T + 1, a.extractTimestamp(Decoded.ok(timed, "lab", 0, 0, KAFKA_TS, null), KAFKA_TS));
        assertEquals(KAFKA_TS, a.extractTimestamp(Decoded.ok(untimed, "lab", 0, 1, KAFKA_TS, null), KAFKA_TS));
        assertEquals(KAFKA_TS, a.extractTimestamp(Decoded.failed("bad", "lab", 0, 2, KAFKA_TS, null, null), KAFKA_TS));
    }

    /**
     * Every operator of the pipeline has a fixed uid, so that a savepoint restores into a changed job
     * (Flink would otherwise derive ids from the graph's shape); and the fault-tolerance settings of the
     * config reach the job.
     */
    @Test
    void everyOperatorHasAFixedUidAndTheFaultToleranceSettingsApply() throws Exception {
        ShadowJobConfig cfg = config();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        ShadowJob.enableCheckpointing(env, cfg);
        new ShadowJob(cfg, KafkaIO.requestSource(cfg, false), KafkaIO.labelSource(cfg, false), KafkaIO.sinks(cfg))
                .build(env);
        StreamGraph graph = env.getStreamGraph();
        List<String> without = new ArrayList<>();
        Set<String> uids = new HashSet<>();
        for (StreamNode n : graph.getStreamNodes()) {
            String uid = n.getTransformationUID();
            if (uid == null) {
                without.add(n.getOperatorName());
            } else {
                assertTrue(uids.add(uid), "uid " + uid + " used twice");
            }
        }
        assertEquals(List.of(), without, "operators without a uid");
        assertTrue(uids.containsAll(List.of("requests-source", "labels-source", "score")), "" + uids);

        assertEquals(128, env.getMaxParallelism());
        assertEquals(
                Duration.ofMinutes(10).toMillis(), env.getCheckpointConfig().getCheckpointTimeout());
        assertEquals(3, env.getCheckpointConfig().getTolerableCheckpointFailureNumber());
        assertEquals("exponential-delay", env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY));
        assertEquals(
                Duration.ofMinutes(1),
                env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF));
    }
}
