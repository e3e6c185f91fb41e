package io.shadowml.jobs.io.format;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.avro.generic.GenericDatumReader;

import io.shadowml.jobs.io.BoundedDecoder;

/**
 * {@code format: registry-avro}: the schema-registry wire format — magic byte 0, the writer schema's id
 * (4 bytes, big-endian), then the Avro binary record. The writer schema comes from the schema files
 * listed by id in the config, else from the registry; each id is fetched once per subtask. Records are
 * read with their writer schema as generic data (the mapping names the producer's fields), with the same
 * declared-length bound as the job's own Avro ({@link BoundedDecoder}).
 */
public final class RegistryAvroPayload implements PayloadFormat {
    private static final long serialVersionUID = 1L;
    private static final int HEADER = 5;
    /** How long an id the registry did not know stays unknown before it is asked again. */
    private static final long UNKNOWN_ID_RETRY_NANOS = 60_000_000_000L;

    private final Map<Integer, String> schemaFiles;
    private final SchemaRegistryClient registry; // null: files only

    private transient Map<Integer, GenericDatumReader<Object>> readers;
    private transient Map<Integer, UnknownId> unknown;
    private transient BoundedDecoder decoder;

    private static final class UnknownId {
        final String reason;
        final long until;

        UnknownId(String reason, long until) {
            this.reason = reason;
            this.until = until;
        }
    }

    public RegistryAvroPayload(Map<Integer, String> schemaFiles, SchemaRegistryClient registry) {
        this.schemaFiles = new HashMap<>(schemaFiles);
        this.registry = registry;
    }

    @Override
    public Object read(byte[] value) throws IOException {
        if (value.length < HEADER || value[0] != 0) {
            return "not in the schema-registry wire format: "
                    + (value.length < HEADER
                            ? value.length + " bytes, shorter than the 5-byte header"
                            : String.format("first byte 0x%02x, expected the magic byte 0x00", value[0] & 0xFF));
        }
        int id = ((value[1] & 0xFF) << 24) | ((value[2] & 0xFF) << 16) | ((value[3] & 0xFF) << 8) | (value[4] & 0xFF);
        if (id < 0) {
            return "not in the schema-registry wire format: schema id " + Integer.toUnsignedString(id)
                    + " is beyond the registry's ids (at most " + Integer.MAX_VALUE + ")";
        }
        Object reader = reader(id);
        if (reader instanceof String) {
            return reader;
        }
        @SuppressWarnings("unchecked")
        GenericDatumReader<Object> datumReader = (GenericDatumReader<Object>) reader;
        if (decoder == null) {
            decoder = new BoundedDecoder();
        }
        try {
            BoundedDecoder in = decoder.reset(value, HEADER);
            Object record = datumReader.read(null, in);
            return in.isEnd()
                    ? record
                    : "undecodable schema-registry Avro (schema id " + id + "): trailing bytes after the record";
        } catch (IOException | RuntimeException e) {
            return "undecodable schema-registry Avro (schema id " + id + "): " + e;
        }
    }

    /** The reader for one writer schema id, or (a String) why there is none. */
    private Object reader(int id) throws IOException {
        if (readers == null) {
            readers = new HashMap<>();
            unknown = new HashMap<>();
        }
        GenericDatumReader<Object> known = readers.get(id);
        if (known != null) {
            return known;
        }
        UnknownId miss = unknown.get(id);
        if (miss != null && System.nanoTime() < miss.until) {
            return miss.reason;
        }
        String schemaJson = schemaFiles.get(id);
        String problem = null;
        if (schemaJson == null && registry != null) {
            SchemaRegistryClient.Answer answer = registry.schema(id);
            schemaJson = answer.schema;
            problem = answer.problem;
        }
        if (schemaJson == null) {
            String reason = "unknown writer schema id " + id + ": "
                    + (problem != null ? problem : "not among the schema files listed by id in the config");
            unknown.put(id, new UnknownId(reason, System.nanoTime() + UNKNOWN_ID_RETRY_NANOS));
            return reason;
        }
        try {
            GenericDatumReader<Object> reader = new GenericDatumReader<>(new Schema.Parser().parse(schemaJson));
            readers.put(id, reader);
            return reader;
        } catch (SchemaParseException e) {
            String reason = "writer schema id " + id + " is not a valid Avro schema: " + e.getMessage();
            unknown.put(id, new UnknownId(reason, System.nanoTime() + UNKNOWN_ID_RETRY_NANOS));
            return reason;
        }
    }

    @Override
    public String name() {
        return "schema-registry Avro";
    }
}
