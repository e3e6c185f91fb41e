package io.shadowml.jobs.scoring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.jobs.control.FirstInputEventTime;
import io.shadowml.jobs.control.LivePermutation;
import io.shadowml.jobs.control.ModelTable;
import io.shadowml.jobs.control.ReplicatedTableState;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.control.YamlModel;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.sampling.DeterministicSample;
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
 * marks only its own outputs as errors; the other models' outputs are unaffected. So does a candidate
 * over its time budget ({@link CandidateTimeBudget}). A live model that is logged rather than ONNX
 * ({@link ModelDescriptor#isLogged}) takes its outputs from each request ({@link LoggedOutput}); a request
 * without them is an error of the live model. With an ONNX live model, a request that carries a logged
 * output is also checked for parity: the two decisions and their difference travel with the event.
 *
 * <p>Emits one compact {@link MetricEvent} (kind SCORED) per request, carrying the request's values of
 * the configured segment fields, and a full {@link ScoredEvent} on {@link #SCORED_EVENTS} for the
 * sampled fraction of requests. This class batches, flushes and runs inference; the scored event is
 * built by {@link ScoredEventBuilder} and the Flink metrics live in {@link ScoringMetrics}.
 *
 * <p>With a control topic it runs with a second input, the model table's changes ({@link SlotAssignment},
 * sent to every subtask); without one it is a one-input operator, chained to the request validator (a
 * second input would unchain it and serialize every request between the two): a candidate announced into a slot is loaded here and scores the requests of its
 * interval of event time; outside it the slot is absent for a request. That input takes no part in event
 * time: its watermarks are ignored, so an idle control topic never holds the job back.
 *
 * <p>A SWITCH_LIVE ({@link SlotAssignment#liveSwitch}) starts a live generation: for a request of event time
 * at or after it, the new live model's outputs (and errors, absences, latencies) are put in slot 0 and the
 * previous live model's in the slot the new one had, and the event carries the generation
 * ({@link MetricEvent#liveGeneration}). The models stay loaded where they are: only the order changes.
 */
public class MicroBatchScoringOperator extends FirstInputEventTime<MetricEvent>
        implements OneInputStreamOperator<Request, MetricEvent>,
                TwoInputStreamOperator<Request, SlotAssignment, MetricEvent> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchScoringOperator.class);

    public static final OutputTag<ScoredEvent> SCORED_EVENTS = new OutputTag<>("scored-events") {};

    private final String experimentId;
    private final List<ModelDescriptor> descriptors;
    private final ModelLayout layout;
    private final int maxBatchSize;
    private final long maxWaitMillis;
    private final int intraOpThreads;
    private final double sampleRate;
    private final DeterministicSample scoredEventsSample;
    private final SegmentSpec segments;
    private Duration candidateTimeBudget;
    /** Per model, its own sample (candidate_sample_rates), or null: it scores every request it is given. */
    private DeterministicSample[] modelSamples;

    private boolean sampleByEntity;
    /** The canary arms: which model served a request in production (served_by). */
    private ArmLayout arms = ArmLayout.NONE;

    /** The live model's outputs are logged with each request (no ONNX session for it). */
    private final boolean liveLogged;

    /** Per slot, the model in it (the YAML's, then as announced); null: empty. */
    private transient ModelDescriptor[] slotModels;
    /** Per slot, the event-time interval [from, until) of the requests it scores. */
    private transient long[] scoresFrom;

    private transient long[] scoresUntil;
    /** Per slot, why its announced model could not be loaded here (its requests are its errors); or null. */
    private transient String[] loadErrors;
    /** The validator's model table as this subtask followed it: restored after a restart. */
    private transient ModelTable table;
    /** How the model table settles a restore whose YAML changed ({@link #withModelTable}). */
    private long horizonMillis;

    private long windowMillis = 1;
    private double[] slotSampleRates;
    /** The YAML's candidates and the event time a restore applies their changes from; null: not checked. */
    private List<YamlModel> yamlCandidates;

    private long yamlEffectiveTime;
    /** Whether a validator announces the table's changes (topics.control); else the YAML may not change. */
    private boolean controlled;
    /** Per generation after 0, its event-time start and its physical slot of each logical slot. */
    private transient long[] generationStarts;

    private transient int[][] physicalOf;
    /** Per slot, whether the request validator checked its model's inputs (the YAML's models). */
    private transient boolean[] inputsChecked;
    /** Scratch for a row's outputs in physical slot order, before a generation's permutation. */
    private transient float[] physicalOutputs;
    /** Per generation, the batch's latencies, errors and models in its logical order (built once a batch). */
    private transient Map<Integer, GenerationView> views;

    private transient ReplicatedTableState<SlotAssignment> tableState;

    private transient OnnxModel[] models;
    /** The current request's logged output, one model's slots. */
    private transient float[] logged;

    private transient CandidateTimeBudget budget;
    private transient InputBatch[] inputs;
    private transient FeatureExtractor[] extractors;
    private transient Request[] pending;
    private transient long[] pendingTimestamps;
    /** Per pending row, the models that do not score it (outside their own sample). */
    private transient long[] pendingAbsent;
    /** Per pending row, the announced models that cannot read it (a feature they need is missing). */
    private transient long[] pendingUnreadable;
    /** Whether any slot scores less than all event time (empty, announced or retired). */
    private transient boolean slotsChange;
    /** Per model and pending row, the row's index in the model's batch (rows it does not score skipped). */
    private transient int[][] batchRow;

    private transient int size;
    private transient long batchGeneration;
    private transient float[] probabilities;
    private transient String[] errors;
    /** Per candidate (index 0 unused), of the row being emitted: reused, so nothing is allocated per row. */
    private transient boolean[] flipped;

    private transient double[] absDifference;
    private transient ScoringMetrics metrics;
    private transient ScoredEventBuilder scoredEvents;

    public MicroBatchScoringOperator(
            String experimentId,
            List<ModelDescriptor> models,
            int maxBatchSize,
            long maxWaitMillis,
            int intraOpThreads,
            double sampleRate,
            SegmentSpec segments) {
        this(
                experimentId,
                models,
                models.size() - 1,
                maxBatchSize,
                maxWaitMillis,
                intraOpThreads,
                sampleRate,
                segments);
    }

    /**
     * @param models the live model, then the YAML's candidates, in the first slots
     * @param candidateSlots slots for candidates (models.candidate_slots): those beyond the YAML's take
     *     announced ones
     */
    public MicroBatchScoringOperator(
            String experimentId,
            List<ModelDescriptor> models,
            int candidateSlots,
            int maxBatchSize,
            long maxWaitMillis,
            int intraOpThreads,
            double sampleRate,
            SegmentSpec segments) {
        this.experimentId = experimentId;
        this.descriptors = new ArrayList<>(models);
        this.layout = new ModelLayout(models).withSlots(candidateSlots);
        this.maxBatchSize = maxBatchSize;
        this.maxWaitMillis = maxWaitMillis;
        this.intraOpThreads = intraOpThreads;
        this.sampleRate = sampleRate;
        this.scoredEventsSample = new DeterministicSample(sampleRate, DeterministicSample.SCORED_EVENTS_SALT);
        this.segments = segments;
        this.liveLogged = models.get(0).isLogged();
    }

    /**
     * Each candidate's call for a batch may take at most {@code budget} ({@link CandidateTimeBudget}); null:
     * no limit (the default).
     */
    public MicroBatchScoringOperator withCandidateTimeBudget(Duration budget) {
        this.candidateTimeBudget = budget;
        return this;
    }

    /**
     * Model m scores only the requests in {@code samples[m]} (null: all it is given), chosen by entity id
     * when {@code byEntity} and the request has one, else by request id. The others are absent for it
     * ({@link MetricEvent#absentMask}): not scored, not counted.
     */
    public MicroBatchScoringOperator withModelSamples(DeterministicSample[] samples, boolean byEntity) {
        // None of its own (the usual case): nothing to look up per request.
        this.modelSamples = Arrays.stream(samples).allMatch(Objects::isNull) ? null : samples.clone();
        this.sampleByEntity = byEntity;
        return this;
    }

    /**
     * The model table's settings, as the validator has them: a restore whose YAML has other candidates
     * than the saved table applies the difference from {@code yamlEffectiveTime} (as the validator does,
     * with the same result), or, when no validator announces changes ({@code controlled} false), fails.
     */
    public MicroBatchScoringOperator withModelTable(
            long horizonMillis,
            long windowMillis,
            double[] slotSampleRates,
            List<YamlModel> yamlCandidates,
            long yamlEffectiveTime,
            boolean controlled) {
        this.horizonMillis = horizonMillis;
        this.windowMillis = windowMillis;
        this.slotSampleRates = slotSampleRates == null ? null : slotSampleRates.clone();
        this.yamlCandidates = List.copyOf(yamlCandidates);
        this.yamlEffectiveTime = yamlEffectiveTime;
        this.controlled = controlled;
        return this;
    }

    /**
     * Each request names the arm that served it ({@link MetricEvent#arm}, from served_by), and its logged
     * output is compared with that arm's model instead of the live one (parity).
     */
    public MicroBatchScoringOperator withArms(ArmLayout arms) {
        this.arms = arms;
        return this;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        tableState = ReplicatedTableState.register(context, "model-table", SlotAssignment.class, "announced-models");
        table = ModelTable.restored(layout, horizonMillis, windowMillis, tableState.restored())
                .withSampleRates(slotSampleRates);
        if (context.isRestored() && yamlCandidates != null) {
            if (!controlled && table.yamlChanged()) {
                throw new ModelTable.IncompatibleRestore(
                        "models.candidates",
                        "the restored job had other candidates: set topics.control to change them across a"
                                + " restore, or start without state");
            }
            // The validator reaches the same changes from the same table; they apply from here on.
            table.reconcile(yamlCandidates, yamlEffectiveTime);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        tableState.update(table.assignments());
    }

    @Override
    public void open() throws Exception {
        super.open();
        int n = layout.models();
        models = new OnnxModel[n];
        inputs = new InputBatch[n];
        extractors = new FeatureExtractor[n];
        slotModels = new ModelDescriptor[n];
        scoresFrom = new long[n];
        scoresUntil = new long[n];
        loadErrors = new String[n];
        inputsChecked = new boolean[n];
        Arrays.fill(scoresFrom, Long.MAX_VALUE); // an empty slot scores nothing
        Arrays.fill(scoresUntil, Long.MAX_VALUE);
        metrics = new ScoringMetrics(getMetricGroup().addGroup("experiment", experimentId), layout);
        for (int m = 0; m < n; m++) {
            SlotAssignment a = table.slot(m);
            if (a != null && a.announced()) {
                apply(a);
            } else if (a != null) {
                loadFromYaml(a);
            }
        }
        slotsChange = false;
        for (int m = 0; m < n; m++) {
            slotsChange |= scoresFrom[m] != Long.MIN_VALUE || scoresUntil[m] != SlotAssignment.OPEN;
        }
        generationStarts = new long[0];
        physicalOf = new int[][] {LivePermutation.identity(n)};
        for (SlotAssignment s : table.switchMarkers()) {
            applySwitch(s);
        }
        views = new java.util.HashMap<>();
        physicalOutputs = new float[layout.width()];
        pending = new Request[maxBatchSize];
        pendingTimestamps = new long[maxBatchSize];
        pendingAbsent = new long[maxBatchSize];
        pendingUnreadable = new long[maxBatchSize];
        batchRow = new int[n][maxBatchSize];
        probabilities = new float[layout.numClasses()];
        logged = new float[layout.slotsPerModel()];
        errors = new String[n];
        flipped = new boolean[n];
        absDifference = new double[n];
        scoredEvents = new ScoredEventBuilder(experimentId, slotModels, layout);
        budget = new CandidateTimeBudget(candidateTimeBudget, n);
    }

    private ModelOptions modelOptions() {
        return ModelOptions.defaults().withIntraOpThreads(intraOpThreads).withMaxBatchSize(maxBatchSize);
    }

    /** Loads slot {@code m}'s model (checked as at start: sha256, graph, external data). */
    private void load(int m, ModelDescriptor d) {
        models[m] = OnnxModel.load(d, modelOptions());
        inputs[m] = models[m].newInputBatch();
        extractors[m] = new FeatureExtractor(d);
        // ONNX Runtime initialises lazily on the first run (allocator, kernels); pay that here, so it
        // neither delays the first real batch nor skews the latency metrics.
        models[m].score(inputs[m].clear().endRow());
    }

    /**
     * A model of the YAML in the slot the table has it in (where the job started with it, which need not be
     * its place in today's YAML). One the YAML no longer has scores nothing here: the restore retired it.
     */
    private void loadFromYaml(SlotAssignment a) {
        int m = a.slot;
        ModelDescriptor d = null;
        for (ModelDescriptor y : descriptors) {
            if (y.id().equals(a.modelId)) {
                d = y;
            }
        }
        if (d == null) {
            return;
        }
        slotModels[m] = d;
        inputsChecked[m] = true; // the request validator checks every model of the YAML
        if (!d.id().equals(layout.modelId(m))) {
            metrics.register(m, d.id());
        }
        scoresFrom[m] = a.from;
        scoresUntil[m] = a.until;
        if (m > 0 || !liveLogged) {
            load(m, d);
        }
    }

    /** The model table changed: a candidate announced into a slot, or retired from one. */
    @Override
    public void processElement2(StreamRecord<SlotAssignment> element) throws Exception {
        flush(); // the buffered requests are scored by the table they arrived under
        SlotAssignment a = element.getValue();
        int generation = table.generation();
        table.apply(a);
        if (a.liveSwitch) {
            if (table.generation() > generation) {
                applySwitch(a);
            }
            return;
        }
        apply(a);
    }

    /**
     * A SWITCH_LIVE: from its time on, the switched-to model's outputs stand in slot 0 and the old live
     * model's in the slot the new one had (a swap of two logical slots), in a new live generation.
     */
    private void applySwitch(SlotAssignment s) {
        int g = generationStarts.length;
        int[] next = LivePermutation.afterSwitch(physicalOf[g], s.slot);
        generationStarts = Arrays.copyOf(generationStarts, g + 1);
        generationStarts[g] = s.from;
        physicalOf = Arrays.copyOf(physicalOf, g + 2);
        physicalOf[g + 1] = next;
        LOG.info("{}: {} is live from {} (generation {})", experimentId, s.modelId, s.from, g + 1);
    }

    /** The live generation of a request at event time {@code t}: the switches at or before it. */
    private int generationAt(long t) {
        int g = 0;
        while (g < generationStarts.length && generationStarts[g] <= t) {
            g++;
        }
        return g;
    }

    private void apply(SlotAssignment a) {
        int m = a.slot;
        if (!a.announced()) {
            // A model of the YAML retired: loaded since the start unless the YAML no longer has it.
            if (slotModels[m] != null && slotModels[m].id().equals(a.modelId)) {
                scoresFrom[m] = a.from;
                scoresUntil[m] = a.until;
            }
            slotsChange = true;
            return;
        }
        boolean newModel = slotModels[m] == null || !slotModels[m].id().equals(a.modelId);
        if (newModel) {
            closeModel(m);
            loadErrors[m] = null;
            ModelDescriptor d;
            try {
                d = a.descriptor();
            } catch (RuntimeException e) {
                // The validator parsed the very same JSON, so this cannot happen; if it does, the slot stays empty.
                LOG.error("{}: announced descriptor of {} does not parse here", experimentId, a.modelId, e);
                slotModels[m] = null;
                scoresFrom[m] = Long.MAX_VALUE;
                return;
            }
            slotModels[m] = d;
            inputsChecked[m] = false;
            metrics.register(m, d.id());
            try {
                load(m, d);
            } catch (RuntimeException e) {
                // Checked where it was announced; if this TaskManager cannot load it, its requests say why.
                closeModel(m);
                loadErrors[m] = "model " + a.modelId + " could not be loaded on this TaskManager: " + e.getMessage();
                LOG.error("{}: {}", experimentId, loadErrors[m], e);
            }
        }
        scoresFrom[m] = a.from;
        scoresUntil[m] = a.until;
        slotsChange = true;
    }

    private void closeModel(int m) {
        if (models[m] != null) {
            models[m].close();
            models[m] = null;
            inputs[m] = null;
            extractors[m] = null;
        }
    }

    @Override
    public void processElement1(StreamRecord<Request> element) throws Exception {
        processElement(element);
    }

    @Override
    public void processElement(StreamRecord<Request> element) throws Exception {
        pending[size] = element.getValue();
        pendingTimestamps[size] = element.getTimestamp();
        pendingAbsent[size] = absentModels(element.getValue());
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
        for (int m = 0; m < models.length; m++) {
            if (models[m] != null && scoresUntil[m] <= mark.getTimestamp()) {
                // Retired, and the requests it scored are behind the watermark: free its session. A request
                // later still is late for the reports anyway; for it the slot is absent, not in error.
                closeModel(m);
                scoresFrom[m] = Long.MAX_VALUE;
            }
        }
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
        if (budget != null) {
            budget.close();
        }
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
        if (liveLogged) {
            metrics.batchScored(0, rows, 0, false); // read from the requests, no inference
        }
        for (int m = liveLogged ? 1 : 0; m < n; m++) {
            if (models[m] == null) {
                // An empty slot's rows are all absent; a slot whose model could not be loaded errs on its rows.
                results[m] = null;
                errors[m] = loadErrors[m];
                continue;
            }
            String skipped = budget.skip(m);
            if (skipped != null) {
                results[m] = null;
                errors[m] = skipped;
                metrics.batchSkipped(m, rows);
                continue;
            }
            InputBatch batch = inputs[m].clear();
            int scoredRows = 0;
            for (int i = 0; i < rows; i++) {
                if ((pendingAbsent[i] & (1L << m)) == 0) {
                    // The validator checked the inputs of the models the job started with, not an announced one's.
                    if (!inputsChecked[m] && extractors[m].problem(pending[i]) != null) {
                        pendingUnreadable[i] |= 1L << m;
                        continue;
                    }
                    batchRow[m][i] = scoredRows++;
                    extractors[m].addRow(pending[i], batch);
                }
            }
            if (scoredRows == 0) {
                results[m] = null; // no row of this batch is in the model's sample: nothing to run
                errors[m] = null;
                continue;
            }
            long start = System.nanoTime();
            try {
                results[m] = budget.score(m, models[m], batch);
                errors[m] = null;
            } catch (CandidateTimeBudget.Exceeded e) {
                results[m] = null;
                errors[m] = e.getMessage();
                metrics.timeBudgetExceeded(m);
            } catch (RuntimeException e) {
                results[m] = null;
                errors[m] = "inference failed: " + e;
            }
            long micros = (System.nanoTime() - start) / 1_000;
            latencyShare[m] = (int) Math.min(Integer.MAX_VALUE, micros / scoredRows);
            metrics.batchScored(m, scoredRows, micros, results[m] == null);
        }
        for (int i = 0; i < rows; i++) {
            emit(pending[i], pendingTimestamps[i], pendingAbsent[i], pendingUnreadable[i], results, i, latencyShare);
            pending[i] = null;
            pendingUnreadable[i] = 0;
        }
        size = 0;
        batchGeneration++;
        views.clear();
    }

    private void emit(
            Request request,
            long timestamp,
            long absentMask,
            long unreadableMask,
            PredictionBatch[] results,
            int row,
            int[] latencyShare) {
        float[] outputs = new float[layout.width()];
        long errorMask = 0;
        int slots = layout.slotsPerModel();
        boolean haveLogged = LoggedOutput.read(request, layout, logged);
        if (liveLogged) {
            if (haveLogged) {
                System.arraycopy(logged, 0, outputs, 0, slots);
            } else {
                errorMask |= 1L;
                metrics.outputError(0, true);
            }
            errors[0] = haveLogged ? null : LoggedOutput.missing(layout);
        }
        for (int m = liveLogged ? 1 : 0; m < results.length; m++) {
            if ((absentMask & (1L << m)) != 0) {
                continue; // outside the model's sample: neither an output nor an error
            }
            PredictionBatch r = (unreadableMask & (1L << m)) == 0 ? results[m] : null;
            boolean ok = r != null;
            if (ok) {
                int off = layout.offset(m);
                int batchIndex = batchRow[m][row];
                if (slots == 1) {
                    outputs[off] = r.score(batchIndex);
                } else {
                    r.copyProbabilities(batchIndex, probabilities);
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
        int generation = generationStarts.length == 0
                ? 0
                : generationAt(request.getEventTime().toEpochMilli());
        int[] physical = physicalOf[generation];
        GenerationView view = null;
        if (generation > 0) {
            // From physical slots (where the models are loaded) to the generation's logical ones.
            view = view(generation, latencyShare);
            System.arraycopy(outputs, 0, physicalOutputs, 0, outputs.length);
            long errors = 0;
            long absent = 0;
            for (int l = 0; l < physical.length; l++) {
                int p = physical[l];
                System.arraycopy(physicalOutputs, layout.offset(p), outputs, layout.offset(l), slots);
                errors |= ((errorMask >>> p) & 1L) << l;
                absent |= ((absentMask >>> p) & 1L) << l;
            }
            errorMask = errors;
            absentMask = absent;
            latencyShare = view.latency;
        }
        // Flip and |difference| once per row, for the gauges and the scored event alike.
        boolean liveOk = (errorMask & 1L) == 0;
        for (int c = 1; c < results.length; c++) {
            if (liveOk && ((errorMask | absentMask) & (1L << c)) == 0) {
                flipped[c] = layout.flipped(outputs, c);
                absDifference[c] = layout.absDifference(outputs, c);
                metrics.compared(physical[c], flipped[c], absDifference[c]);
            }
        }
        MetricEvent event = MetricEvent.scored(
                request.getRequestId(),
                request.getEventTime().toEpochMilli(),
                outputs,
                errorMask,
                latencyShare,
                segments.extract(request.getSegments()));
        event.absentMask = absentMask;
        event.liveGeneration = generation;
        byte arm = arms.armOf(request.getServedBy());
        event.arm = arm;
        if (arm >= 0 && arms.businessFeature() != null) {
            Map<String, Double> features = request.getFeatures();
            Double value = features == null ? null : features.get(arms.businessFeature());
            float v = value == null ? Float.NaN : value.floatValue();
            // Not finite (or beyond float32): left out of the business metric, like a missing feature.
            event.businessValue = Float.isFinite(v) ? v : Float.NaN;
        }
        // The model that served the request: its arm's, or the live model's when none is named.
        int serving = arm >= 0 ? arms.model(arm) : arm == MetricEvent.NO_ARM ? 0 : -1;
        if (!liveLogged && haveLogged && serving >= 0 && ((errorMask | absentMask) & (1L << serving)) == 0) {
            // Parity: the exported model against what served in production, request by request.
            event.parity = layout.flippedAgainst(outputs, serving, logged)
                    ? MetricEvent.PARITY_FLIPPED
                    : MetricEvent.PARITY_SAME_DECISION;
            event.parityDifference = layout.differenceAgainst(outputs, serving, logged);
        }
        output.collect(new StreamRecord<>(event, timestamp));
        if (sampleRate > 0 && sampled(request.getRequestId())) {
            ScoredEvent scored = scoredEvents.build(
                    request,
                    view == null ? slotModels : view.models,
                    outputs,
                    errorMask,
                    absentMask,
                    latencyShare,
                    view == null ? errors : view.errors,
                    flipped,
                    absDifference);
            output.collect(SCORED_EVENTS, new StreamRecord<>(scored, timestamp));
        }
    }

    /** The models whose own sample does not hold this request, and the slots empty at its event time. */
    private long absentModels(Request r) {
        long mask = 0;
        if (slotsChange) {
            long t = r.getEventTime().toEpochMilli();
            for (int m = 0; m < scoresFrom.length; m++) {
                if (t < scoresFrom[m] || t >= scoresUntil[m]) {
                    mask |= 1L << m;
                }
            }
        }
        if (modelSamples == null) {
            return mask;
        }
        String id = sampleByEntity && r.getEntityId() != null ? r.getEntityId() : r.getRequestId();
        for (int m = 0; m < modelSamples.length; m++) {
            if (modelSamples[m] != null && !modelSamples[m].includes(id)) {
                mask |= 1L << m;
            }
        }
        return mask;
    }

    /** The batch's per-model latencies, errors and models in {@code generation}'s logical order. */
    private GenerationView view(int generation, int[] latencyShare) {
        GenerationView v = views.get(generation);
        if (v == null) {
            int[] physical = physicalOf[generation];
            v = new GenerationView(physical.length);
            for (int l = 0; l < physical.length; l++) {
                v.latency[l] = latencyShare[physical[l]];
                v.errors[l] = errors[physical[l]];
                v.models[l] = slotModels[physical[l]];
            }
            views.put(generation, v);
        }
        return v;
    }

    /** One batch's figures of the models in a live generation's logical slots. */
    private static final class GenerationView {
        final int[] latency;
        final String[] errors;
        final ModelDescriptor[] models;

        GenerationView(int n) {
            latency = new int[n];
            errors = new String[n];
            models = new ModelDescriptor[n];
        }
    }

    private boolean sampled(String requestId) {
        // Deterministic per request id, so replays and restarts sample the same events.
        return scoredEventsSample.includes(requestId);
    }
}
