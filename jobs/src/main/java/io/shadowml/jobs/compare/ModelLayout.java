package io.shadowml.jobs.compare;

import java.io.Serializable;
import java.util.List;

import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * How the outputs of all compared models sit in one flat float array per event: model 0 is the live
 * model, 1..n the candidates. Binary models take one slot (P(positive)), regression one (the value),
 * multiclass K (the probabilities). Keeping predictions as one float[] keeps state and network records
 * small; this class is the one place that knows how to read them.
 */
public final class ModelLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Probabilities are clipped to [EPS, 1-EPS] for log loss, as scikit-learn did for years. */
    public static final double EPS = 1e-15;

    private final Task task;
    private final int numClasses;
    private final String[] ids;
    private final double[] thresholds;
    private final int slotsPerModel;

    public ModelLayout(List<ModelDescriptor> models) {
        this.task = models.get(0).task();
        this.numClasses = models.get(0).numClasses();
        this.ids = new String[models.size()];
        this.thresholds = new double[models.size()];
        for (int i = 0; i < models.size(); i++) {
            ModelDescriptor d = models.get(i);
            if (d.task() != task || d.numClasses() != numClasses) {
                throw new IllegalArgumentException(d.id() + " does not answer the same task as " + ids[0]);
            }
            ids[i] = d.id();
            thresholds[i] = task == Task.BINARY ? d.threshold() : Double.NaN;
        }
        this.slotsPerModel = task == Task.MULTICLASS ? numClasses : 1;
    }

    public Task task() {
        return task;
    }

    public int models() {
        return ids.length;
    }

    public int candidates() {
        return ids.length - 1;
    }

    public String modelId(int model) {
        return ids[model];
    }

    public int numClasses() {
        return numClasses;
    }

    public double threshold(int model) {
        return thresholds[model];
    }

    public int slotsPerModel() {
        return slotsPerModel;
    }

    public int width() {
        return slotsPerModel * ids.length;
    }

    public int offset(int model) {
        return model * slotsPerModel;
    }

    /** Binary: P(positive); regression: the value; multiclass: probability of the top class. */
    public double score(float[] outputs, int model) {
        if (task == Task.MULTICLASS) {
            return outputs[offset(model) + argmax(outputs, model)];
        }
        return outputs[offset(model)];
    }

    /** The decision: class at threshold (binary), top-1 class (multiclass), -1 for regression. */
    public int decision(float[] outputs, int model) {
        switch (task) {
            case BINARY: return outputs[offset(model)] >= thresholds[model] ? 1 : 0;
            case MULTICLASS: return argmax(outputs, model);
            default: return -1;
        }
    }

    private int argmax(float[] outputs, int model) {
        int off = offset(model);
        int best = 0;
        for (int k = 1; k < numClasses; k++) {
            if (outputs[off + k] > outputs[off + best]) {
                best = k;
            }
        }
        return best;
    }

    /** Whether candidate and live reach different decisions (never for regression). */
    public boolean flipped(float[] outputs, int candidate) {
        return task != Task.REGRESSION && decision(outputs, 0) != decision(outputs, candidate);
    }

    /**
     * How far apart the two outputs are: |score difference| for binary and regression, total variation
     * distance (half the L1 distance of the probability vectors) for multiclass.
     */
    public double absDifference(float[] outputs, int candidate) {
        if (task != Task.MULTICLASS) {
            return Math.abs((double) outputs[offset(candidate)] - outputs[0]);
        }
        double l1 = 0;
        int off = offset(candidate);
        for (int k = 0; k < numClasses; k++) {
            l1 += Math.abs((double) outputs[off + k] - outputs[k]);
        }
        return l1 / 2;
    }

    /** Whether a label is a valid answer for this task; null if so, else the reason. */
    public String checkLabel(double label) {
        if (!Double.isFinite(label)) {
            return "label value is " + label;
        }
        if (task == Task.BINARY && label != 0.0 && label != 1.0) {
            return "binary label must be 0 or 1, was " + label;
        }
        if (task == Task.MULTICLASS && (label != Math.rint(label) || label < 0 || label >= numClasses)) {
            return "class label must be an integer in [0, " + numClasses + "), was " + label;
        }
        return null;
    }

    public boolean correct(float[] outputs, int model, double label) {
        return task != Task.REGRESSION && decision(outputs, model) == (int) label;
    }

    /** Per-event loss: log loss for classification, squared error for regression. */
    public double loss(float[] outputs, int model, double label) {
        switch (task) {
            case BINARY: {
                double p = clip(outputs[offset(model)]);
                return label == 1.0 ? -Math.log(p) : -Math.log(1 - p);
            }
            case MULTICLASS:
                return -Math.log(clip(outputs[offset(model) + (int) label]));
            default: {
                double e = outputs[offset(model)] - label;
                return e * e;
            }
        }
    }

    private static double clip(double p) {
        return Math.min(1 - EPS, Math.max(EPS, p));
    }
}
