package io.shadowml.jobs.io;

import java.io.IOException;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A source's decoding: every Kafka record becomes a {@link Decoded}, the record or a dead letter with the
 * reason, never an exception (one bad producer cannot stop the job). The one exception is an
 * {@link IOException} for a record that cannot be judged at all right now (a schema registry that does not
 * answer): that record is not at fault and must not be dropped.
 */
public abstract class DecodingDeserializer<T> implements KafkaRecordDeserializationSchema<Decoded<T>> {
    private static final long serialVersionUID = 1L;

    private final Class<T> recordClass;
    private final TypeInformation<Decoded<T>> producedType;

    protected DecodingDeserializer(Class<T> recordClass, TypeInformation<Decoded<T>> producedType) {
        this.recordClass = recordClass;
        this.producedType = producedType;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded<T>> out) throws IOException {
        out.collect(decode(
                record.value(), record.key(), record.topic(), record.partition(), record.offset(), record.timestamp()));
    }

    /** Decodes one value; public so that file-based sources share the exact same decoding. */
    public Decoded<T> decode(byte[] value, byte[] key, String topic, int partition, long offset, long timestamp)
            throws IOException {
        if (value == null) {
            return Decoded.failed("null value (tombstone)", topic, partition, offset, timestamp, key, null);
        }
        if (value.length == 0) {
            return Decoded.failed(
                    "empty value (0 bytes), not a " + recordClass.getSimpleName(),
                    topic,
                    partition,
                    offset,
                    timestamp,
                    key,
                    value);
        }
        Object decoded = decodeOrExplain(value, key, timestamp);
        return decoded instanceof String
                ? Decoded.failed((String) decoded, topic, partition, offset, timestamp, key, value)
                : Decoded.ok(recordClass.cast(decoded), topic, partition, offset, timestamp, value);
    }

    /** The record from a non-empty value, or (a String) why the bytes are not one. */
    protected abstract Object decodeOrExplain(byte[] value, byte[] key, long timestamp) throws IOException;

    protected final String typeName() {
        return recordClass.getSimpleName();
    }

    @Override
    public TypeInformation<Decoded<T>> getProducedType() {
        return producedType;
    }
}
