package io.shadowml.jobs.config;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * When to decide on a candidate (the {@code verdict} section; jobs/examples/shadow-job.yaml documents
 * every key, jobs/METRICS.md the rule).
 *
 * @param minLabelledPairs labelled pairs before any statistical decision
 * @param alpha bound on the probability of any false PROMOTE or REJECT over the whole experiment, all
 *     candidates together
 * @param maxCandidateErrorRate a candidate whose error rate is shown to exceed this is rejected
 * @param tuningPairs labelled pairs at which the confidence sequences are tightest
 * @param primaryMetric the metric a candidate must be shown better on to be promoted
 * @param guardrails non-inferiority margins: a candidate shown worse than live by more than the margin
 *     on one of these is rejected
 */
public record VerdictPolicyConfig(
        long minLabelledPairs,
        double alpha,
        double maxCandidateErrorRate,
        long tuningPairs,
        VerdictMetric primaryMetric,
        Map<VerdictMetric, Double> guardrails)
        implements Serializable {

    public VerdictPolicyConfig {
        guardrails = guardrails.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(guardrails));
    }

    static VerdictPolicyConfig read(ConfigNode node, Task task) {
        long minPairs = node.positiveInt("min_labelled_pairs", 500);
        double alpha = node.doubleIn("alpha", 0.05, 1e-9, 0.5);
        double maxErrorRate = node.doubleIn("max_candidate_error_rate", 0.01, 0.0, 1.0);
        long tuningPairs = node.positiveInt("tuning_pairs", 10_000);
        VerdictMetric primary = metric(
                node,
                "primary_metric",
                node.string("primary_metric", VerdictMetric.defaultPrimary(task).configName()),
                task);
        if (primary == VerdictMetric.SEGMENT_ACCURACY
                || primary == VerdictMetric.RECALL
                || primary == VerdictMetric.PRECISION) {
            throw node.error(
                    "primary_metric",
                    "must be one of " + primaryNames(task) + "; " + primary.configName() + " can be a guardrail only");
        }
        Map<VerdictMetric, Double> guardrails = new EnumMap<>(VerdictMetric.class);
        ConfigNode g = node.optionalChild("guardrails");
        for (String key : g.keys()) {
            VerdictMetric m = metric(g, key, key, task);
            guardrails.put(m, g.doubleIn(key, 0, 0, m.higherIsBetter() ? 1.0 : Double.MAX_VALUE));
        }
        g.rejectUnknownKeys();
        node.rejectUnknownKeys();
        return new VerdictPolicyConfig(minPairs, alpha, maxErrorRate, tuningPairs, primary, guardrails);
    }

    private static VerdictMetric metric(ConfigNode node, String key, String name, Task task) {
        VerdictMetric m = VerdictMetric.fromConfigName(name);
        if (m == null || !m.appliesTo(task)) {
            List<String> known = new ArrayList<>();
            for (VerdictMetric v : VerdictMetric.values()) {
                if (v.appliesTo(task)) {
                    known.add(v.configName());
                }
            }
            throw node.error(
                    key,
                    "'" + name + "' is not a metric of a " + task.name().toLowerCase() + " model (known: " + known
                            + ")");
        }
        return m;
    }

    private static List<String> primaryNames(Task task) {
        List<String> names = new ArrayList<>();
        for (VerdictMetric m :
                new VerdictMetric[] {VerdictMetric.LOG_LOSS, VerdictMetric.ACCURACY, VerdictMetric.SQUARED_ERROR}) {
            if (m.appliesTo(task)) {
                names.add(m.configName());
            }
        }
        return names;
    }
}
