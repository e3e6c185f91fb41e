package io.shadowml.models.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * Rows per second through {@link OnnxModel#score}, per shipped model and batch size, on the path
 * the job uses: fill a reused {@link InputBatch} row by row, score it with one ORT run, read every
 * row's score and class. Rows come from the model's fixture.json, cycled.
 *
 * <p>The primary metric is batches/s; the {@code rows} secondary metric is rows/s. Run from the
 * models/ folder (or pass {@code -Dshadowml.shipped=/path/to/models/shipped}); see README.md.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms256m", "-Xmx256m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class ScoringBenchmark {

    @Param({"fraud/live", "fraud/candidate", "fashion/live", "fashion/candidate"})
    public String model;

    @Param({"1", "16", "64", "256"})
    public int batchSize;

    private OnnxModel onnx;
    private InputBatch batch;
    private float[][] rows;
    private int cursor;

    /** Counts scored rows; JMH reports it as the "rows" rate (rows/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rows {
        public long rows;

        @Setup(Level.Iteration)
        public void reset() {
            rows = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path shipped = Path.of(System.getProperty(
                "shadowml.shipped", Files.isDirectory(Path.of("shipped")) ? "shipped" : "models/shipped"));
        Path dir = shipped.resolve(model);
        JsonNode inputs = new ObjectMapper()
                .readTree(dir.resolve("fixture.json").toFile())
                .get("inputs");
        rows = new float[inputs.size()][];
        for (int i = 0; i < rows.length; i++) {
            JsonNode r = inputs.get(i);
            rows[i] = new float[r.size()];
            for (int j = 0; j < r.size(); j++) {
                rows[i][j] = (float) r.get(j).asDouble();
            }
        }
        onnx = OnnxModel.load(
                ModelDescriptor.load(dir.resolve("model.json")),
                ModelOptions.defaults().withMaxBatchSize(batchSize));
        batch = onnx.newInputBatch();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        onnx.close();
    }

    @Benchmark
    public float scoreBatch(Rows counter) {
        batch.clear();
        int c = cursor;
        for (int i = 0; i < batchSize; i++) {
            batch.addRow(rows[c]);
            c = c + 1 == rows.length ? 0 : c + 1;
        }
        cursor = c;
        PredictionBatch out = onnx.score(batch);
        float acc = 0;
        for (int i = 0; i < out.rows(); i++) {
            acc += out.score(i) + out.predictedClass(i);
        }
        counter.rows += out.rows();
        return acc;
    }
}
