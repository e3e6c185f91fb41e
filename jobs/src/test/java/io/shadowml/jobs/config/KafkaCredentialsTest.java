package io.shadowml.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials by reference (deploy/kubernetes, production overlay): the job config names a file of a
 * mounted Secret through Kafka's DirectoryConfigProvider, the job passes the reference through untouched,
 * and Kafka's own client configs resolve it where the client is created, so the secret is in neither
 * the ConfigMap nor the job config the job keeps.
 */
class KafkaCredentialsTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryConfigProviderReferenceReachesTheClientsAndIsResolvedThere() throws IOException {
        Path secret = Files.createDirectories(dir.resolve("credentials"));
        String jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"shadowml\""
                + " password=\"s3cr3t-from-the-secret\";";
        Files.writeString(secret.resolve("sasl.jaas.config"), jaas);
        String shipped = "../models/shipped/fraud";
        Path config = dir.resolve("shadow-job.yaml");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "experiment_id: creds",
                        "kafka:",
                        "  bootstrap_servers: localhost:9092",
                        "  properties:",
                        "    security.protocol: SASL_SSL",
                        "    sasl.mechanism: SCRAM-SHA-512",
                        "    config.providers: secrets",
                        "    config.providers.secrets.class:"
                                + " org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                        "    sasl.jaas.config: ${secrets:" + secret + ":sasl.jaas.config}",
                        "topics: {requests: req, labels: lab, reports: rep, verdicts: ver, dead_letter: dlq}",
                        "models:",
                        "  live: " + Path.of(shipped, "live/model.json").toAbsolutePath(),
                        "  candidates: ["
                                + Path.of(shipped, "candidate/model.json").toAbsolutePath() + "]",
                        ""));
        ShadowJobConfig cfg = ShadowJobConfig.load(config);
        assertFalse(cfg.kafkaProperties.toString().contains("s3cr3t"), "the job holds only the reference");

        Properties consumer = cfg.clientProperties();
        consumer.put("bootstrap.servers", cfg.bootstrapServers);
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        assertEquals(
                jaas,
                new ConsumerConfig(consumer)
                        .getPassword(SaslConfigs.SASL_JAAS_CONFIG)
                        .value());
        Properties producer = cfg.clientProperties();
        producer.put("bootstrap.servers", cfg.bootstrapServers);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        assertEquals(
                jaas,
                new ProducerConfig(producer)
                        .getPassword(SaslConfigs.SASL_JAAS_CONFIG)
                        .value());
    }
}
