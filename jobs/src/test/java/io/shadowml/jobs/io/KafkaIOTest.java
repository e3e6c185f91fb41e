package io.shadowml.jobs.io;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.jobs.ShadowSinks;
import io.shadowml.jobs.config.ShadowJobConfig;

/** Which sinks the job gets from its config (building them does not contact a broker). */
class KafkaIOTest {
    private static final Path SHIPPED =
            Path.of("../models/shipped").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private ShadowJobConfig config(String scoredEventsLine) throws IOException {
        Path f = dir.resolve("shadow-job.yaml");
        Files.writeString(
                f,
                String.join(
                        "\n",
                        "experiment_id: exp",
                        "kafka:",
                        "  bootstrap_servers: localhost:9092",
                        "topics:",
                        "  requests: req",
                        "  labels: lab",
                        "  reports: rep",
                        "  verdicts: ver",
                        "  dead_letter: dlq",
                        scoredEventsLine,
                        "models:",
                        "  live: " + SHIPPED.resolve("fraud/live/model.json"),
                        "  candidates:",
                        "    - " + SHIPPED.resolve("fraud/candidate/model.json"),
                        ""));
        return ShadowJobConfig.load(f);
    }

    @Test
    void scoredEventsWithoutATopicGoToADiscardingSink() throws IOException {
        ShadowSinks sinks = KafkaIO.sinks(config(""));
        assertInstanceOf(DiscardingSink.class, sinks.scoredEvents());
        assertInstanceOf(KafkaSink.class, sinks.reports());
        assertInstanceOf(KafkaSink.class, sinks.verdicts());
        assertInstanceOf(KafkaSink.class, sinks.deadLetters());
    }

    @Test
    void scoredEventsWithATopicGoToKafka() throws IOException {
        assertInstanceOf(
                KafkaSink.class, KafkaIO.sinks(config("  scored_events: sco")).scoredEvents());
    }
}
