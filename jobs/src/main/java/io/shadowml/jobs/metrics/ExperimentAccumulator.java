package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

import org.apache.flink.api.common.typeinfo.TypeInfo;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * Everything one report needs, for one window of one experiment: counts, disagreement and paired
 * comparison per candidate, quality per model. Mergeable, so windows aggregate in parallel shards that
 * are merged afterwards, and cumulative figures are the merge of all windows. With segment fields
 * configured it also keeps per-segment counters ({@link SegmentSlices}).
 */
@TypeInfo(ExperimentAccumulatorTypeInfoFactory.class)
public final class ExperimentAccumulator {
    /**
     * 2: version 1 followed by the segment slices. Version 1 is not read: it never reached a checkpoint
     * or savepoint (the segment slices shipped before any deployment kept state), so there is nothing
     * to migrate. 3: version 2 with the count of duplicate requests after the unknown labels. 4: version 3
     * with the count of implicit labels after the duplicate requests, and the live model's parity with the
     * logged outputs at the end. 5: version 4 followed by the label delays, the matured evidence, the
     * counts of unsampled requests and labels and, per model, of the requests it did not score; earlier
     * versions are read with none of them. 6: version 5 followed by the canary arms' evidence
     * ({@link ArmEvidence}); earlier versions are read without any.
     */
    private static final int FORMAT_VERSION = 6;

    final Task task;
    final int models;
    long scored;
    long labelled;
    long expired;
    long deadLettered;
    long duplicateLabels;
    long unknownLabels;
    long duplicateRequests;
    /** Of {@link #labelled}, the requests joined with the negative class at their horizon (implicit labels). */
    long implicitLabels;
    /** Requests and labels outside the experiment's sample (sample_rate): counted only. */
    long unsampledRequests;

    long unsampledLabels;

    final long[] errors;
    /** Per model, the scored requests it did not score (outside its sample): counted nowhere else for it. */
    final long[] absent;

    final long[] latencySumMicros;
    final long[] latencyCount;
    /** Index = model. */
    final QualityAccumulator[] quality;
    /** Index = model; slot 0 (the live model) unused. */
    final DisagreementAccumulator[] disagreement;
    /** The live model against the outputs the serving system logged (parity), where both exist. */
    DisagreementAccumulator parity = new DisagreementAccumulator();

    final PairedComparisonAccumulator[] paired;
    /** Per-segment counters; null when no segment fields are configured. */
    SegmentSlices segments;
    /** Delays of the explicit labels folded in, by true class. */
    LabelDelays labelDelays;
    /** The requests that matured in this window, and their labels: what the verdict decides on. */
    MaturedEvidence matured;
    /** Canary / A-B: per serving arm; no arms without a canary. */
    ArmEvidence arms;

    public ExperimentAccumulator(ModelLayout layout, SegmentSpec segmentSpec) {
        this(layout.task(), layout.models(), layout, true);
        if (!segmentSpec.isEmpty()) {
            segments = new SegmentSlices(segmentSpec, task, models);
        }
        labelDelays = new LabelDelays(labelClasses());
        matured = new MaturedEvidence(layout, segmentSpec);
        arms = new ArmEvidence(layout.arms());
    }

    private ExperimentAccumulator(Task task, int models, ModelLayout layout, boolean create) {
        this.task = task;
        this.models = models;
        errors = new long[models];
        absent = new long[models];
        latencySumMicros = new long[models];
        latencyCount = new long[models];
        quality = new QualityAccumulator[models];
        disagreement = new DisagreementAccumulator[models];
        paired = new PairedComparisonAccumulator[models];
        if (!create) {
            return;
        }
        for (int m = 0; m < models; m++) {
            quality[m] = QualityAccumulator.forModel(layout, m);
            if (m > 0) {
                disagreement[m] = new DisagreementAccumulator();
                paired[m] = new PairedComparisonAccumulator(task == Task.REGRESSION ? 0 : layout.numClasses());
            }
        }
    }

    public void add(MetricEvent e, ModelLayout layout) {
        switch (e.kind) {
            case MetricEvent.SCORED:
                addScored(e, layout);
                break;
            case MetricEvent.LABELLED:
                addLabelled(e, layout);
                break;
            case MetricEvent.LABELLED_IMPLICIT:
                implicitLabels++;
                addLabelled(e, layout);
                break;
            case MetricEvent.EXPIRED:
                expired++;
                break;
            case MetricEvent.DEAD_LETTER:
                deadLettered++;
                break;
            case MetricEvent.DUPLICATE_LABEL:
                duplicateLabels++;
                break;
            case MetricEvent.UNKNOWN_LABEL:
                unknownLabels++;
                break;
            case MetricEvent.DUPLICATE_REQUEST:
                duplicateRequests++;
                break;
            case MetricEvent.UNSAMPLED_REQUEST:
                unsampledRequests++;
                break;
            case MetricEvent.UNSAMPLED_LABEL:
                unsampledLabels++;
                break;
            case MetricEvent.ENTITY_SEEN:
            case MetricEvent.ENTITY_MULTI_ARM:
                arms.addEntity(e, layout);
                break;
            default:
                throw new IllegalArgumentException("unknown metric event kind " + e.kind);
        }
    }

    private void addScored(MetricEvent e, ModelLayout layout) {
        scored++;
        // The live model's parity: requests served by it (the control arm), or by whatever served them
        // when no canary arm is named. A canary arm's logged outputs are its own model's.
        if (e.parity != MetricEvent.PARITY_NONE && (e.arm == MetricEvent.NO_ARM || e.arm == 0)) {
            parity.add(e.parity == MetricEvent.PARITY_FLIPPED, e.parityDifference);
        }
        arms.addScored(e, layout);
        SegmentSlices.Slice[] slices = segments == null ? null : segments.slicesOf(e.segments);
        if (slices != null) {
            for (SegmentSlices.Slice s : slices) {
                s.scored++;
            }
        }
        for (int m = 0; m < models; m++) {
            if (e.absent(m)) {
                absent[m]++;
            } else if (e.failed(m)) {
                errors[m]++;
            } else {
                latencySumMicros[m] += e.latencyMicros[m];
                latencyCount[m]++;
            }
        }
        if (e.failed(0)) {
            return;
        }
        for (int c = 1; c < models; c++) {
            if (!e.failed(c) && !e.absent(c)) {
                boolean flipped = layout.flipped(e.outputs, c);
                double difference = layout.absDifference(e.outputs, c);
                disagreement[c].add(flipped, difference);
                if (slices != null) {
                    for (SegmentSlices.Slice s : slices) {
                        s.addCompared(c, flipped, difference);
                    }
                }
            }
        }
    }

    /**
     * Counts {@code e} in the matured evidence: a scored request that matured, or a label that arrived
     * within its request's maturity (the caller, {@link LocalWindowAggregator}, decides which and when).
     */
    public void addMatured(MetricEvent e, ModelLayout layout) {
        if (e.kind == MetricEvent.SCORED) {
            matured.addRequest();
        } else if (e.isLabelled()) {
            matured.addLabelled(e, layout);
            arms.addLabelled(e, layout, true);
        } else {
            throw new IllegalArgumentException("only scored and labelled events mature, not kind " + e.kind);
        }
    }

    private void addLabelled(MetricEvent e, ModelLayout layout) {
        labelled++;
        arms.addLabelled(e, layout, false);
        if (e.labelTime != MetricEvent.NO_LABEL_TIME) {
            labelDelays.add((int) e.label, Math.max(0, e.labelTime - e.eventTime) / 1000.0);
        }
        SegmentSlices.Slice[] slices = segments == null ? null : segments.slicesOf(e.segments);
        for (int m = 0; m < models; m++) {
            if (e.failed(m) || e.absent(m)) {
                continue;
            }
            int off = layout.offset(m);
            if (slices != null) {
                boolean correct = layout.correct(e.outputs, m, e.label);
                double absError = task == Task.REGRESSION ? Math.abs((double) e.outputs[off] - e.label) : 0;
                for (SegmentSlices.Slice s : slices) {
                    s.addLabelled(m, correct, absError);
                }
            }
            quality[m].addLabelled(e.outputs, off, e.label);
        }
        for (int c = 1; c < models; c++) {
            addPair(task, e, layout, c, paired[c], slices);
        }
    }

    /**
     * A classification pair counts when at least one of the two models answered: a model that failed
     * on the request is wrong on it, at the worst loss ({@link Loss#worst}), so that failing on hard
     * requests cannot make a candidate look better. Regression has no worst loss: its pairs need both.
     */
    static void addPair(
            Task task,
            MetricEvent e,
            ModelLayout layout,
            int c,
            PairedComparisonAccumulator into,
            SegmentSlices.Slice[] slices) {
        if (e.absent(c)) {
            return; // the candidate did not score this request: no pair
        }
        boolean liveFailed = e.failed(0);
        boolean candidateFailed = e.failed(c);
        if (liveFailed && candidateFailed || task == Task.REGRESSION && (liveFailed || candidateFailed)) {
            return;
        }
        boolean liveCorrect = !liveFailed && layout.correct(e.outputs, 0, e.label);
        boolean candidateCorrect = !candidateFailed && layout.correct(e.outputs, c, e.label);
        double liveLoss = liveFailed ? Loss.worst(task) : layout.loss(e.outputs, 0, e.label);
        double candidateLoss = candidateFailed ? Loss.worst(task) : layout.loss(e.outputs, c, e.label);
        if (task == Task.REGRESSION) {
            into.add(liveCorrect, candidateCorrect, liveLoss, candidateLoss);
        } else {
            into.add((int) e.label, liveCorrect, candidateCorrect, liveLoss, candidateLoss);
        }
        if (slices != null && task != Task.REGRESSION) {
            for (SegmentSlices.Slice s : slices) {
                s.addPair(c, liveCorrect, candidateCorrect);
            }
        }
    }

    public ExperimentAccumulator merge(ExperimentAccumulator o) {
        if (o.task != task
                || o.models != models
                || (segments == null) != (o.segments == null)
                || (segments != null && !segments.sameShape(o.segments))) {
            throw new IllegalArgumentException("cannot merge accumulators of different experiments");
        }
        if (segments != null) {
            segments.merge(o.segments);
        }
        mergeRest(o, false);
        return this;
    }

    /** Everything but {@link #segments}; the matured evidence's slices replaced by {@code o}'s if asked. */
    private void mergeRest(ExperimentAccumulator o, boolean replaceSegments) {
        scored += o.scored;
        labelled += o.labelled;
        expired += o.expired;
        deadLettered += o.deadLettered;
        duplicateLabels += o.duplicateLabels;
        unknownLabels += o.unknownLabels;
        duplicateRequests += o.duplicateRequests;
        implicitLabels += o.implicitLabels;
        unsampledRequests += o.unsampledRequests;
        unsampledLabels += o.unsampledLabels;
        parity.merge(o.parity);
        labelDelays.merge(o.labelDelays);
        matured.merge(o.matured, replaceSegments);
        arms.merge(o.arms);
        for (int m = 0; m < models; m++) {
            errors[m] += o.errors[m];
            absent[m] += o.absent[m];
            latencySumMicros[m] += o.latencySumMicros[m];
            latencyCount[m] += o.latencyCount[m];
            quality[m].merge(o.quality[m]);
            if (m > 0) {
                disagreement[m].merge(o.disagreement[m]);
                paired[m].merge(o.paired[m]);
            }
        }
    }

    /**
     * Like {@link #merge}, except that when {@code o} is sliced by other segment fields than this
     * accumulator (segment_fields changed across a restore), this accumulator's slices are replaced by a
     * copy of {@code o}'s instead of failing: the per-segment figures restart from {@code o}, everything
     * else merges as usual. Returns whether the slices were replaced.
     */
    public boolean mergeReplacingSegments(ExperimentAccumulator o) {
        boolean differ =
                (segments == null) != (o.segments == null) || (segments != null && !segments.sameShape(o.segments));
        if (differ && o.task == task && o.models == models) {
            mergeRest(o, true);
            segments = o.segments == null ? null : o.segments.copy();
            return true;
        }
        merge(o);
        return false;
    }

    /**
     * Forgets the evidence of candidate {@code model} (1 ≤ model &lt; {@link #models()}), for a slot whose
     * candidate was retired and that a different candidate may take: everything kept for the slot becomes
     * what a new accumulator of the same layout holds for it, and all else stays (the experiment-wide
     * counts such as {@link #scored()}, {@link #labelled()} and {@link #expired()}, the label delays, the
     * live model's parity, the canary arms and the other models' evidence).
     *
     * <p>Cleared: the errors, latency sums and counts; the quality, as a new accumulator with the slot's
     * settings ({@link QualityAccumulator#emptyCopy}: a binary slot keeps its threshold); the disagreement;
     * the paired comparison; the model's figures in every segment slice; and in the matured evidence its
     * paired comparison and segment figures.
     *
     * <p>The requests the model did not score (absent) become all requests scored so far, so
     * {@link #scoredBy} is 0 as in a new accumulator: the slot's next occupant scored none of the requests
     * counted here, and its error rate must not be taken over them. The state is then exactly that of an
     * accumulator given the same events with the model absent from every one of them.
     *
     * <p>The canary arms ({@link ArmEvidence}) are left alone: they are kept per served_by value and model
     * id, not per slot, so the evidence of a retired model's arm never mixes with a later one's.
     */
    public void clearModel(int model) {
        if (model < 1 || model >= models) {
            throw new IllegalArgumentException("candidate " + model + " outside [1, " + models + ")");
        }
        errors[model] = 0;
        absent[model] = scored;
        latencySumMicros[model] = 0;
        latencyCount[model] = 0;
        quality[model] = quality[model].emptyCopy();
        disagreement[model] = new DisagreementAccumulator();
        paired[model] = new PairedComparisonAccumulator(pairedClasses());
        if (segments != null) {
            segments.clearModel(model);
        }
        matured.clearModel(model, pairedClasses());
    }

    /** The true classes a paired comparison keeps agreement counts for: the label classes, none for regression. */
    private int pairedClasses() {
        return task == Task.REGRESSION ? 0 : labelClasses();
    }

    public ExperimentAccumulator copy() {
        ExperimentAccumulator c = new ExperimentAccumulator(task, models, null, false);
        c.scored = scored;
        c.labelled = labelled;
        c.expired = expired;
        c.deadLettered = deadLettered;
        c.duplicateLabels = duplicateLabels;
        c.unknownLabels = unknownLabels;
        c.duplicateRequests = duplicateRequests;
        c.implicitLabels = implicitLabels;
        c.unsampledRequests = unsampledRequests;
        c.unsampledLabels = unsampledLabels;
        c.parity = parity.copy();
        c.segments = segments == null ? null : segments.copy();
        c.labelDelays = labelDelays.copy();
        c.matured = matured.copy();
        c.arms = arms.copy();
        for (int m = 0; m < models; m++) {
            c.errors[m] = errors[m];
            c.absent[m] = absent[m];
            c.latencySumMicros[m] = latencySumMicros[m];
            c.latencyCount[m] = latencyCount[m];
            c.quality[m] = quality[m].copy();
            if (m > 0) {
                c.disagreement[m] = disagreement[m].copy();
                c.paired[m] = paired[m].copy();
            }
        }
        return c;
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeByte(task.ordinal());
        out.writeByte(models);
        long[] counts = {
            scored, labelled, expired, deadLettered, duplicateLabels, unknownLabels, duplicateRequests, implicitLabels
        };
        for (long v : counts) {
            MetricsIO.writeVarLong(out, v);
        }
        for (int m = 0; m < models; m++) {
            MetricsIO.writeVarLong(out, errors[m]);
            MetricsIO.writeVarLong(out, latencySumMicros[m]);
            MetricsIO.writeVarLong(out, latencyCount[m]);
            quality[m].writeTo(out);
            if (m > 0) {
                disagreement[m].writeTo(out);
                paired[m].writeTo(out);
            }
        }
        out.writeBoolean(segments != null);
        if (segments != null) {
            segments.writeTo(out);
        }
        parity.writeTo(out);
        labelDelays.writeTo(out);
        matured.writeTo(out);
        MetricsIO.writeVarLong(out, unsampledRequests);
        MetricsIO.writeVarLong(out, unsampledLabels);
        for (long a : absent) {
            MetricsIO.writeVarLong(out, a);
        }
        arms.writeTo(out);
    }

    public static ExperimentAccumulator readFrom(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version < 2 || version > FORMAT_VERSION) {
            throw new IOException("unknown ExperimentAccumulator format " + version);
        }
        Task task = Task.values()[in.readUnsignedByte()];
        int models = in.readUnsignedByte();
        ExperimentAccumulator a = new ExperimentAccumulator(task, models, null, false);
        a.scored = MetricsIO.readVarLong(in);
        a.labelled = MetricsIO.readVarLong(in);
        a.expired = MetricsIO.readVarLong(in);
        a.deadLettered = MetricsIO.readVarLong(in);
        a.duplicateLabels = MetricsIO.readVarLong(in);
        a.unknownLabels = MetricsIO.readVarLong(in);
        a.duplicateRequests = version >= 3 ? MetricsIO.readVarLong(in) : 0;
        a.implicitLabels = version >= 4 ? MetricsIO.readVarLong(in) : 0;
        for (int m = 0; m < models; m++) {
            a.errors[m] = MetricsIO.readVarLong(in);
            a.latencySumMicros[m] = MetricsIO.readVarLong(in);
            a.latencyCount[m] = MetricsIO.readVarLong(in);
            a.quality[m] = QualityAccumulator.readFrom(task, in);
            if (m > 0) {
                a.disagreement[m] = DisagreementAccumulator.readFrom(in);
                a.paired[m] = PairedComparisonAccumulator.readFrom(in);
            }
        }
        int hasSegments = in.readUnsignedByte();
        if (hasSegments > 1) {
            throw new IOException("corrupt ExperimentAccumulator: segment flag " + hasSegments);
        }
        if (hasSegments == 1) {
            a.segments = SegmentSlices.readFrom(in, task, models);
        }
        if (version >= 4) {
            a.parity = DisagreementAccumulator.readFrom(in);
        }
        if (version >= 5) {
            a.labelDelays = LabelDelays.readFrom(in);
            a.matured = MaturedEvidence.readFrom(in, task, models);
            a.unsampledRequests = MetricsIO.readNonNegativeVarLong(in, "unsampled requests");
            a.unsampledLabels = MetricsIO.readNonNegativeVarLong(in, "unsampled labels");
            for (int m = 0; m < models; m++) {
                a.absent[m] = MetricsIO.readNonNegativeVarLong(in, "absent");
            }
        } else {
            a.labelDelays = new LabelDelays(a.labelClasses());
            a.matured = MaturedEvidence.empty(task, models, a.labelClasses(), a.segments);
        }
        a.arms = version >= 6 ? ArmEvidence.readFrom(in) : new ArmEvidence();
        return a;
    }

    /** The classes a label can have: 2 (binary), the models' classes (multiclass), 1 (regression). */
    private int labelClasses() {
        switch (task) {
            case BINARY:
                return 2;
            case MULTICLASS:
                return ((MulticlassQualityAccumulator) quality[0]).numClasses();
            default:
                return 1;
        }
    }

    public Task task() {
        return task;
    }

    public int models() {
        return models;
    }

    /** Events of every kind folded in. */
    public long events() {
        return scored
                + labelled
                + expired
                + deadLettered
                + duplicateLabels
                + unknownLabels
                + duplicateRequests
                + unsampledRequests
                + unsampledLabels
                + arms.entities
                + arms.multiArmEntities;
    }

    public long scored() {
        return scored;
    }

    public long labelled() {
        return labelled;
    }

    public long expired() {
        return expired;
    }

    public long deadLettered() {
        return deadLettered;
    }

    /** Requests whose id had been scored before (the first scoring is the one joined with its label). */
    public long duplicateRequests() {
        return duplicateRequests;
    }

    public long duplicateLabels() {
        return duplicateLabels;
    }

    public long unknownLabels() {
        return unknownLabels;
    }

    public long errors(int model) {
        return errors[model];
    }

    /** Requests the model scored (or failed on): all scored, less those outside its own sample. */
    public long scoredBy(int model) {
        return scored - absent[model];
    }

    public double latencyMeanMicros(int model) {
        return latencyCount[model] == 0 ? Double.NaN : (double) latencySumMicros[model] / latencyCount[model];
    }
    /** The labelled quality of a model, of the implementation for the task. */
    public QualityAccumulator quality(int model) {
        return quality[model];
    }

    public DisagreementAccumulator disagreement(int candidate) {
        return disagreement[candidate];
    }

    public PairedComparisonAccumulator paired(int candidate) {
        return paired[candidate];
    }
    /** The per-segment counters, or null when no segment fields are configured. */
    public SegmentSlices segments() {
        return segments;
    }

    /** Delays of the explicit labels, by true class. */
    public LabelDelays labelDelays() {
        return labelDelays;
    }

    /** Canary / A-B evidence per serving arm. */
    public ArmEvidence arms() {
        return arms;
    }

    /** The matured evidence (requests older than label_maturity and their labels within it). */
    public MaturedEvidence matured() {
        return matured;
    }

    public long totalErrors() {
        long sum = 0;
        for (long e : errors) {
            sum += e;
        }
        return sum;
    }

    /** Labels joined per resolved request (labelled or expired); NaN before anything resolved. */
    /** The live model's parity with the logged outputs. */
    public DisagreementAccumulator parity() {
        return parity;
    }

    public long implicitLabels() {
        return implicitLabels;
    }

    /** Valid requests outside the experiment's sample (sample_rate). */
    public long unsampledRequests() {
        return unsampledRequests;
    }

    /** Labels of requests outside the experiment's sample, dropped before the join. */
    public long unsampledLabels() {
        return unsampledLabels;
    }

    /**
     * Requests labelled by a label event / requests resolved: {@link #labelCoverage} without the implicit
     * negatives, which cover every request that reaches its horizon.
     */
    public double explicitLabelCoverage() {
        long resolved = labelled + expired;
        return resolved == 0 ? Double.NaN : (double) (labelled - implicitLabels) / resolved;
    }

    public double labelCoverage() {
        long resolved = labelled + expired;
        return resolved == 0 ? Double.NaN : (double) labelled / resolved;
    }
}
