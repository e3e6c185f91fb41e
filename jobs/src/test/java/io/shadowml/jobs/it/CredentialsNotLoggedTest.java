package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;

/**
 * A run of the whole job whose Kafka properties carry a SASL password and a truststore password: nothing
 * any component logs at INFO and above (the level production runs at: the job, Flink, Kafka's clients,
 * which print every client's configuration) contains either. The broker is PLAINTEXT, so the secrets are
 * configured but unused, which is enough for every client to be created, configured and logged.
 */
class CredentialsNotLoggedTest {
    private static final String SECRET = "pw-7f3c1b9e-never-in-a-log";

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @TempDir
    Path tmp;

    @Test
    void kafkaSecretsNeverReachTheLogs() throws Exception {
        String prefix = "creds-";
        for (String t : List.of("requests", "labels", "reports", "verdicts", "dead-letters")) {
            KAFKA.kafka().createTopic(prefix + t, 1);
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (LabelledRequest e : ScenarioData.fraud(200)) {
            records.add(new ProducerRecord<>(
                    prefix + "requests",
                    null,
                    e.request().getEventTime().toEpochMilli(),
                    e.request().getRequestId().getBytes(StandardCharsets.UTF_8),
                    AvroCodec.encode(e.request())));
        }
        KAFKA.kafka().produce(records);
        Path models = ScenarioData.repoRoot().resolve("models/shipped/fraud");
        Path config = tmp.resolve("creds.yaml");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "experiment_id: creds",
                        "kafka:",
                        "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                        "  properties:",
                        "    sasl.mechanism: SCRAM-SHA-512",
                        "    sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required"
                                + " username=\"shadowml\" password=\"" + SECRET + "\";",
                        "    ssl.truststore.password: " + SECRET,
                        "  start: earliest",
                        "topics:",
                        "  requests: " + prefix + "requests",
                        "  labels: " + prefix + "labels",
                        "  reports: " + prefix + "reports",
                        "  verdicts: " + prefix + "verdicts",
                        "  dead_letter: " + prefix + "dead-letters",
                        "models:",
                        "  live: " + models.resolve("live/model.json"),
                        "  candidates: [" + models.resolve("candidate/model.json") + "]",
                        "checkpoint_interval: 1s",
                        ""));

        String logs = captureLogs(() -> {
            ShadowJobConfig cfg = ShadowJobConfig.load(config);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(2);
            ShadowJob.enableCheckpointing(env, cfg);
            new ShadowJob(cfg, KafkaIO.requestSource(cfg, true), KafkaIO.labelSource(cfg, true), KafkaIO.sinks(cfg))
                    .build(env);
            env.execute("creds");
        });
        // The capture saw the clients being configured (so it would have seen a leak)...
        assertTrue(logs.contains("ConsumerConfig values"), "consumer configuration logged at INFO");
        assertTrue(logs.contains("ProducerConfig values"), "producer configuration logged at INFO");
        assertTrue(logs.contains("sasl.jaas.config"), "the property itself is named in the logs");
        // ...and no secret.
        assertFalse(logs.contains(SECRET), "a Kafka secret was logged:\n" + linesWith(logs, SECRET));
    }

    private interface Run {
        void run() throws Exception;
    }

    /** Everything logged at INFO and above while {@code run} runs, whatever the test log configuration. */
    private static String captureLogs(Run run) throws Exception {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        StringWriter out = new StringWriter();
        WriterAppender appender = WriterAppender.newBuilder()
                .setName("credentials-capture")
                .setTarget(out)
                .setLayout(PatternLayout.newBuilder()
                        .withPattern("%-5level %c - %msg%n%throwable")
                        .build())
                .build();
        appender.start();
        LoggerConfig root = config.getRootLogger();
        Level previous = root.getLevel();
        // The test configuration's own appenders keep printing only what they printed before.
        Map<String, Appender> others = new HashMap<>(root.getAppenders());
        others.keySet().forEach(root::removeAppender);
        others.values().forEach(a -> root.addAppender(a, previous, null));
        root.addAppender(appender, Level.INFO, null);
        root.setLevel(Level.INFO);
        ctx.updateLoggers();
        try {
            run.run();
        } finally {
            root.removeAppender("credentials-capture");
            others.keySet().forEach(root::removeAppender);
            others.values().forEach(a -> root.addAppender(a, null, null));
            root.setLevel(previous);
            ctx.updateLoggers();
            appender.stop();
        }
        return out.toString();
    }

    private static String linesWith(String logs, String s) {
        StringBuilder b = new StringBuilder();
        for (String line : logs.split("\n")) {
            if (line.contains(s)) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }
}
