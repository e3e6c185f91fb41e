package io.shadowml.jobs.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.annotations.Warmup;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * Events per second through {@link ExperimentAccumulator#add} for the fraud layout (live + one
 * candidate, binary), SCORED or LABELLED events, without segment fields or with two
 * ({@code region}, {@code channel}).
 *
 * <p>The events are built once from 4096 hold-out requests: outputs are the shipped models' real
 * scores, labels the hold-out labels, segment values the requests' region and channel. One invocation
 * adds one event (cycled). The accumulator is new for every iteration, as a window's would be. This is
 * the heap-object cost only: reading and writing the window state (RocksDB serialization) is not
 * included.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class AccumulatorBenchmark {
    @Param({"SCORED", "LABELLED"})
    public String kind;

    @Param({"0", "2"})
    public int segmentFields;

    private ModelLayout layout;
    private SegmentSpec spec;
    private MetricEvent[] events;
    private ExperimentAccumulator accumulator;
    private int cursor;

    @Setup(Level.Trial)
    public void setUp() {
        BenchData data = BenchData.load();
        List<ModelDescriptor> models = List.of(data.live, data.candidate);
        layout = new ModelLayout(models);
        spec = segmentFields == 0 ? SegmentSpec.NONE : new SegmentSpec(List.of("region", "channel"));
        int n = data.requests.length;
        float[][] outputs = new float[n][layout.width()];
        for (int m = 0; m < models.size(); m++) {
            try (OnnxModel model = OnnxModel.load(models.get(m))) {
                List<String> names = models.get(m).featureNames();
                InputBatch batch = model.newInputBatch();
                for (int start = 0; start < n; start += batch.capacity()) {
                    int rows = Math.min(batch.capacity(), n - start);
                    batch.clear();
                    for (int i = 0; i < rows; i++) {
                        Request r = data.requests[start + i];
                        for (int j = 0; j < names.size(); j++) {
                            batch.set(j, r.getFeatures().get(names.get(j)).floatValue());
                        }
                        batch.endRow();
                    }
                    PredictionBatch out = model.score(batch);
                    for (int i = 0; i < rows; i++) {
                        outputs[start + i][layout.offset(m)] = out.score(i);
                    }
                }
            }
        }
        events = new MetricEvent[n];
        for (int i = 0; i < n; i++) {
            Request r = data.requests[i];
            long t = r.getEventTime().toEpochMilli();
            String[] segments = spec.extract(r.getSegments());
            events[i] = kind.equals("SCORED")
                    ? MetricEvent.scored(r.getRequestId(), t, outputs[i], 0L, new int[] {3, 5}, segments)
                    // Labelled a day after the request: the label delay is part of what add() records.
                    : MetricEvent.labelled(
                            r.getRequestId(), t, outputs[i], 0L, data.labels[i], t + 86_400_000L, segments);
        }
    }

    @Setup(Level.Iteration)
    public void newAccumulator() {
        accumulator = new ExperimentAccumulator(layout, spec);
    }

    @Benchmark
    public void add() {
        accumulator.add(events[cursor], layout);
        cursor = cursor + 1 == events.length ? 0 : cursor + 1;
    }
}
