package io.shadowml.jobs.scoring;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.shadowml.avro.EventDisagreement;
import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * Scores requests with the live model and every candidate in micro-batches: one ONNX call per model per
 * batch. A batch is flushed when it is full, when its oldest request has waited {@code maxWait}, before
 * a watermark passes (so nothing becomes late), before a checkpoint barrier (so nothing buffered needs
 * state) and at end of input. A model that throws, or returns NaN/Inf or a probability outside [0, 1],
 * marks only its own outputs as errors; the other models' outputs are unaffected.
 *
 * <p>Emits one compact {@link MetricEvent} (kind SCORED) per request, carrying the request's values of
 * the configured segment fields, and a full {@link ScoredEvent} on {@link #SCORED_EVENTS} for the
 * sampled fraction of requests.
 */
public class MicroBatchScoringOperator extends AbstractStreamOperator<MetricEvent>
        implements OneInputStreamOperator<Request, MetricEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<ScoredEvent> SCORED_EVENTS = new OutputTag<>("scored-events") {};

    private final String experimentId;
    private final List<ModelDescriptor> descriptors;
    private final ModelLayout layout;
    private final int maxBatchSize;
    private final long maxWaitMillis;
    private final int intraOpThreads;
    private final double sampleRate;
    private final SegmentSpec segments;

    private transient OnnxModel[] models;
    private transient InputBatch[] inputs;
    private transient FeatureExtractor[] extractors;
    private transient Request[] pending;
    private transient long[] pendingTimestamps;
    private transient int size;
    private transient long batchGeneration;
    private transient float[] probabilities;
    private transient String[] errors;
    private transient ScoringMetrics metrics;

    public MicroBatchScoringOperator(String experimentId, List<ModelDescriptor> models, int maxBatchSize,
                                     long maxWaitMillis, int intraOpThreads, double sampleRate) {
        this(experimentId, models, maxBatchSize, maxWaitMillis, intraOpThreads, sampleRate, SegmentSpec.NONE);
    }

    public MicroBatchScoringOperator(String experimentId, List<ModelDescriptor> models, int maxBatchSize,
                                     long maxWaitMillis, int intraOpThreads, double sampleRate, SegmentSpec segments) {
        this.experimentId = experimentId;
        this.descriptors = new ArrayList<>(models);
        this.layout = new ModelLayout(models);
        this.maxBatchSize = maxBatchSize;
        this.maxWaitMillis = maxWaitMillis;
        this.intraOpThreads = intraOpThreads;
        this.sampleRate = sampleRate;
        this.segments = segments;
    }

    @Override
    public void open() throws Exception {
        super.open();
        int n = descriptors.size();
        models = new OnnxModel[n];
        inputs = new InputBatch[n];
        extractors = new FeatureExtractor[n];
        ModelOptions options = ModelOptions.defaults().withIntraOpThreads(intraOpThreads).withMaxBatchSize(maxBatchSize);
        for (int m = 0; m < n; m++) {
            models[m] = OnnxModel.load(descriptors.get(m), options);
            inputs[m] = models[m].newInputBatch();
            extractors[m] = new FeatureExtractor(descriptors.get(m));
            // ONNX Runtime initialises lazily on the first run (allocator, kernels); pay that here, so it
            // neither delays the first real batch nor skews the latency metrics.
            models[m].score(inputs[m].clear().endRow());
        }
        pending = new Request[maxBatchSize];
        pendingTimestamps = new long[maxBatchSize];
        probabilities = new float[layout.numClasses()];
        errors = new String[n];
        metrics = new ScoringMetrics(getMetricGroup().addGroup("experiment", experimentId), layout);
    }

    @Override
    public void processElement(StreamRecord<Request> element) throws Exception {
        pending[size] = element.getValue();
        pendingTimestamps[size] = element.getTimestamp();
        size++;
        if (size == 1) {
            long generation = batchGeneration;
            long now = getProcessingTimeService().getCurrentProcessingTime();
            getProcessingTimeService().registerTimer(now + maxWaitMillis, t -> {
                if (generation == batchGeneration) {
                    flush();
                }
            });
        }
        if (size == maxBatchSize) {
            flush();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flush();
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (models != null) {
            for (OnnxModel m : models) {
                if (m != null) {
                    m.close();
                }
            }
        }
        super.close();
    }

    private void flush() {
        if (size == 0) {
            return;
        }
        int rows = size;
        int n = models.length;
        PredictionBatch[] results = new PredictionBatch[n];
        int[] latencyShare = new int[n];
        for (int m = 0; m < n; m++) {
            InputBatch batch = inputs[m].clear();
            for (int i = 0; i < rows; i++) {
                extractors[m].addRow(pending[i], batch);
            }
            long start = System.nanoTime();
            try {
                results[m] = models[m].score(batch);
                errors[m] = null;
            } catch (RuntimeException e) {
                results[m] = null;
                errors[m] = "inference failed: " + e;
            }
            long micros = (System.nanoTime() - start) / 1_000;
            latencyShare[m] = (int) Math.min(Integer.MAX_VALUE, micros / rows);
            metrics.batchScored(m, rows, micros, results[m] == null);
        }
        for (int i = 0; i < rows; i++) {
            emit(pending[i], pendingTimestamps[i], results, i, latencyShare);
            pending[i] = null;
        }
        size = 0;
        batchGeneration++;
    }

    private void emit(Request request, long timestamp, PredictionBatch[] results, int row, int[] latencyShare) {
        float[] outputs = new float[layout.width()];
        long errorMask = 0;
        int slots = layout.slotsPerModel();
        for (int m = 0; m < results.length; m++) {
            PredictionBatch r = results[m];
            boolean ok = r != null;
            if (ok) {
                int off = layout.offset(m);
                if (slots == 1) {
                    outputs[off] = r.score(row);
                } else {
                    r.copyProbabilities(row, probabilities);
                    System.arraycopy(probabilities, 0, outputs, off, slots);
                }
                boolean probabilities = layout.task() != Task.REGRESSION;
                for (int k = 0; k < slots; k++) {
                    float v = outputs[off + k];
                    // A probability outside [0, 1] is as unusable as NaN: the metrics cannot score it.
                    ok &= Float.isFinite(v) && (!probabilities || (v >= 0f && v <= 1f));
                }
            }
            if (!ok) {
                errorMask |= 1L << m;
                metrics.outputError(m, r != null);
            }
        }
        MetricEvent event = MetricEvent.scored(request.getRequestId(), request.getEventTime().toEpochMilli(),
                outputs, errorMask, latencyShare, segments.extract(request.getSegments()));
        metrics.compared(event);
        output.collect(new StreamRecord<>(event, timestamp));
        if (sampleRate > 0 && sampled(request.getRequestId())) {
            output.collect(SCORED_EVENTS, new StreamRecord<>(scoredEvent(request, event, results), timestamp));
        }
    }

    private boolean sampled(String requestId) {
        // Deterministic per request id, so replays and restarts sample the same events.
        return sampleRate >= 1.0 || ((requestId.hashCode() * 0x9E3779B9) >>> 8) < sampleRate * (1 << 24);
    }

    private ScoredEvent scoredEvent(Request request, MetricEvent event, PredictionBatch[] results) {
        List<ModelOutput> outputs = new ArrayList<>(results.length);
        for (int m = 0; m < results.length; m++) {
            ModelDescriptor d = descriptors.get(m);
            ModelOutput.Builder o = ModelOutput.newBuilder()
                    .setModelName(d.name())
                    .setModelVersion(d.version())
                    .setRole(m == 0 ? ModelRole.LIVE : ModelRole.CANDIDATE)
                    .setLatencyMicros(event.latencyMicros[m]);
            if (event.failed(m)) {
                o.setError(results[m] == null ? errors[m] : "non-finite or out-of-range model output");
            } else {
                o.setScore(layout.score(event.outputs, m));
                switch (layout.task()) {
                    case MULTICLASS: {
                        List<Float> p = new ArrayList<>(layout.numClasses());
                        for (int k = 0; k < layout.numClasses(); k++) {
                            p.add(event.outputs[layout.offset(m) + k]);
                        }
                        o.setProbabilities(p).setPredictedClass(layout.decision(event.outputs, m));
                        break;
                    }
                    case BINARY:
                        o.setPredictedClass(layout.decision(event.outputs, m));
                        break;
                    default:
                        o.setPredictedValue((double) event.outputs[layout.offset(m)]);
                }
            }
            outputs.add(o.build());
        }
        List<EventDisagreement> disagreement = new ArrayList<>(results.length - 1);
        for (int c = 1; c < results.length; c++) {
            if (!event.failed(0) && !event.failed(c)) {
                disagreement.add(new EventDisagreement(layout.modelId(c), layout.flipped(event.outputs, c),
                        layout.absDifference(event.outputs, c)));
            }
        }
        return ScoredEvent.newBuilder()
                .setExperimentId(experimentId)
                .setRequestId(request.getRequestId())
                .setEventTime(request.getEventTime())
                .setEntityId(request.getEntityId())
                .setSegments(request.getSegments())
                .setServedBy(request.getServedBy())
                .setOutputs(outputs)
                .setDisagreement(disagreement)
                .build();
    }

    /** Flink metrics of the scoring stage, per model and per candidate. */
    static final class ScoringMetrics {
        private final ModelLayout layout;
        private final Counter[] scored;
        private final Counter[] errors;
        private final Counter[] batches;
        private final DescriptiveStatisticsHistogram[] latency;
        private final long[] compared;
        private final long[] flips;
        private final double[] absDiffSum;

        ScoringMetrics(MetricGroup experiment, ModelLayout layout) {
            this.layout = layout;
            int n = layout.models();
            scored = new Counter[n];
            errors = new Counter[n];
            batches = new Counter[n];
            latency = new DescriptiveStatisticsHistogram[n];
            compared = new long[n];
            flips = new long[n];
            absDiffSum = new double[n];
            for (int m = 0; m < n; m++) {
                MetricGroup g = experiment.addGroup("model", layout.modelId(m));
                scored[m] = g.counter("scored");
                errors[m] = g.counter("errors");
                batches[m] = g.counter("batches");
                latency[m] = g.histogram("latency_micros", new DescriptiveStatisticsHistogram(2048));
                if (m > 0) {
                    final int c = m;
                    g.gauge("flip_rate", () -> compared[c] == 0 ? 0.0 : (double) flips[c] / compared[c]);
                    g.gauge("abs_diff_mean", () -> compared[c] == 0 ? 0.0 : absDiffSum[c] / compared[c]);
                }
            }
        }

        void batchScored(int model, int rows, long micros, boolean failed) {
            batches[model].inc();
            scored[model].inc(rows);
            latency[model].update(micros / rows);
            if (failed) {
                errors[model].inc(rows);
            }
        }

        void outputError(int model, boolean batchSucceeded) {
            if (batchSucceeded) {
                errors[model].inc();
            }
        }

        void compared(MetricEvent e) {
            for (int c = 1; c < layout.models(); c++) {
                if (!e.failed(0) && !e.failed(c)) {
                    compared[c]++;
                    if (layout.flipped(e.outputs, c)) {
                        flips[c]++;
                    }
                    absDiffSum[c] += layout.absDifference(e.outputs, c);
                }
            }
        }
    }
}
