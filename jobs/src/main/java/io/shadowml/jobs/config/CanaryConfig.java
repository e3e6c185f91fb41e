package io.shadowml.jobs.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.shadowml.models.ModelDescriptor;

/**
 * Canary / A-B analysis (the {@code canary} section; jobs/examples/shadow-job.yaml documents every key,
 * jobs/METRICS.md "Canary and A/B" the rules): which model served each value of {@code served_by}, the
 * split the traffic should have, and when an arm's comparison with the control arm decides.
 *
 * @param arms the served_by values, the control arm (served by the live model) first
 * @param armModels per arm, the index of its model in {@link ShadowJobConfig#allModels()} (0 = live)
 * @param expectedShares per arm, its expected share of the arms' traffic (normalised)
 * @param alpha bound on a false PROCEED or ROLLBACK from the quality comparisons, over the whole
 *     experiment, all arms and metrics together
 * @param srmAlpha bound on a false sample ratio mismatch, over the whole experiment
 * @param margin how much worse (in accuracy, or squared error for regression) an arm may be than control
 *     and still PROCEED; shown worse by more is a ROLLBACK
 * @param minLabelled matured labelled outcomes each of the two arms needs before a quality decision
 * @param tuningLabelled labelled outcomes per arm at which the confidence sequences are tightest
 * @param srmByEntity the sample ratio test counts entities (first served by each arm) instead of
 *     requests: right when the router assigns by entity, whose requests are not independent draws
 * @param business the business metric, or null
 * @param stickyTtl how long an entity's arms are remembered for the sticky-assignment check
 */
public record CanaryConfig(
        List<String> arms,
        int[] armModels,
        double[] expectedShares,
        double alpha,
        double srmAlpha,
        double margin,
        long minLabelled,
        long tuningLabelled,
        boolean srmByEntity,
        BusinessMetric business,
        Duration stickyTtl)
        implements Serializable {

    /** The control arm's served_by value: served by the live model. */
    public String controlArm() {
        return arms.get(0);
    }

    /**
     * A per-request business outcome of the served decision, e.g. the fraud loss amount: the value of
     * request feature {@code feature} when the served decision and the label meet {@code when}, else 0.
     * Lower is better; an arm shown worse than control by more than {@code margin} is rolled back.
     */
    public record BusinessMetric(String name, String feature, When when, double margin) implements Serializable {}

    /** When a labelled request counts its business value (binary decisions at the model's threshold). */
    public enum When {
        /** The label is positive and the served model said negative (fraud let through). */
        MISSED_POSITIVE,
        /** The label is negative and the served model said positive (a good customer blocked). */
        FALSE_POSITIVE,
        /** The served decision was wrong (classification). */
        ERROR,
        /** Every labelled request (e.g. revenue per request). */
        ALWAYS;

        String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Null when the section is absent. */
    static CanaryConfig read(
            ConfigNode root, List<ModelDescriptor> models, Duration labelHorizon, double verdictAlpha) {
        if (!root.has("canary")) {
            return null;
        }
        ConfigNode node = root.child("canary");
        if (models.get(0).isLogged()) {
            throw node.error(
                    "arms",
                    "needs models.live as an ONNX model: with models.live.source logged, the logged output of a"
                            + " request served by another arm is that arm's, and the live model's would be unknown");
        }
        Map<String, String> armMap = node.stringMap("arms");
        if (armMap.size() < 2) {
            throw node.error("arms", "needs at least two served_by values, one served by live, was " + armMap);
        }
        List<String> arms = new ArrayList<>();
        List<Integer> armModels = new ArrayList<>();
        for (Map.Entry<String, String> e : armMap.entrySet()) {
            int m = modelIndex(e.getValue(), models);
            if (m < 0) {
                throw node.error(
                        "arms." + e.getKey(),
                        "must be live or a candidate's name:version (" + candidateIds(models) + "), was "
                                + e.getValue());
            }
            if (armModels.contains(m)) {
                throw node.error("arms." + e.getKey(), e.getValue() + " already serves another arm");
            }
            if (m == 0) {
                arms.add(0, e.getKey());
                armModels.add(0, m);
            } else {
                arms.add(e.getKey());
                armModels.add(m);
            }
        }
        if (armModels.get(0) != 0) {
            throw node.error("arms", "one served_by value must be served by live (the control arm), was " + armMap);
        }
        if (arms.size() > 64) {
            throw node.error("arms", "at most 64 arms are supported");
        }
        double[] shares = new double[arms.size()];
        Map<String, Double> split = node.numberMap("expected_split");
        if (split.isEmpty()) {
            Arrays.fill(shares, 1.0 / arms.size());
        } else {
            if (!split.keySet().equals(new HashSet<>(arms))) {
                throw node.error(
                        "expected_split",
                        "must give a share for each of " + arms + " and nothing else, was " + split.keySet());
            }
            double sum = 0;
            for (int a = 0; a < arms.size(); a++) {
                double w = split.get(arms.get(a));
                if (!(w > 0)) {
                    throw node.error("expected_split." + arms.get(a), "must be positive, was " + w);
                }
                shares[a] = w;
                sum += w;
            }
            for (int a = 0; a < shares.length; a++) {
                shares[a] /= sum;
            }
        }
        double alpha = node.doubleIn("alpha", verdictAlpha, 1e-9, 0.5);
        double srmAlpha = node.doubleIn("srm_alpha", 0.001, 1e-9, 0.5);
        double margin = node.doubleIn("margin", 0.01, 0.0, Double.MAX_VALUE);
        long minLabelled = node.positiveInt("min_labelled", 200);
        long tuning = node.positiveInt("tuning_labelled", 10_000);
        String unit = node.string("srm_unit", "request");
        if (!unit.equals("request") && !unit.equals("entity")) {
            throw node.error("srm_unit", "must be request or entity, was " + unit);
        }
        BusinessMetric business = business(node, models);
        Duration stickyTtl = node.duration("sticky_ttl", labelHorizon);
        node.rejectUnknownKeys();
        int[] modelIndexes = armModels.stream().mapToInt(Integer::intValue).toArray();
        return new CanaryConfig(
                List.copyOf(arms),
                modelIndexes,
                shares,
                alpha,
                srmAlpha,
                margin,
                minLabelled,
                tuning,
                unit.equals("entity"),
                business,
                stickyTtl);
    }

    private static BusinessMetric business(ConfigNode canary, List<ModelDescriptor> models) {
        if (!canary.has("business_metric")) {
            return null;
        }
        ConfigNode node = canary.child("business_metric");
        String name = node.string("name");
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw node.error("name", "must be lower_snake_case (it names a report metric and a gauge), was " + name);
        }
        String feature = node.string("feature");
        String whenName = node.string("when", When.MISSED_POSITIVE.configName());
        When when = null;
        for (When w : When.values()) {
            if (w.configName().equals(whenName)) {
                when = w;
            }
        }
        if (when == null) {
            throw node.error("when", "must be one of missed_positive, false_positive, error, always, was " + whenName);
        }
        ModelDescriptor.Task task = models.get(0).task();
        if (when != When.ALWAYS && task == ModelDescriptor.Task.REGRESSION) {
            throw node.error("when", "must be always for a regression model (it has no decision), was " + whenName);
        }
        if ((when == When.MISSED_POSITIVE || when == When.FALSE_POSITIVE) && task != ModelDescriptor.Task.BINARY) {
            throw node.error("when", whenName + " needs a binary model; use error or always");
        }
        double margin = node.doubleIn("margin", 0.0, 0.0, Double.MAX_VALUE);
        node.rejectUnknownKeys();
        return new BusinessMetric(name, feature, when, margin);
    }

    private static int modelIndex(String value, List<ModelDescriptor> models) {
        if (value.equals("live") || value.equals(models.get(0).id())) {
            return 0;
        }
        for (int m = 1; m < models.size(); m++) {
            if (models.get(m).id().equals(value)) {
                return m;
            }
        }
        return -1;
    }

    private static List<String> candidateIds(List<ModelDescriptor> models) {
        List<String> ids = new ArrayList<>();
        for (int m = 1; m < models.size(); m++) {
            ids.add(models.get(m).id());
        }
        return ids;
    }
}
