package io.shadowml.jobs.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Request;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.DecodingDeserializer;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.jobs.io.format.ContractJson;

/**
 * Records per second through the request source's decoding ({@link KafkaIO#requestDecoding}), per input
 * format: the job's Avro contract, the contract's JSON rendering, and schema-registry Avro of a flat
 * producer schema read through a field mapping. The same 4096 fraud hold-out requests, encoded once in
 * each format; one decode per operation. The trial fails if a record does not decode.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class DecodingBenchmark {
    @Param({"shadowml-avro", "json", "registry-avro"})
    public String format;

    private DecodingDeserializer<Request> decoding;
    private byte[][] values;
    private int next;

    /** A producer's own flat schema: the nine features as fields, the id and time under other names. */
    private static final Schema FLAT = new Schema.Parser()
            .parse("{\"type\": \"record\", \"name\": \"Authorization\", \"fields\": ["
                    + "{\"name\": \"txn\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"long\"},"
                    + "{\"name\": \"card\", \"type\": \"string\"}, {\"name\": \"region\", \"type\": \"string\"},"
                    + "{\"name\": \"channel\", \"type\": \"string\"},"
                    + "{\"name\": \"signals\", \"type\": {\"type\": \"map\", \"values\": \"double\"}}]}");

    @Setup
    public void setUp() throws IOException {
        BenchData data = BenchData.load();
        Path dir = Files.createTempDirectory("decoding-bench");
        Files.writeString(dir.resolve("authorization.avsc"), FLAT.toString());
        String inputs;
        switch (format) {
            case "json":
                inputs = "inputs: {requests: {format: json}}";
                break;
            case "registry-avro":
                inputs = "inputs: {requests: {format: registry-avro, registry: {schemas: {\"1\": authorization.avsc}},"
                        + " fields: {request_id: txn, event_time: at, entity_id: card,"
                        + " segments: {region: region, channel: channel}, feature_map: signals}}}";
                break;
            default:
                inputs = "";
        }
        String yaml = String.join(
                "\n",
                "experiment_id: decoding-bench",
                "kafka: {bootstrap_servers: localhost:9092}",
                "topics: {requests: r, labels: l, reports: p, verdicts: v, dead_letter: d}",
                "models:",
                "  live: " + data.live.descriptorFile(),
                "  candidates: [" + data.candidate.descriptorFile() + "]",
                inputs,
                "");
        Path config = dir.resolve("job.yaml");
        Files.writeString(config, yaml);
        decoding = KafkaIO.requestDecoding(ShadowJobConfig.load(config));
        values = new byte[data.requests.length][];
        for (int i = 0; i < values.length; i++) {
            Request r = data.requests[i];
            values[i] = format.equals("json")
                    ? ContractJson.encode(r)
                    : format.equals("registry-avro") ? registryWire(r) : AvroCodec.encode(r);
            Decoded<Request> d = decode(i);
            if (d.value == null) {
                throw new IllegalStateException(format + ": " + d.deadLetter.getReason());
            }
        }
        if (format.equals("json") && !new String(values[0], StandardCharsets.UTF_8).startsWith("{")) {
            throw new IllegalStateException("not JSON");
        }
    }

    private static byte[] registryWire(Request r) {
        GenericRecord g = new GenericData.Record(FLAT);
        g.put("txn", r.getRequestId());
        g.put("at", r.getEventTime().toEpochMilli());
        g.put("card", r.getEntityId());
        g.put("region", r.getSegments().get("region"));
        g.put("channel", r.getSegments().get("channel"));
        g.put("signals", r.getFeatures());
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[] {0, 0, 0, 0, 1});
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(FLAT).write(g, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Decoded<Request> decode(int i) throws IOException {
        return decoding.decode(values[i], null, "requests", 0, i, 1_767_225_600_000L);
    }

    @Benchmark
    public Decoded<Request> decode() throws IOException {
        Decoded<Request> d = decode(next);
        next = (next + 1) % values.length;
        return d;
    }
}
