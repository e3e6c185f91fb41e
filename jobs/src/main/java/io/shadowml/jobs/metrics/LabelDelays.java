package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

import org.apache.datasketches.kll.KllDoublesSketch;

/**
 * The delay of explicit labels, label time − request time in seconds (0 for a label before its request),
 * per true class (one distribution for regression), as Apache DataSketches KLL sketches: the quantiles
 * that show whether one outcome is labelled much later than another (jobs/METRICS.md, "Label delay").
 * Implicit labels have no label event and no delay. Mergeable; not thread-safe.
 */
public final class LabelDelays {
    private static final int FORMAT_VERSION = 1;
    private static final int MAX_CLASSES = 1 << 16;

    /** Index = class; null until the class has a delay. */
    private final KllDoublesSketch[] byClass;

    /** @param classes the task's classes (1 for regression) */
    public LabelDelays(int classes) {
        if (classes < 1 || classes > MAX_CLASSES) {
            throw new IllegalArgumentException("classes must be in [1, " + MAX_CLASSES + "]: " + classes);
        }
        byClass = new KllDoublesSketch[classes];
    }

    /** @param labelClass the true class, or anything for regression (one class) */
    public void add(int labelClass, double delaySeconds) {
        int k = byClass.length == 1 ? 0 : labelClass;
        if (k < 0 || k >= byClass.length || !(delaySeconds >= 0) || Double.isInfinite(delaySeconds)) {
            return; // validated upstream: a label's class is in range and its times finite
        }
        if (byClass[k] == null) {
            byClass[k] = KllDoublesSketch.newHeapInstance(DisagreementAccumulator.DEFAULT_K);
        }
        byClass[k].update(delaySeconds);
    }

    public void merge(LabelDelays other) {
        if (other.byClass.length != byClass.length) {
            throw new IllegalArgumentException(
                    "cannot merge label delays of " + other.byClass.length + " classes into " + byClass.length);
        }
        for (int k = 0; k < byClass.length; k++) {
            KllDoublesSketch theirs = other.byClass[k];
            if (theirs == null) {
                continue;
            }
            if (byClass[k] == null) {
                byClass[k] = KllSketches.copy(theirs);
            } else {
                byClass[k].merge(theirs);
            }
        }
    }

    public LabelDelays copy() {
        LabelDelays c = new LabelDelays(byClass.length);
        c.merge(this);
        return c;
    }

    public int classes() {
        return byClass.length;
    }

    /** Explicit labels of the class seen. */
    public long count(int labelClass) {
        return byClass[labelClass] == null ? 0 : byClass[labelClass].getN();
    }

    /** Approximate q-quantile of the class's delays in seconds (KLL rank error); NaN when none. */
    public double quantileSeconds(int labelClass, double q) {
        KllDoublesSketch s = byClass[labelClass];
        return s == null ? Double.NaN : s.getQuantile(q);
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeInt(byClass.length);
        for (KllDoublesSketch s : byClass) {
            out.writeBoolean(s != null);
            if (s != null) {
                KllSketches.write(out, s);
            }
        }
    }

    public static LabelDelays readFrom(DataInput in) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "LabelDelays");
        int classes = in.readInt();
        if (classes < 1 || classes > MAX_CLASSES) {
            throw new IOException("corrupt LabelDelays: " + classes + " classes");
        }
        LabelDelays d = new LabelDelays(classes);
        for (int k = 0; k < classes; k++) {
            if (in.readBoolean()) {
                d.byClass[k] = KllSketches.read(in, "LabelDelays");
            }
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof LabelDelays)) {
            return false;
        }
        LabelDelays that = (LabelDelays) o;
        if (that.byClass.length != byClass.length) {
            return false;
        }
        for (int k = 0; k < byClass.length; k++) {
            KllDoublesSketch a = byClass[k];
            KllDoublesSketch b = that.byClass[k];
            if ((a == null) != (b == null) || a != null && !Arrays.equals(a.toByteArray(), b.toByteArray())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return byClass.length;
    }
}
