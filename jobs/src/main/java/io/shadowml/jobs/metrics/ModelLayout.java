package io.shadowml.jobs.metrics;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * How the outputs of all compared models sit in one flat float array per event: model 0 is the live
 * model, 1..n the candidates. Binary models take one slot (P(positive)), regression one (the value),
 * multiclass K (the probabilities). Keeping predictions as one float[] keeps state and network records
 * small; this class is the one place that knows how to read them. It also carries the experiment's
 * canary arms ({@link ArmLayout}), which name the model that served each request.
 */
public final class ModelLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Task task;
    private final int numClasses;
    private final String[] ids;
    private final double[] thresholds;
    private final int slotsPerModel;
    private final ArmLayout arms;

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
        this.arms = ArmLayout.NONE;
    }

    private ModelLayout(ModelLayout models, ArmLayout arms) {
        this.task = models.task;
        this.numClasses = models.numClasses;
        this.ids = models.ids;
        this.thresholds = models.thresholds;
        this.slotsPerModel = models.slotsPerModel;
        this.arms = arms;
    }

    private ModelLayout(ModelLayout models, int candidateSlots) {
        this.task = models.task;
        this.numClasses = models.numClasses;
        this.ids = Arrays.copyOf(models.ids, 1 + candidateSlots);
        this.thresholds = Arrays.copyOf(models.thresholds, 1 + candidateSlots);
        // An announced binary candidate decides at the live model's threshold (ModelTable checks it).
        Arrays.fill(thresholds, models.ids.length, thresholds.length, models.thresholds[0]);
        this.slotsPerModel = models.slotsPerModel;
        this.arms = models.arms;
    }

    /**
     * This layout with {@code candidateSlots} candidate positions (models.candidate_slots): the slots
     * beyond this layout's candidates are empty ({@link #modelId} null) until a candidate is announced
     * into one, and decide at the live model's threshold.
     */
    public ModelLayout withSlots(int candidateSlots) {
        if (candidateSlots < candidates()) {
            throw new IllegalArgumentException(candidateSlots + " slots for " + candidates() + " candidates");
        }
        return new ModelLayout(this, candidateSlots);
    }

    private ModelLayout(ModelLayout models, String[] ids) {
        this.task = models.task;
        this.numClasses = models.numClasses;
        this.ids = ids.clone();
        this.thresholds = models.thresholds;
        this.slotsPerModel = models.slotsPerModel;
        this.arms = models.arms;
    }

    /** This layout with the models in its slots named {@code ids} (null: an empty slot), as reports name them. */
    public ModelLayout withIds(String[] ids) {
        if (ids.length != this.ids.length) {
            throw new IllegalArgumentException(ids.length + " ids for " + this.ids.length + " slots");
        }
        return new ModelLayout(this, ids);
    }

    /** This layout with the experiment's canary arms. */
    public ModelLayout withArms(ArmLayout arms) {
        return new ModelLayout(this, arms);
    }

    /** The canary arms; {@link ArmLayout#NONE} without a canary. */
    public ArmLayout arms() {
        return arms;
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

    /** {@link #modelId} of every slot, in slot order (a copy). */
    public String[] modelIds() {
        return ids.clone();
    }

    /** {@link #threshold} of every slot, in slot order (a copy). */
    public double[] thresholds() {
        return thresholds.clone();
    }

    /** The model the job was started with in this position; null for a slot left for announced candidates. */
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
            int off = offset(model);
            return outputs[off + argmax(outputs, off, numClasses)];
        }
        return outputs[offset(model)];
    }

    /**
     * The decision: class at threshold (binary), top-1 class (multiclass), -1 for regression. The
     * binary score is compared in its own float32 precision, {@code score >= (float) threshold}, so a
     * score 0.7f is positive at threshold 0.7 (as doubles 0.7f &lt; 0.7); jobs/METRICS.md.
     */
    public int decision(float[] outputs, int model) {
        return decision(outputs, offset(model), thresholds[model]);
    }

    /** {@link #decision} of one model's outputs at {@code values[offset..]}, at {@code threshold} (binary). */
    private int decision(float[] values, int offset, double threshold) {
        switch (task) {
            case BINARY:
                return values[offset] >= (float) threshold ? 1 : 0;
            case MULTICLASS:
                return argmax(values, offset, numClasses);
            default:
                return -1;
        }
    }

    /** The top class among {@code numClasses} probabilities from {@code offset}; ties go to the lowest class. */
    static int argmax(float[] outputs, int offset, int numClasses) {
        int best = 0;
        for (int k = 1; k < numClasses; k++) {
            if (outputs[offset + k] > outputs[offset + best]) {
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
        return difference(outputs, offset(candidate), outputs, 0);
    }

    /** {@link #absDifference} between one model's outputs at {@code a[offsetA..]} and at {@code b[offsetB..]}. */
    private double difference(float[] a, int offsetA, float[] b, int offsetB) {
        if (task != Task.MULTICLASS) {
            return Math.abs((double) a[offsetA] - b[offsetB]);
        }
        double l1 = 0;
        for (int k = 0; k < numClasses; k++) {
            l1 += Math.abs((double) a[offsetA + k] - b[offsetB + k]);
        }
        return l1 / 2;
    }

    /**
     * Parity: whether model {@code model}'s outputs (the model that served the request) and {@code logged}
     * (one model's outputs, as the serving system logged them) decide differently, at the model's
     * threshold. Never for regression.
     */
    public boolean flippedAgainst(float[] outputs, int model, float[] logged) {
        return task != Task.REGRESSION
                && decision(outputs, offset(model), thresholds[model]) != decision(logged, 0, thresholds[model]);
    }

    /** Parity: how far model {@code model}'s outputs are from {@code logged}, as {@link #absDifference} measures. */
    public double differenceAgainst(float[] outputs, int model, float[] logged) {
        return difference(logged, 0, outputs, offset(model));
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

    /**
     * Per-event loss: log loss for classification, squared error for regression. Computed by {@link Loss},
     * like the quality accumulators' sums, so the paired loss difference and the reported log loss agree.
     */
    public double loss(float[] outputs, int model, double label) {
        return Loss.of(task, outputs, offset(model), label);
    }
}
