package io.shadowml.jobs.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Decodes Avro values into {@link Decoded} records. Two wire formats are accepted:
 * <ul>
 *   <li><b>Avro single-object encoding</b> (header {@code C3 01} + the writer schema's fingerprint), the
 *       way to evolve producers: the writer schema is looked up among the job's own and the configured
 *       {@code writer_schemas}, and resolved to the job's schema by Avro's rules.</li>
 *   <li><b>Plain Avro binary</b> of exactly the job's schema version (no header). Our contracts' first
 *       byte is a union index (0x00 or 0x02), so it is never mistaken for the header.</li>
 * </ul>
 * Anything that does not decode cleanly (exception, unknown writer schema, trailing bytes, null or empty
 * value, a declared length larger than the record: {@link BoundedDecoder}) becomes a dead letter instead of
 * an exception, so one bad producer cannot stop the job.
 */
public class AvroDecodingDeserializer<T extends SpecificRecord> extends DecodingDeserializer<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> recordClass;
    /** Writer schemas (JSON) besides the job's own that single-object encoded records may use. */
    private final List<String> writerSchemas;

    private transient SpecificDatumReader<T> reader;
    private transient Map<Long, SpecificDatumReader<T>> readersByFingerprint;
    private transient BoundedDecoder decoder;

    public AvroDecodingDeserializer(
            Class<T> recordClass, TypeInformation<Decoded<T>> producedType, List<String> writerSchemas) {
        super(recordClass, producedType);
        this.recordClass = recordClass;
        this.writerSchemas = new ArrayList<>(writerSchemas);
    }

    @Override
    protected Object decodeOrExplain(byte[] value, byte[] key, long timestamp) {
        String type = typeName();
        boolean singleObject = isSingleObjectEncoded(value);
        SpecificDatumReader<T> datumReader = singleObject ? readers().get(fingerprint(value)) : plainReader();
        if (datumReader == null) {
            return "undecodable " + type + ": unknown writer schema (fingerprint "
                    + String.format("%016x", fingerprint(value))
                    + "); list its .avsc under writer_schemas in the job config";
        }
        try {
            if (decoder == null) {
                decoder = new BoundedDecoder();
            }
            BoundedDecoder in = decoder.reset(value, singleObject ? SINGLE_OBJECT_HEADER : 0);
            T decoded = datumReader.read(null, in);
            if (in.isEnd()) {
                return decoded;
            }
            return singleObject
                    ? "undecodable " + type + " (single-object encoding): trailing bytes after the record"
                    : "undecodable " + type + ": trailing bytes after the record (plain Avro must be written with"
                            + " the job's schema version; evolving producers send single-object encoding)";
        } catch (IOException | RuntimeException e) {
            return "undecodable " + type + (singleObject ? " (single-object encoding): " : ": ") + e;
        }
    }

    /** Avro single-object encoding: C3 01, then the writer schema's 64-bit parsing fingerprint (little-endian). */
    private static final int SINGLE_OBJECT_HEADER = 10;

    static boolean isSingleObjectEncoded(byte[] value) {
        return value.length >= SINGLE_OBJECT_HEADER && value[0] == (byte) 0xC3 && value[1] == (byte) 0x01;
    }

    private static long fingerprint(byte[] value) {
        long f = 0;
        for (int i = SINGLE_OBJECT_HEADER - 1; i >= 2; i--) {
            f = (f << 8) | (value[i] & 0xFF);
        }
        return f;
    }

    private SpecificDatumReader<T> plainReader() {
        if (reader == null) {
            reader = new SpecificDatumReader<>(recordClass);
        }
        return reader;
    }

    /** The job's own schema and every configured writer schema of this record type, by fingerprint. */
    private Map<Long, SpecificDatumReader<T>> readers() {
        if (readersByFingerprint == null) {
            SpecificData model = SpecificData.getForClass(recordClass);
            Schema readerSchema = model.getSchema(recordClass);
            Map<Long, SpecificDatumReader<T>> byFingerprint = new HashMap<>();
            byFingerprint.put(
                    SchemaNormalization.parsingFingerprint64(readerSchema),
                    new SpecificDatumReader<>(readerSchema, readerSchema, model));
            for (String json : writerSchemas) {
                Schema writer = new Schema.Parser().parse(json);
                if (writer.getFullName().equals(readerSchema.getFullName())) {
                    byFingerprint.putIfAbsent(
                            SchemaNormalization.parsingFingerprint64(writer),
                            new SpecificDatumReader<>(writer, readerSchema, model));
                }
            }
            readersByFingerprint = byFingerprint;
        }
        return readersByFingerprint;
    }
}
