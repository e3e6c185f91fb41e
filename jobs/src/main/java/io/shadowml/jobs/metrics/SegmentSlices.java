package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The per-segment part of an {@link ExperimentAccumulator}: for each configured segment field and each
 * of its values, a few counters ({@link Slice}) from which the reports derive per-segment disagreement
 * and quality.
 *
 * <p><b>Bounded.</b> Per field at most {@code maxValues} values are named; requests without the field
 * go to {@link SegmentSpec#MISSING}, and all further values are summed into {@link SegmentSpec#OTHER}.
 * The named values are the {@code maxValues} <em>smallest</em> values seen (in {@link String#compareTo}
 * order): when a smaller value arrives while the field is full, the largest named value is folded into
 * {@code (other)}. Because every slice is a plain sum, this makes the state a function of the set of
 * events alone: which values are named, and each slice's figures, do not depend on arrival order, on
 * sharding or on the order of merges, so {@link #merge} equals accumulating the union exactly (double
 * sums up to rounding). A value that is literally {@code (none)} or {@code (other)} shares that slice.
 *
 * <p>{@link #slicesOf} allocates only when a value is seen for the first time (one {@link Slice}).
 */
public final class SegmentSlices {
    /** Own format, written inside {@link ExperimentAccumulator}'s (which carries the task and model count). */
    /** 2: each slice also keeps the paired agreement counts per candidate. Version 1 is read with none. */
    private static final int FORMAT_VERSION = 2;

    private static final int MAX_FIELDS = 1 << 16;
    private static final int MAX_VALUES = 1 << 20;
    private static final int MAX_STRING_CHARS = 1 << 24;

    private final Task task;
    private final int models;
    private final String[] fields;
    private final int maxValues;
    private final TreeMap<String, Slice>[] named;
    private final Slice[] missing;
    private final Slice[] other;
    private transient Slice[] current;

    SegmentSlices(SegmentSpec spec, Task task, int models) {
        this(fieldsOf(spec), spec.maxValues(), task, models);
    }

    @SuppressWarnings("unchecked")
    private SegmentSlices(String[] fields, int maxValues, Task task, int models) {
        this.task = task;
        this.models = models;
        this.fields = fields;
        this.maxValues = maxValues;
        this.named = new TreeMap[fields.length];
        for (int f = 0; f < fields.length; f++) {
            named[f] = new TreeMap<>();
        }
        this.missing = new Slice[fields.length];
        this.other = new Slice[fields.length];
    }

    private static String[] fieldsOf(SegmentSpec spec) {
        String[] f = new String[spec.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = spec.field(i);
        }
        return f;
    }

    /**
     * The slice of every field for an event's segment values (one per field, in field order; a
     * {@code null} value, or a {@code null} or short array, means missing). The returned array is
     * reused by the next call.
     */
    Slice[] slicesOf(String[] values) {
        if (current == null) {
            current = new Slice[fields.length];
        }
        for (int f = 0; f < fields.length; f++) {
            current[f] = slice(f, values == null || f >= values.length ? null : values[f]);
        }
        return current;
    }

    private Slice slice(int f, String value) {
        if (value == null || value.equals(SegmentSpec.MISSING)) {
            if (missing[f] == null) {
                missing[f] = new Slice(task, models);
            }
            return missing[f];
        }
        if (value.equals(SegmentSpec.OTHER)) {
            return other(f);
        }
        TreeMap<String, Slice> map = named[f];
        Slice s = map.get(value);
        if (s != null) {
            return s;
        }
        if (map.size() >= maxValues) {
            if (value.compareTo(map.lastKey()) > 0) {
                return other(f);
            }
            other(f).merge(map.pollLastEntry().getValue());
        }
        s = new Slice(task, models);
        map.put(value, s);
        return s;
    }

    private Slice other(int f) {
        if (other[f] == null) {
            other[f] = new Slice(task, models);
        }
        return other[f];
    }

    boolean sameShape(SegmentSlices o) {
        return o.task == task && o.models == models && o.maxValues == maxValues && Arrays.equals(o.fields, fields);
    }

    SegmentSlices merge(SegmentSlices o) {
        if (!sameShape(o)) {
            throw new IllegalArgumentException("cannot merge segment slices of different segment fields or models");
        }
        for (int f = 0; f < fields.length; f++) {
            for (Map.Entry<String, Slice> e : o.named[f].entrySet()) {
                slice(f, e.getKey()).merge(e.getValue());
            }
            if (o.missing[f] != null) {
                slice(f, null).merge(o.missing[f]);
            }
            if (o.other[f] != null) {
                other(f).merge(o.other[f]);
            }
        }
        return this;
    }

    /**
     * Forgets model {@code model}'s figures in every slice (see {@link Slice#clearModel}), for a model
     * slot that changes occupant. Which values are named, and each slice's scored count, depend on the
     * requests alone, not on any model: they stay.
     */
    void clearModel(int model) {
        if (model < 0 || model >= models) {
            throw new IllegalArgumentException("model " + model + " outside [0, " + models + ")");
        }
        for (int f = 0; f < fields.length; f++) {
            for (Slice s : named[f].values()) {
                s.clearModel(model);
            }
            if (missing[f] != null) {
                missing[f].clearModel(model);
            }
            if (other[f] != null) {
                other[f].clearModel(model);
            }
        }
    }

    /** No slices, the same fields and limits. */
    SegmentSlices emptyCopy() {
        return new SegmentSlices(fields, maxValues, task, models);
    }

    SegmentSlices copy() {
        SegmentSlices c = new SegmentSlices(fields, maxValues, task, models);
        for (int f = 0; f < fields.length; f++) {
            for (Map.Entry<String, Slice> e : named[f].entrySet()) {
                c.named[f].put(e.getKey(), e.getValue().copy());
            }
            c.missing[f] = missing[f] == null ? null : missing[f].copy();
            c.other[f] = other[f] == null ? null : other[f].copy();
        }
        return c;
    }

    public int fields() {
        return fields.length;
    }

    public String field(int f) {
        return fields[f];
    }

    public int maxValues() {
        return maxValues;
    }

    /**
     * The slices of field {@code f}: the named values in ascending order, then {@code (none)} and
     * {@code (other)} if they hold anything. A new map; the slices are live.
     */
    public Map<String, Slice> slices(int f) {
        Map<String, Slice> out = new LinkedHashMap<>(named[f]);
        if (missing[f] != null) {
            out.put(SegmentSpec.MISSING, missing[f]);
        }
        if (other[f] != null) {
            out.put(SegmentSpec.OTHER, other[f]);
        }
        return out;
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, maxValues);
        MetricsIO.writeVarLong(out, fields.length);
        for (int f = 0; f < fields.length; f++) {
            writeString(out, fields[f]);
            MetricsIO.writeVarLong(out, named[f].size());
            for (Map.Entry<String, Slice> e : named[f].entrySet()) {
                writeString(out, e.getKey());
                e.getValue().writeTo(out);
            }
            out.writeByte((missing[f] != null ? 1 : 0) | (other[f] != null ? 2 : 0));
            if (missing[f] != null) {
                missing[f].writeTo(out);
            }
            if (other[f] != null) {
                other[f].writeTo(out);
            }
        }
    }

    static SegmentSlices readFrom(DataInput in, Task task, int models) throws IOException {
        int version = in.readUnsignedByte();
        if (version != 1 && version != FORMAT_VERSION) {
            throw new IOException("unknown SegmentSlices format " + version);
        }
        long maxValues = MetricsIO.readVarLong(in);
        if (maxValues < 1 || maxValues > MAX_VALUES) {
            throw new IOException("corrupt SegmentSlices: max values " + maxValues);
        }
        long n = MetricsIO.readVarLong(in);
        if (n < 1 || n > MAX_FIELDS) {
            throw new IOException("corrupt SegmentSlices: " + n + " fields");
        }
        String[] fields = new String[(int) n];
        @SuppressWarnings("unchecked")
        TreeMap<String, Slice>[] named = new TreeMap[(int) n];
        Slice[][] extra = new Slice[(int) n][2];
        for (int f = 0; f < n; f++) {
            fields[f] = readString(in);
            if (fields[f].isEmpty()) {
                throw new IOException("corrupt SegmentSlices: empty field name");
            }
            long values = MetricsIO.readVarLong(in);
            if (values < 0 || values > maxValues) {
                throw new IOException("corrupt SegmentSlices: " + values + " named values, at most " + maxValues);
            }
            named[f] = new TreeMap<>();
            String prev = null;
            for (long v = 0; v < values; v++) {
                String key = readString(in);
                if (prev != null && key.compareTo(prev) <= 0) {
                    throw new IOException("corrupt SegmentSlices: values of '" + fields[f] + "' out of order");
                }
                if (key.equals(SegmentSpec.MISSING) || key.equals(SegmentSpec.OTHER)) {
                    throw new IOException("corrupt SegmentSlices: named value " + key);
                }
                named[f].put(key, Slice.readFrom(in, task, models, version));
                prev = key;
            }
            int flags = in.readUnsignedByte();
            if ((flags & ~3) != 0) {
                throw new IOException("corrupt SegmentSlices: flags " + flags);
            }
            extra[f][0] = (flags & 1) != 0 ? Slice.readFrom(in, task, models, version) : null;
            extra[f][1] = (flags & 2) != 0 ? Slice.readFrom(in, task, models, version) : null;
        }
        if (new HashSet<>(Arrays.asList(fields)).size() != fields.length) {
            throw new IOException("corrupt SegmentSlices: duplicate field names");
        }
        SegmentSlices s = new SegmentSlices(fields, (int) maxValues, task, models);
        for (int f = 0; f < n; f++) {
            s.named[f].putAll(named[f]);
            s.missing[f] = extra[f][0];
            s.other[f] = extra[f][1];
        }
        return s;
    }

    /** Length in chars, then each UTF-16 char as a varint: exact for any string, one byte per ASCII char. */
    private static void writeString(DataOutput out, String s) throws IOException {
        MetricsIO.writeVarLong(out, s.length());
        for (int i = 0; i < s.length(); i++) {
            MetricsIO.writeVarLong(out, s.charAt(i));
        }
    }

    private static String readString(DataInput in) throws IOException {
        long len = MetricsIO.readVarLong(in);
        if (len < 0 || len > MAX_STRING_CHARS) {
            throw new IOException("corrupt SegmentSlices: string of " + len + " chars");
        }
        char[] chars = new char[(int) len];
        for (int i = 0; i < len; i++) {
            long c = MetricsIO.readVarLong(in);
            if (c < 0 || c > Character.MAX_VALUE) {
                throw new IOException("corrupt SegmentSlices: char " + c);
            }
            chars[i] = (char) c;
        }
        return new String(chars);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SegmentSlices)) {
            return false;
        }
        SegmentSlices s = (SegmentSlices) o;
        return sameShape(s)
                && Arrays.equals(named, s.named)
                && Arrays.equals(missing, s.missing)
                && Arrays.equals(other, s.other);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                Arrays.hashCode(fields),
                maxValues,
                Arrays.hashCode(named),
                Arrays.hashCode(missing),
                Arrays.hashCode(other));
    }

    /**
     * The counters of one segment value. Arrays are indexed by model (0 = live); the per-candidate ones
     * leave index 0 unused.
     */
    public static final class Slice {
        long scored;
        /** Per candidate: SCORED events where live and candidate were both valid. */
        final long[] compared;

        final long[] flips;
        final double[] absDiffSum;
        /** Per model: LABELLED events where this model was valid. */
        final long[] labelled;
        /** Classification only: of those, the ones where the model's decision equals the label. */
        final long[] correct;
        /** Regression only: sum of |prediction − label| over those. */
        final double[] absErrorSum;
        /**
         * Classification, per candidate: the labelled pairs of the paired comparison (see
         * {@link ExperimentAccumulator}), and of those the ones only live (b) or only the candidate (c)
         * got right: the per-segment paired accuracy test. Null for regression.
         */
        final long[] pairs;

        final long[] liveOnly;
        final long[] candidateOnly;

        Slice(Task task, int models) {
            compared = new long[models];
            flips = new long[models];
            absDiffSum = new double[models];
            labelled = new long[models];
            correct = task == Task.REGRESSION ? null : new long[models];
            absErrorSum = task == Task.REGRESSION ? new double[models] : null;
            pairs = task == Task.REGRESSION ? null : new long[models];
            liveOnly = task == Task.REGRESSION ? null : new long[models];
            candidateOnly = task == Task.REGRESSION ? null : new long[models];
        }

        private Slice(Slice o) {
            scored = o.scored;
            compared = o.compared.clone();
            flips = o.flips.clone();
            absDiffSum = o.absDiffSum.clone();
            labelled = o.labelled.clone();
            correct = o.correct == null ? null : o.correct.clone();
            absErrorSum = o.absErrorSum == null ? null : o.absErrorSum.clone();
            pairs = o.pairs == null ? null : o.pairs.clone();
            liveOnly = o.liveOnly == null ? null : o.liveOnly.clone();
            candidateOnly = o.candidateOnly == null ? null : o.candidateOnly.clone();
        }

        void addPair(int candidate, boolean liveCorrect, boolean candidateCorrect) {
            pairs[candidate]++;
            if (liveCorrect && !candidateCorrect) {
                liveOnly[candidate]++;
            } else if (candidateCorrect && !liveCorrect) {
                candidateOnly[candidate]++;
            }
        }

        void addCompared(int candidate, boolean flipped, double absDifference) {
            compared[candidate]++;
            if (flipped) {
                flips[candidate]++;
            }
            absDiffSum[candidate] += absDifference;
        }

        void addLabelled(int model, boolean isCorrect, double absError) {
            labelled[model]++;
            if (correct != null) {
                if (isCorrect) {
                    correct[model]++;
                }
            } else {
                absErrorSum[model] += absError;
            }
        }

        void merge(Slice o) {
            scored += o.scored;
            for (int m = 0; m < compared.length; m++) {
                compared[m] += o.compared[m];
                flips[m] += o.flips[m];
                absDiffSum[m] += o.absDiffSum[m];
                labelled[m] += o.labelled[m];
                if (correct != null) {
                    correct[m] += o.correct[m];
                    pairs[m] += o.pairs[m];
                    liveOnly[m] += o.liveOnly[m];
                    candidateOnly[m] += o.candidateOnly[m];
                } else {
                    absErrorSum[m] += o.absErrorSum[m];
                }
            }
        }

        Slice copy() {
            return new Slice(this);
        }

        /**
         * Model {@code model}'s counters back to those of a new slice: compared, flips and difference sum
         * (candidates), labelled, correct and error sum, and the paired counts (candidates). The slice's
         * scored count is the requests', not the model's: it stays.
         */
        void clearModel(int model) {
            compared[model] = 0;
            flips[model] = 0;
            absDiffSum[model] = 0.0;
            labelled[model] = 0;
            if (correct != null) {
                correct[model] = 0;
            }
            if (absErrorSum != null) {
                absErrorSum[model] = 0.0;
            }
            if (pairs != null) {
                pairs[model] = 0;
                liveOnly[model] = 0;
                candidateOnly[model] = 0;
            }
        }

        public long scored() {
            return scored;
        }

        public long compared(int candidate) {
            return compared[candidate];
        }

        public long flips(int candidate) {
            return flips[candidate];
        }
        /** flips / compared; NaN if nothing compared. */
        public double flipRate(int candidate) {
            return MetricsIO.ratio(flips[candidate], compared[candidate]);
        }
        /** Mean |difference| (as in {@link DisagreementAccumulator}); NaN if nothing compared. */
        public double absDiffMean(int candidate) {
            return MetricsIO.mean(absDiffSum[candidate], compared[candidate]);
        }

        public long labelled(int model) {
            return labelled[model];
        }
        /** Classification: correct / labelled; NaN if nothing labelled. */
        public double accuracy(int model) {
            return MetricsIO.ratio(correct[model], labelled[model]);
        }
        /** Classification: labelled pairs of live and the candidate (0 for regression). */
        public long pairs(int candidate) {
            return pairs == null ? 0 : pairs[candidate];
        }

        /** Of {@link #pairs}, those only live got right (b). */
        public long liveOnlyCorrect(int candidate) {
            return liveOnly == null ? 0 : liveOnly[candidate];
        }

        /** Of {@link #pairs}, those only the candidate got right (c). */
        public long candidateOnlyCorrect(int candidate) {
            return candidateOnly == null ? 0 : candidateOnly[candidate];
        }

        /** Regression: mean |prediction − label|; NaN if nothing labelled. */
        public double mae(int model) {
            return MetricsIO.mean(absErrorSum[model], labelled[model]);
        }

        void writeTo(DataOutput out) throws IOException {
            MetricsIO.writeVarLong(out, scored);
            for (int c = 1; c < compared.length; c++) {
                MetricsIO.writeVarLong(out, compared[c]);
                if (compared[c] > 0) {
                    MetricsIO.writeVarLong(out, flips[c]);
                    out.writeDouble(absDiffSum[c]);
                }
            }
            for (int m = 0; m < labelled.length; m++) {
                MetricsIO.writeVarLong(out, labelled[m]);
                if (labelled[m] > 0) {
                    if (correct != null) {
                        MetricsIO.writeVarLong(out, correct[m]);
                    } else {
                        out.writeDouble(absErrorSum[m]);
                    }
                }
            }
            if (pairs != null) {
                for (int c = 1; c < pairs.length; c++) {
                    MetricsIO.writeVarLong(out, pairs[c]);
                    if (pairs[c] > 0) {
                        MetricsIO.writeVarLong(out, liveOnly[c]);
                        MetricsIO.writeVarLong(out, candidateOnly[c]);
                    }
                }
            }
        }

        static Slice readFrom(DataInput in, Task task, int models, int version) throws IOException {
            Slice s = new Slice(task, models);
            s.scored = MetricsIO.readNonNegativeVarLong(in, "segment scored count");
            for (int c = 1; c < models; c++) {
                s.compared[c] = MetricsIO.readNonNegativeVarLong(in, "segment compared count");
                if (s.compared[c] > 0) {
                    s.flips[c] = MetricsIO.readNonNegativeVarLong(in, "segment flip count");
                    s.absDiffSum[c] = in.readDouble();
                    if (s.flips[c] > s.compared[c] || !(s.absDiffSum[c] >= 0) || Double.isInfinite(s.absDiffSum[c])) {
                        throw new IOException("corrupt segment slice: " + s.flips[c] + " flips, difference sum "
                                + s.absDiffSum[c] + " for " + s.compared[c] + " compared");
                    }
                }
            }
            for (int m = 0; m < models; m++) {
                s.labelled[m] = MetricsIO.readNonNegativeVarLong(in, "segment labelled count");
                if (s.labelled[m] > 0) {
                    if (s.correct != null) {
                        s.correct[m] = MetricsIO.readNonNegativeVarLong(in, "segment correct count");
                        if (s.correct[m] > s.labelled[m]) {
                            throw new IOException("corrupt segment slice: " + s.correct[m] + " correct of "
                                    + s.labelled[m] + " labelled");
                        }
                    } else {
                        s.absErrorSum[m] = in.readDouble();
                        if (!(s.absErrorSum[m] >= 0) || Double.isInfinite(s.absErrorSum[m])) {
                            throw new IOException("corrupt segment slice: error sum " + s.absErrorSum[m]);
                        }
                    }
                }
            }
            if (s.pairs != null && version >= 2) {
                for (int c = 1; c < models; c++) {
                    s.pairs[c] = MetricsIO.readNonNegativeVarLong(in, "segment pair count");
                    if (s.pairs[c] > 0) {
                        s.liveOnly[c] = MetricsIO.readNonNegativeVarLong(in, "segment live-only count");
                        s.candidateOnly[c] = MetricsIO.readNonNegativeVarLong(in, "segment candidate-only count");
                        if (s.liveOnly[c] + s.candidateOnly[c] > s.pairs[c]) {
                            throw new IOException("corrupt segment slice: " + s.liveOnly[c] + " + " + s.candidateOnly[c]
                                    + " discordant of " + s.pairs[c] + " pairs");
                        }
                    }
                }
            }
            return s;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Slice)) {
                return false;
            }
            Slice s = (Slice) o;
            return scored == s.scored
                    && Arrays.equals(compared, s.compared)
                    && Arrays.equals(flips, s.flips)
                    && Arrays.equals(absDiffSum, s.absDiffSum)
                    && Arrays.equals(labelled, s.labelled)
                    && Arrays.equals(correct, s.correct)
                    && Arrays.equals(absErrorSum, s.absErrorSum)
                    && Arrays.equals(pairs, s.pairs)
                    && Arrays.equals(liveOnly, s.liveOnly)
                    && Arrays.equals(candidateOnly, s.candidateOnly);
        }

        @Override
        public int hashCode() {
            return Objects.hash(
                    scored,
                    Arrays.hashCode(compared),
                    Arrays.hashCode(flips),
                    Arrays.hashCode(absDiffSum),
                    Arrays.hashCode(labelled),
                    Arrays.hashCode(correct),
                    Arrays.hashCode(absErrorSum),
                    Arrays.hashCode(pairs));
        }

        @Override
        public String toString() {
            return "Slice{scored=" + scored + ", compared=" + Arrays.toString(compared) + ", flips="
                    + Arrays.toString(flips) + ", labelled=" + Arrays.toString(labelled) + "}";
        }
    }
}
