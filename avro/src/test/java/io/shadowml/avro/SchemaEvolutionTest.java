package io.shadowml.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.apache.avro.AvroTypeException;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The evolution rules of avro/README.md, exercised on every contract: a field added with a default
 * is invisible to old readers, and new readers fill it from the default when reading old data.
 */
class SchemaEvolutionTest {

    /** Generic model that maps timestamp-millis to Instant, like the generated classes do. */
    static final GenericData GENERIC = new GenericData();

    static {
        GENERIC.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    }

    static Stream<SpecificRecord> records() {
        return SampleRecords.all().stream();
    }

    @ParameterizedTest
    @MethodSource("records")
    void oldReaderReadsDataWrittenWithAnAddedOptionalField(SpecificRecord record) throws IOException {
        Schema current = record.getSchema();
        Schema newer = withExtraField(current, optionalString("added_later"));

        GenericRecord written = new GenericData.Record(newer);
        for (Schema.Field f : current.getFields()) {
            written.put(f.name(), GENERIC.deepCopy(f.schema(), record.get(f.pos())));
        }
        written.put("added_later", "something new");
        byte[] bytes = writeGeneric(written, newer);

        SpecificRecord read = readSpecific(bytes, newer, record);
        assertEquals(record, read);
    }

    @ParameterizedTest
    @MethodSource("records")
    void newReaderReadsOldDataAndFillsTheDefault(SpecificRecord record) throws IOException {
        Schema current = record.getSchema();
        Schema newer = withExtraField(current, optionalString("added_later"));
        byte[] bytes = ContractRoundTripTest.write(record);

        GenericRecord read = new GenericDatumReader<GenericRecord>(current, newer, GENERIC)
                .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        assertNull(read.get("added_later"));
        for (Schema.Field f : current.getFields()) {
            assertEquals(
                    String.valueOf(GENERIC.deepCopy(f.schema(), record.get(f.pos()))),
                    String.valueOf(read.get(f.name())),
                    f.name());
        }
        assertEquals(
                SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(newer, current)
                        .getType());
        assertEquals(
                SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(current, newer)
                        .getType());
    }

    @Test
    void addingAFieldWithoutDefaultBreaksNewReaders() throws IOException {
        // The rule "new fields need a default" is not a convention only: without one, old data is unreadable.
        Schema current = Verdict.getClassSchema();
        Schema broken = withExtraField(current, new Schema.Field("no_default", Schema.create(Schema.Type.STRING)));
        byte[] bytes = ContractRoundTripTest.write(SampleRecords.verdict());
        assertEquals(
                SchemaCompatibility.SchemaCompatibilityType.INCOMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(broken, current)
                        .getType());
        assertThrows(
                AvroTypeException.class,
                () -> new GenericDatumReader<GenericRecord>(current, broken)
                        .read(null, DecoderFactory.get().binaryDecoder(bytes, null)));
    }

    @Test
    void newMetricInAReportMapReachesOldReaders() throws IOException {
        // Metrics are map entries, so a writer adding one needs no schema change at all.
        ComparisonReport report = SampleRecords.report();
        report.getQuality().get(0).getMetrics().put("new_metric", 0.5);
        ComparisonReport back =
                (ComparisonReport) ContractRoundTripTest.read(ContractRoundTripTest.write(report), report);
        assertEquals(0.5, back.getQuality().get(0).getMetrics().get("new_metric"));
    }

    static Schema.Field optionalString(String name) {
        Schema nullable = Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.STRING));
        return new Schema.Field(name, nullable, "added in a later version", JsonProperties.NULL_VALUE);
    }

    static Schema withExtraField(Schema schema, Schema.Field extra) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(extra);
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    static byte[] writeGeneric(GenericRecord record, Schema schema) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema, GENERIC).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @SuppressWarnings("unchecked")
    static SpecificRecord readSpecific(byte[] bytes, Schema writer, SpecificRecord like) throws IOException {
        return new SpecificDatumReader<SpecificRecord>(writer, like.getSchema())
                .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
    }
}
