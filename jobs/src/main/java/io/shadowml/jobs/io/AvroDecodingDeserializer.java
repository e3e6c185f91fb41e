package io.shadowml.jobs.io;

import java.io.IOException;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes plain Avro binary values into {@link Decoded} records. Anything that does not decode cleanly
 * (exception, trailing bytes, null value) becomes a dead letter instead of an exception, so one bad
 * producer cannot stop the job.
 */
public class AvroDecodingDeserializer<T extends SpecificRecord> implements KafkaRecordDeserializationSchema<Decoded<T>> {
    private static final long serialVersionUID = 1L;

    private final Class<T> recordClass;
    private final TypeInformation<Decoded<T>> producedType;
    private transient SpecificDatumReader<T> reader;
    private transient BinaryDecoder decoder;

    public AvroDecodingDeserializer(Class<T> recordClass, TypeInformation<Decoded<T>> producedType) {
        this.recordClass = recordClass;
        this.producedType = producedType;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded<T>> out) {
        out.collect(decode(record.value(), record.key(), record.topic(), record.partition(), record.offset(),
                record.timestamp()));
    }

    /** Decodes one value; public so that file-based sources share the exact same decoding. */
    public Decoded<T> decode(byte[] value, byte[] key, String topic, int partition, long offset, long timestamp) {
        if (value == null) {
            return Decoded.failed("null value (tombstone)", topic, partition, offset, timestamp, key, null);
        }
        if (reader == null) {
            reader = new SpecificDatumReader<>(recordClass);
        }
        try {
            decoder = DecoderFactory.get().binaryDecoder(value, decoder);
            T decoded = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                return Decoded.failed("undecodable " + recordClass.getSimpleName() + ": trailing bytes after the record",
                        topic, partition, offset, timestamp, key, value);
            }
            return Decoded.ok(decoded, topic, partition, offset, timestamp, value);
        } catch (IOException | RuntimeException e) {
            return Decoded.failed("undecodable " + recordClass.getSimpleName() + ": " + e,
                    topic, partition, offset, timestamp, key, value);
        }
    }

    @Override
    public TypeInformation<Decoded<T>> getProducedType() {
        return producedType;
    }
}
