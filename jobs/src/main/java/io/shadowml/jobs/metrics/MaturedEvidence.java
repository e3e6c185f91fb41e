package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The evidence the verdict decides on: requests whose event time is older than {@code label_maturity},
 * each counted once when it matures, with the labels that arrived within the maturity of their request
 * (jobs/METRICS.md, "Matured evidence"). Which requests it holds depends on their event time only, never
 * on when their outcome happened to be labelled, so outcomes that are labelled late are represented as
 * fully as those labelled early. Mergeable; not thread-safe.
 */
public final class MaturedEvidence {
    private static final int FORMAT_VERSION = 1;

    private final Task task;
    private final int models;
    /** Requests matured (scored), labelled or not. */
    long requests;
    /** Of them, those labelled within their maturity. */
    long labelled;
    /** Index = candidate; slot 0 (the live model) unused. */
    final PairedComparisonAccumulator[] paired;
    /** Per-segment paired counts; null when no segment fields are configured. */
    SegmentSlices segments;

    MaturedEvidence(ModelLayout layout, SegmentSpec segmentSpec) {
        this(layout.task(), layout.models());
        for (int c = 1; c < models; c++) {
            paired[c] = new PairedComparisonAccumulator(task == Task.REGRESSION ? 0 : layout.numClasses());
        }
        if (!segmentSpec.isEmpty()) {
            segments = new SegmentSlices(segmentSpec, task, models);
        }
    }

    private MaturedEvidence(Task task, int models) {
        this.task = task;
        this.models = models;
        paired = new PairedComparisonAccumulator[models];
    }

    /** A scored request that reached its maturity. */
    void addRequest() {
        requests++;
    }

    /** A request's label that arrived within its maturity, counted when the request matures. */
    void addLabelled(MetricEvent e, ModelLayout layout) {
        labelled++;
        SegmentSlices.Slice[] slices = segments == null ? null : segments.slicesOf(e.segments);
        for (int c = 1; c < models; c++) {
            ExperimentAccumulator.addPair(task, e, layout, c, paired[c], slices);
        }
    }

    void merge(MaturedEvidence o, boolean replaceSegments) {
        requests += o.requests;
        labelled += o.labelled;
        for (int c = 1; c < models; c++) {
            paired[c].merge(o.paired[c]);
        }
        if (replaceSegments) {
            segments = o.segments == null ? null : o.segments.copy();
        } else if (segments != null) {
            segments.merge(o.segments);
        }
    }

    /**
     * Forgets candidate {@code model}'s evidence, for a slot that changes occupant: its paired comparison
     * becomes a new one with agreement counts for {@code classes} true classes (0 for regression), as
     * {@link #MaturedEvidence(ModelLayout, SegmentSpec)} creates it, and its figures in the segment slices
     * are cleared ({@link SegmentSlices#clearModel}). The matured requests and labelled counts are the
     * requests', not a model's: they stay.
     */
    void clearModel(int model, int classes) {
        if (model < 1 || model >= models) {
            throw new IllegalArgumentException("candidate " + model + " outside [1, " + models + ")");
        }
        paired[model] = new PairedComparisonAccumulator(task == Task.REGRESSION ? 0 : classes);
        if (segments != null) {
            segments.clearModel(model);
        }
    }

    MaturedEvidence copy() {
        MaturedEvidence c = new MaturedEvidence(task, models);
        c.requests = requests;
        c.labelled = labelled;
        for (int m = 1; m < models; m++) {
            c.paired[m] = paired[m].copy();
        }
        c.segments = segments == null ? null : segments.copy();
        return c;
    }

    public long requests() {
        return requests;
    }

    public long labelled() {
        return labelled;
    }

    public PairedComparisonAccumulator paired(int candidate) {
        return paired[candidate];
    }

    /** Per-segment paired counts of the matured requests, or null when no segment fields are configured. */
    public SegmentSlices segments() {
        return segments;
    }

    /** Matured requests labelled within their maturity; NaN before any matured. */
    public double labelCoverage() {
        return requests == 0 ? Double.NaN : (double) labelled / requests;
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, requests);
        MetricsIO.writeVarLong(out, labelled);
        for (int c = 1; c < models; c++) {
            paired[c].writeTo(out);
        }
        out.writeBoolean(segments != null);
        if (segments != null) {
            segments.writeTo(out);
        }
    }

    static MaturedEvidence readFrom(DataInput in, Task task, int models) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "MaturedEvidence");
        MaturedEvidence m = new MaturedEvidence(task, models);
        m.requests = MetricsIO.readNonNegativeVarLong(in, "matured requests");
        m.labelled = MetricsIO.readNonNegativeVarLong(in, "matured labelled");
        for (int c = 1; c < models; c++) {
            m.paired[c] = PairedComparisonAccumulator.readFrom(in);
        }
        if (in.readBoolean()) {
            m.segments = SegmentSlices.readFrom(in, task, models);
        }
        return m;
    }

    /** No evidence yet, with {@code segs}' fields (state written before maturity existed). */
    static MaturedEvidence empty(Task task, int models, int classes, SegmentSlices segs) {
        MaturedEvidence m = new MaturedEvidence(task, models);
        for (int c = 1; c < models; c++) {
            m.paired[c] = new PairedComparisonAccumulator(task == Task.REGRESSION ? 0 : classes);
        }
        m.segments = segs == null ? null : segs.emptyCopy();
        return m;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MaturedEvidence)) {
            return false;
        }
        MaturedEvidence that = (MaturedEvidence) o;
        return requests == that.requests
                && labelled == that.labelled
                && Arrays.equals(paired, that.paired)
                && Objects.equals(segments, that.segments);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(requests) * 31 + Long.hashCode(labelled);
    }
}
