package io.shadowml.jobs.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes Avro values into {@link Decoded} records. Two wire formats are accepted:
 * <ul>
 *   <li><b>Avro single-object encoding</b> (header {@code C3 01} + the writer schema's fingerprint), the
 *       way to evolve producers: the writer schema is looked up among the job's own and the configured
 *       {@code writer_schemas}, and resolved to the job's schema by Avro's rules.</li>
 *   <li><b>Plain Avro binary</b> of exactly the job's schema version (no header). Our contracts' first
 *       byte is a union index (0x00 or 0x02), so it is never mistaken for the header.</li>
 * </ul>
 * Anything that does not decode cleanly (exception, unknown writer schema, trailing bytes, null value)
 * becomes a dead letter instead of an exception, so one bad producer cannot stop the job.
 */
public class AvroDecodingDeserializer<T extends SpecificRecord>
        implements KafkaRecordDeserializationSchema<Decoded<T>> {
    private static final long serialVersionUID = 1L;

    private final Class<T> recordClass;
    private final TypeInformation<Decoded<T>> producedType;
    /** Writer schemas (JSON) besides the job's own that single-object encoded records may use. */
    private final List<String> writerSchemas;

    private transient SpecificDatumReader<T> reader;
    private transient BinaryDecoder decoder;
    private transient BinaryMessageDecoder<T> messageDecoder;

    public AvroDecodingDeserializer(
            Class<T> recordClass, TypeInformation<Decoded<T>> producedType, List<String> writerSchemas) {
        this.recordClass = recordClass;
        this.producedType = producedType;
        this.writerSchemas = new ArrayList<>(writerSchemas);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded<T>> out) {
        out.collect(decode(
                record.value(), record.key(), record.topic(), record.partition(), record.offset(), record.timestamp()));
    }

    /** Decodes one value; public so that file-based sources share the exact same decoding. */
    public Decoded<T> decode(byte[] value, byte[] key, String topic, int partition, long offset, long timestamp) {
        if (value == null) {
            return Decoded.failed("null value (tombstone)", topic, partition, offset, timestamp, key, null);
        }
        String type = recordClass.getSimpleName();
        if (isSingleObjectEncoded(value)) {
            try {
                return Decoded.ok(messageDecoder().decode(value), topic, partition, offset, timestamp, value);
            } catch (MissingSchemaException e) {
                return Decoded.failed(
                        "undecodable " + type + ": unknown writer schema (" + e.getMessage()
                                + "); list its .avsc under writer_schemas in the job config",
                        topic,
                        partition,
                        offset,
                        timestamp,
                        key,
                        value);
            } catch (IOException | RuntimeException e) {
                return Decoded.failed(
                        "undecodable " + type + " (single-object encoding): " + e,
                        topic,
                        partition,
                        offset,
                        timestamp,
                        key,
                        value);
            }
        }
        if (reader == null) {
            reader = new SpecificDatumReader<>(recordClass);
        }
        try {
            decoder = DecoderFactory.get().binaryDecoder(value, decoder);
            T decoded = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                return Decoded.failed(
                        "undecodable " + type + ": trailing bytes after the record (plain Avro must be"
                                + " written with the job's schema version; evolving producers send single-object encoding)",
                        topic,
                        partition,
                        offset,
                        timestamp,
                        key,
                        value);
            }
            return Decoded.ok(decoded, topic, partition, offset, timestamp, value);
        } catch (IOException | RuntimeException e) {
            return Decoded.failed("undecodable " + type + ": " + e, topic, partition, offset, timestamp, key, value);
        }
    }

    static boolean isSingleObjectEncoded(byte[] value) {
        return value.length >= 10 && value[0] == (byte) 0xC3 && value[1] == (byte) 0x01;
    }

    private BinaryMessageDecoder<T> messageDecoder() {
        if (messageDecoder == null) {
            SpecificData model = SpecificData.getForClass(recordClass);
            Schema readerSchema = model.getSchema(recordClass);
            BinaryMessageDecoder<T> d = new BinaryMessageDecoder<>(model, readerSchema);
            for (String json : writerSchemas) {
                Schema writer = new Schema.Parser().parse(json);
                if (writer.getFullName().equals(readerSchema.getFullName())) {
                    d.addSchema(writer);
                }
            }
            messageDecoder = d;
        }
        return messageDecoder;
    }

    @Override
    public TypeInformation<Decoded<T>> getProducedType() {
        return producedType;
    }
}
