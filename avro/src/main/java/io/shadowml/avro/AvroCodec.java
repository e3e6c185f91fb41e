package io.shadowml.avro;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Plain Avro binary, the default format of every topic the job reads and writes.
 *
 * <p>Writers, readers and the encoder/decoder are built once per record class and thread and reused:
 * building a {@link SpecificDatumWriter} resolves the schema, which costs far more than encoding one
 * small record.
 */
public final class AvroCodec<T extends SpecificRecord> {
    private static final ClassValue<ThreadLocal<AvroCodec<?>>> PER_CLASS = new ClassValue<>() {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        protected ThreadLocal<AvroCodec<?>> computeValue(Class<?> type) {
            return ThreadLocal.withInitial(() -> new AvroCodec(type));
        }
    };

    private final SpecificDatumWriter<T> writer;
    private final SpecificDatumReader<T> reader;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    private BinaryEncoder encoder;
    private BinaryDecoder decoder;

    private AvroCodec(Class<T> type) {
        this.writer = new SpecificDatumWriter<>(type);
        this.reader = new SpecificDatumReader<>(type);
    }

    /** A codec of its own for one record class; not thread-safe. */
    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type);
    }

    public byte[] write(T record) {
        try {
            buffer.reset();
            encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
            writer.write(record, encoder);
            encoder.flush();
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public T read(byte[] bytes) {
        try {
            decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
            return reader.read(null, decoder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Encodes with the calling thread's codec of the record's class. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> byte[] encode(T record) {
        return ((AvroCodec<T>) PER_CLASS.get(record.getClass()).get()).write(record);
    }

    /** Decodes with the calling thread's codec of {@code type}. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type) {
        return ((AvroCodec<T>) PER_CLASS.get(type).get()).read(bytes);
    }
}
