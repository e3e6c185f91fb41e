package io.shadowml.jobs.io.format;

import java.io.IOException;

import org.apache.flink.api.common.typeinfo.TypeInformation;

import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.DecodingDeserializer;

/**
 * Reads a topic as its producers write it: the value in its {@link PayloadFormat} (JSON, schema-registry
 * Avro), turned into the job's record by a {@link RecordMapping}. Every failure, of the format or of the
 * mapping, is a dead letter with the reason.
 */
public final class MappedDeserializer<T> extends DecodingDeserializer<T> {
    private static final long serialVersionUID = 1L;

    private final PayloadFormat format;
    private final RecordMapping mapping;

    public MappedDeserializer(
            Class<T> recordClass,
            TypeInformation<Decoded<T>> producedType,
            PayloadFormat format,
            RecordMapping mapping) {
        super(recordClass, producedType);
        this.format = format;
        this.mapping = mapping;
    }

    @Override
    protected Object decodeOrExplain(byte[] value, byte[] key, long timestamp) throws IOException {
        Object root = format.read(value);
        if (root instanceof String) {
            return root;
        }
        try {
            Object mapped = mapping.map(root, key, timestamp);
            return mapped instanceof String ? typeName() + " mapping: " + mapped : mapped;
        } catch (RuntimeException e) {
            // Never expected; but an exception here would be replayed after every restart.
            return typeName() + " mapping failed: " + e;
        }
    }
}
