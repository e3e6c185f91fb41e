package io.shadowml.jobs.bench;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.scoring.MicroBatchScoringOperator;
import io.shadowml.models.ModelDescriptor;

/**
 * Requests per second through {@link MicroBatchScoringOperator}, driven by Flink's
 * {@link OneInputStreamOperatorTestHarness}, with the shipped fraud live and candidate models, per
 * {@code batching.max_size}.
 *
 * <p>This is the operator's whole per-request path: feature extraction from the Avro request into each
 * model's input batch, one ONNX call per model per batch, output normalisation and range checks, one
 * {@link MetricEvent} per request, the disagreement gauges and the Flink counters/histograms, plus the
 * processing-time timer each batch registers ({@code max_wait}). The harness adds its own cost: it deep
 * copies every emitted event with Flink's serializer into a queue. Scored-event sampling is off
 * (sample rate 0, as without a {@code scored_events_topic}) and no segment fields are configured.
 *
 * <p>One invocation feeds {@link #CHUNK} pre-built request records (a multiple of every batch size, so
 * every batch is full and flushed by size), then drains the harness output, counting the emitted
 * events, and advances processing time past {@code max_wait} so the spent timers fire (as no-ops) and
 * memory stays flat. The primary score is requests/s; the {@code events} counter is emitted
 * MetricEvents/s and must equal it (checked at the end of the trial, as is that no event carries a
 * model error).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xms512m",
            "-Xmx512m",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED"
        })
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class ScoringOperatorBenchmark {
    /** Requests per invocation: a multiple of every batch size. */
    static final int CHUNK = 1024;
    /** The {@code batching.max_wait} default. */
    static final long MAX_WAIT_MILLIS = 50;

    @Param({"1", "16", "64", "256"})
    public int maxSize;

    /**
     * The candidate next to the live model: {@code shipped} (fraud-mlp), {@code none} (the live model
     * alone), {@code slow} (models/shipped/fraud/slow-candidate, about 10x the live model's cost) or
     * {@code slow-budget} (the same with {@code models.candidate_time_budget} {@link #BUDGET}).
     */
    @Param({"shipped"})
    public String candidate;

    /** Half the slow candidate's time for a batch of 64 (about 100 µs), about 5x the live model's. */
    static final Duration BUDGET = Duration.ofNanos(50_000);

    private long candidateErrors;

    private OneInputStreamOperatorTestHarness<Request, MetricEvent> harness;
    private StreamRecord<Request>[] records;
    private int cursor;
    private long processingTime;
    private long fed;
    private long emitted;
    private long errored;

    /** Counts emitted MetricEvents; JMH reports it as the "events" rate (events/s). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Emitted {
        public long events;

        @Setup(Level.Iteration)
        public void reset() {
            events = 0;
        }
    }

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp() throws Exception {
        BenchData data = BenchData.load();
        records = new StreamRecord[data.requests.length];
        for (int i = 0; i < records.length; i++) {
            Request r = data.requests[i];
            records[i] = new StreamRecord<>(r, r.getEventTime().toEpochMilli());
        }
        List<ModelDescriptor> models = switch (candidate) {
            case "shipped" -> List.of(data.live, data.candidate);
            case "none" -> List.of(data.live);
            case "slow", "slow-budget" -> List.of(data.live, data.slowCandidate);
            default -> throw new IllegalArgumentException("candidate: shipped, none, slow or slow-budget");
        };
        harness = new OneInputStreamOperatorTestHarness<>(
                new MicroBatchScoringOperator("bench", models, maxSize, MAX_WAIT_MILLIS, 1, 0.0, SegmentSpec.NONE)
                        .withCandidateTimeBudget(candidate.equals("slow-budget") ? BUDGET : null));
        harness.setProcessingTime(0);
        harness.open();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        harness.close();
        if (emitted != fed) {
            throw new IllegalStateException("fed " + fed + " requests but " + emitted + " MetricEvents came out");
        }
        if (errored != 0) {
            throw new IllegalStateException(errored + " MetricEvents carry live model errors");
        }
        if (candidateErrors != 0 && !candidate.equals("slow-budget")) {
            throw new IllegalStateException(candidateErrors + " MetricEvents carry candidate errors");
        }
        if (candidate.equals("slow-budget")) {
            System.out.printf(
                    "%ncandidate rows stopped or skipped by the time budget: %.4f%n", (double) candidateErrors / fed);
        }
    }

    @Benchmark
    @OperationsPerInvocation(CHUNK)
    public void score(Emitted counter) throws Exception {
        int c = cursor;
        for (int i = 0; i < CHUNK; i++) {
            harness.processElement(records[c]);
            c = c + 1 == records.length ? 0 : c + 1;
        }
        cursor = c;
        fed += CHUNK;
        Queue<Object> out = harness.getOutput();
        int n = 0;
        Object o;
        while ((o = out.poll()) != null) {
            if (o instanceof StreamRecord && ((StreamRecord<?>) o).getValue() instanceof MetricEvent) {
                n++;
                long mask = ((MetricEvent) ((StreamRecord<?>) o).getValue()).errorMask;
                if ((mask & 1L) != 0) {
                    errored++;
                }
                if ((mask & ~1L) != 0) {
                    candidateErrors++;
                }
            }
        }
        emitted += n;
        counter.events += n;
        processingTime += MAX_WAIT_MILLIS + 1;
        harness.setProcessingTime(processingTime);
    }
}
