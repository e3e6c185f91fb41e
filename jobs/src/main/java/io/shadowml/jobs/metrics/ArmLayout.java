package io.shadowml.jobs.metrics;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.config.CanaryConfig.When;

/**
 * The canary arms of an experiment (canary.arms) in index order, 0 being the control arm served by the
 * live model, and how a request's {@code served_by} maps onto them. {@link #NONE} when no canary is
 * configured: every request then has {@link MetricEvent#NO_ARM}.
 */
public final class ArmLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final ArmLayout NONE = new ArmLayout(new String[0], new int[0], new String[0], null, null, null);

    private final String[] arms;
    private final int[] models;
    private final String[] modelIds;
    /** The business metric's feature, or null. */
    private final String businessFeature;

    private final String businessName;
    private final When businessWhen;
    private transient Map<String, Integer> index;

    private ArmLayout(
            String[] arms,
            int[] models,
            String[] modelIds,
            String businessFeature,
            String businessName,
            When businessWhen) {
        this.arms = arms;
        this.models = models;
        this.modelIds = modelIds;
        this.businessFeature = businessFeature;
        this.businessName = businessName;
        this.businessWhen = businessWhen;
    }

    /** {@link #NONE} when {@code canary} is null. */
    public static ArmLayout of(CanaryConfig canary, ModelLayout layout) {
        if (canary == null) {
            return NONE;
        }
        List<String> names = canary.arms();
        String[] ids = new String[names.size()];
        for (int a = 0; a < ids.length; a++) {
            ids[a] = layout.modelId(canary.armModels()[a]);
        }
        CanaryConfig.BusinessMetric b = canary.business();
        return new ArmLayout(
                names.toArray(new String[0]),
                canary.armModels().clone(),
                ids,
                b == null ? null : b.feature(),
                b == null ? null : b.name(),
                b == null ? null : b.when());
    }

    public boolean isEmpty() {
        return arms.length == 0;
    }

    public int arms() {
        return arms.length;
    }

    public String arm(int a) {
        return arms[a];
    }

    /** The model (index in {@link ModelLayout}) that serves arm {@code a}. */
    public int model(int a) {
        return models[a];
    }

    public String modelId(int a) {
        return modelIds[a];
    }

    /** The arm of a request's served_by: an index, {@link MetricEvent#NO_ARM} or {@link MetricEvent#UNMAPPED_ARM}. */
    public byte armOf(CharSequence servedBy) {
        if (servedBy == null || arms.length == 0) {
            return MetricEvent.NO_ARM;
        }
        if (index == null) {
            Map<String, Integer> m = new HashMap<>();
            for (int a = 0; a < arms.length; a++) {
                m.put(arms[a], a);
            }
            index = m;
        }
        Integer a = index.get(servedBy.toString());
        return a == null ? MetricEvent.UNMAPPED_ARM : a.byteValue();
    }

    /** The index of the arm {@code name} served by {@code modelId}, or -1 when no such arm is configured. */
    public int indexOf(String name, String modelId) {
        for (int a = 0; a < arms.length; a++) {
            if (arms[a].equals(name) && modelIds[a].equals(modelId)) {
                return a;
            }
        }
        return -1;
    }

    /** The feature whose value the business metric counts, or null without one. */
    public String businessFeature() {
        return businessFeature;
    }

    public String businessName() {
        return businessName;
    }

    /**
     * The business value of a labelled request served by {@code model}: {@code value} when the served
     * decision and the label meet canary.business_metric.when, else 0 (jobs/METRICS.md).
     */
    double businessOutcome(ModelLayout layout, float[] outputs, int model, double label, float value) {
        boolean counts;
        switch (businessWhen) {
            case MISSED_POSITIVE:
                counts = label == 1.0 && layout.decision(outputs, model) == 0;
                break;
            case FALSE_POSITIVE:
                counts = label == 0.0 && layout.decision(outputs, model) == 1;
                break;
            case ERROR:
                counts = !layout.correct(outputs, model, label);
                break;
            default:
                counts = true;
        }
        return counts ? value : 0.0;
    }
}
