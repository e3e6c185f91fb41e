package io.shadowml.jobs.io;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.formats.avro.AvroSerializationSchema;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.ShadowSinks;
import io.shadowml.jobs.config.InputsConfig;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.format.MappedDeserializer;

/** The Kafka sources and sinks of the shadow job, built from its config. */
public final class KafkaIO {
    public static final TypeInformation<Decoded<Request>> DECODED_REQUEST = TypeInformation.of(new TypeHint<>() {});
    public static final TypeInformation<Decoded<Label>> DECODED_LABEL = TypeInformation.of(new TypeHint<>() {});
    public static final TypeInformation<Decoded<ModelControl>> DECODED_CONTROL =
            TypeInformation.of(new TypeHint<>() {});

    private KafkaIO() {}

    /**
     * @param bounded read up to the offsets that are the latest when the job starts, then finish
     *                (backfills and tests); otherwise run forever
     */
    public static KafkaSource<Decoded<Request>> requestSource(ShadowJobConfig cfg, boolean bounded) {
        return source(cfg, cfg.requestsTopic, requestDecoding(cfg), bounded);
    }

    /** How request values are decoded: the job's Avro contract, or the configured format and mapping. */
    public static DecodingDeserializer<Request> requestDecoding(ShadowJobConfig cfg) {
        return decoding(cfg.requestInput, Request.class, DECODED_REQUEST, cfg);
    }

    public static DecodingDeserializer<Label> labelDecoding(ShadowJobConfig cfg) {
        return decoding(cfg.labelInput, Label.class, DECODED_LABEL, cfg);
    }

    private static <T extends SpecificRecord> DecodingDeserializer<T> decoding(
            InputsConfig.TopicInput input, Class<T> type, TypeInformation<Decoded<T>> produced, ShadowJobConfig cfg) {
        return input.format == InputsConfig.Format.SHADOWML_AVRO
                ? new AvroDecodingDeserializer<>(type, produced, cfg.writerSchemas)
                : new MappedDeserializer<>(type, produced, input.payload, input.mapping);
    }

    public static KafkaSource<Decoded<Label>> labelSource(ShadowJobConfig cfg, boolean bounded) {
        return source(cfg, cfg.labelsTopic, labelDecoding(cfg), bounded);
    }

    /**
     * The control topic, always from its beginning when the job starts without state: what compaction
     * kept of it is the model table (on a restore, the checkpointed offsets win, as for every source).
     */
    public static KafkaSource<Decoded<ModelControl>> controlSource(ShadowJobConfig cfg, boolean bounded) {
        return source(
                cfg,
                cfg.controlTopic,
                new AvroDecodingDeserializer<>(ModelControl.class, DECODED_CONTROL, List.of()),
                bounded,
                OffsetsInitializer.earliest());
    }

    private static <T> KafkaSource<Decoded<T>> source(
            ShadowJobConfig cfg, String topic, DecodingDeserializer<T> deserializer, boolean bounded) {
        return source(cfg, topic, deserializer, bounded, startingOffsets(cfg));
    }

    private static <T> KafkaSource<Decoded<T>> source(
            ShadowJobConfig cfg,
            String topic,
            DecodingDeserializer<T> deserializer,
            boolean bounded,
            OffsetsInitializer start) {
        KafkaSourceBuilder<Decoded<T>> b = KafkaSource.<Decoded<T>>builder()
                .setBootstrapServers(cfg.bootstrapServers)
                .setProperties(cfg.clientProperties())
                .setProperty("isolation.level", cfg.sourceIsolationLevel())
                .setTopics(topic)
                .setGroupId(cfg.groupId)
                .setStartingOffsets(start)
                .setDeserializer(deserializer);
        if (bounded) {
            b.setBounded(OffsetsInitializer.latest());
        }
        return b.build();
    }

    static OffsetsInitializer startingOffsets(ShadowJobConfig cfg) {
        switch (cfg.start) {
            case LATEST:
                return OffsetsInitializer.latest();
            case TIMESTAMP:
                return OffsetsInitializer.timestamp(cfg.startTimestampMs);
            case COMMITTED:
                return OffsetsInitializer.committedOffsets();
            default:
                return OffsetsInitializer.earliest();
        }
    }

    public static ShadowSinks sinks(ShadowJobConfig cfg) {
        String experiment = cfg.experimentId;
        return new ShadowSinks(
                sink(
                        cfg,
                        cfg.reportsTopic,
                        ComparisonReport.class,
                        r -> utf8(r.getExperimentId()),
                        DeliveryGuarantee.EXACTLY_ONCE,
                        "reports"),
                sink(
                        cfg,
                        cfg.verdictsTopic,
                        Verdict.class,
                        // A canary verdict has a key of its own: the compacted topic keeps both.
                        v -> utf8(
                                v.getArm() == null
                                        ? v.getExperimentId() + "/" + v.getCandidate()
                                        : v.getExperimentId() + "/canary/" + v.getArm()),
                        DeliveryGuarantee.EXACTLY_ONCE,
                        "verdicts"),
                cfg.scoredEventsTopic == null
                        ? new DiscardingSink<>()
                        // Scored events are high volume and keyed by request id: at-least-once is enough.
                        : sink(
                                cfg,
                                cfg.scoredEventsTopic,
                                ScoredEvent.class,
                                e -> utf8(e.getRequestId()),
                                DeliveryGuarantee.AT_LEAST_ONCE,
                                "scored"),
                sink(
                        cfg,
                        cfg.deadLetterTopic,
                        DeadLetter.class,
                        d -> utf8(experiment),
                        DeliveryGuarantee.EXACTLY_ONCE,
                        "dead-letters"));
    }

    private static <T extends SpecificRecord> KafkaSink<T> sink(
            ShadowJobConfig cfg,
            String topic,
            Class<T> type,
            SerializationSchema<T> key,
            DeliveryGuarantee guarantee,
            String idSuffix) {
        Properties props = cfg.clientProperties();
        props.setProperty("transaction.timeout.ms", String.valueOf(cfg.transactionTimeout.toMillis()));
        return KafkaSink.<T>builder()
                .setBootstrapServers(cfg.bootstrapServers)
                .setKafkaProducerConfig(props)
                .setRecordSerializer(KafkaRecordSerializationSchema.<T>builder()
                        .setTopic(topic)
                        .setKeySerializationSchema(key)
                        .setValueSerializationSchema(AvroSerializationSchema.forSpecific(type))
                        .build())
                .setDeliveryGuarantee(guarantee)
                .setTransactionalIdPrefix(cfg.transactionalIdPrefix + "-" + idSuffix)
                .build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
