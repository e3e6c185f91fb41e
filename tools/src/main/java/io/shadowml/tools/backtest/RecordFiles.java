package io.shadowml.tools.backtest;

import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The backtest's output files. For each output NAME there are two files with the same records in the same
 * order:
 * <ul>
 *   <li>{@code NAME.avro}: an Avro object container file (schema embedded);</li>
 *   <li>{@code NAME.jsonl}: one record per line in Avro's JSON encoding of the same schema (unions as
 *       {"type": value}, timestamp-millis as epoch-millisecond numbers, bytes as ISO-8859-1 strings,
 *       NaN/Infinity as the strings "NaN"/"Infinity"/"-Infinity"); read it back with
 *       {@link #readJsonLines} (Avro's own JsonDecoder reads it too, except for those non-finite strings).</li>
 * </ul>
 * The sink writes per-subtask Avro part files; {@link #finish} merges them in a fixed order.
 */
public final class RecordFiles {
    private RecordFiles() {}

    static String partPrefix(String name) {
        return name + ".part-";
    }

    /** Merges {@code NAME.part-*.avro} in {@code dir} into NAME.avro and NAME.jsonl, sorted; deletes the parts. */
    public static <T extends SpecificRecord> List<T> finish(Path dir, String name, Class<T> type, Comparator<T> order)
            throws IOException {
        List<T> all = new ArrayList<>();
        List<Path> parts = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, partPrefix(name) + "*.avro")) {
            ds.forEach(parts::add);
        }
        for (Path p : parts) {
            all.addAll(readAvro(p, type));
        }
        all.sort(order);
        Schema schema = schemaOf(type);
        try (DataFileWriter<T> w = new DataFileWriter<>(new SpecificDatumWriter<>(type))) {
            w.create(schema, dir.resolve(name + ".avro").toFile());
            for (T t : all) {
                w.append(t);
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(name + ".jsonl"), StandardCharsets.UTF_8)) {
            for (T t : all) {
                w.write(toJson(t));
                w.write('\n');
            }
        }
        for (Path p : parts) {
            Files.delete(p);
        }
        return all;
    }

    public static <T extends SpecificRecord> List<T> readAvro(Path file, Class<T> type) throws IOException {
        List<T> out = new ArrayList<>();
        try (DataFileReader<T> r = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(type))) {
            r.forEach(out::add);
        }
        return out;
    }

    /**
     * Reads a NAME.jsonl file back. Avro 1.12's own JsonDecoder rejects the strings "NaN" / "Infinity" its
     * JsonEncoder writes for non-finite doubles (report metrics can be NaN), so this reads each line with
     * Jackson, guided by the schema, and converts through Avro binary.
     */
    public static <T extends SpecificRecord> List<T> readJsonLines(Path file, Class<T> type) throws IOException {
        List<T> out = new ArrayList<>();
        Schema schema = schemaOf(type);
        ObjectMapper mapper = new ObjectMapper();
        GenericDatumWriter<Object> writer = new GenericDatumWriter<>(schema);
        SpecificDatumReader<T> reader = new SpecificDatumReader<>(type);
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            Object generic = fromJson(mapper.readTree(line), schema);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
            writer.write(generic, enc);
            enc.flush();
            out.add(reader.read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null)));
        }
        return out;
    }

    private static Object fromJson(JsonNode n, Schema s) throws IOException {
        switch (s.getType()) {
            case RECORD: {
                GenericData.Record r = new GenericData.Record(s);
                for (Schema.Field f : s.getFields()) {
                    JsonNode v = n.get(f.name());
                    r.put(f.pos(), v == null ? GenericData.get().getDefaultValue(f) : fromJson(v, f.schema()));
                }
                return r;
            }
            case ENUM:
                return new GenericData.EnumSymbol(s, n.asText());
            case ARRAY: {
                List<Object> l = new ArrayList<>();
                for (JsonNode e : n) {
                    l.add(fromJson(e, s.getElementType()));
                }
                return l;
            }
            case MAP: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    m.put(e.getKey(), fromJson(e.getValue(), s.getValueType()));
                }
                return m;
            }
            case UNION: {
                if (n.isNull()) {
                    return null;
                }
                Map.Entry<String, JsonNode> e = n.fields().next();
                for (Schema branch : s.getTypes()) {
                    if (branch.getFullName().equals(e.getKey())
                            || branch.getName().equals(e.getKey())) {
                        return fromJson(e.getValue(), branch);
                    }
                }
                throw new IOException("no union branch " + e.getKey() + " in " + s);
            }
            case STRING:
                return n.asText();
            case BYTES:
                return ByteBuffer.wrap(n.asText().getBytes(StandardCharsets.ISO_8859_1));
            case INT:
                return n.asInt();
            case LONG:
                return n.asLong();
            case FLOAT:
                return (float) number(n);
            case DOUBLE:
                return number(n);
            case BOOLEAN:
                return n.asBoolean();
            case NULL:
                return null;
            default:
                throw new IOException("unsupported schema type " + s.getType());
        }
    }

    private static double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : Double.parseDouble(n.asText()); // "NaN", "Infinity", "-Infinity"
    }

    /** One record in Avro's JSON encoding, on one line. */
    public static String toJson(SpecificRecord record) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            JsonEncoder enc = EncoderFactory.get().jsonEncoder(record.getSchema(), out, false);
            new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, enc);
            enc.flush();
            return out.toString(StandardCharsets.UTF_8).replace("\n", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Schema schemaOf(Class<? extends SpecificRecord> type) {
        try {
            return (Schema) type.getMethod("getClassSchema").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type + " is not a generated Avro record", e);
        }
    }
}
