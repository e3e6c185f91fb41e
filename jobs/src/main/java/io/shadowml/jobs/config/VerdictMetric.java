package io.shadowml.jobs.config;

import java.util.Locale;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The metrics a verdict can promote on ({@code verdict.primary_metric}) or guard
 * ({@code verdict.guardrails}), each compared as candidate minus live on the same labelled requests.
 * Definitions: jobs/METRICS.md.
 */
public enum VerdictMetric {
    /** Mean log loss; lower is better. */
    LOG_LOSS(false, Task.BINARY, Task.MULTICLASS),
    /** Share of correct decisions; higher is better. */
    ACCURACY(true, Task.BINARY, Task.MULTICLASS),
    /** Share of positives decided positive (binary); higher is better. */
    RECALL(true, Task.BINARY),
    /** Share of positive decisions that are positives (binary); higher is better. */
    PRECISION(true, Task.BINARY),
    /** Mean squared error (regression); lower is better. */
    SQUARED_ERROR(false, Task.REGRESSION),
    /** Accuracy within each segment slice (guardrail only); higher is better. */
    SEGMENT_ACCURACY(true, Task.BINARY, Task.MULTICLASS);

    private final boolean higherIsBetter;
    private final Task[] tasks;

    VerdictMetric(boolean higherIsBetter, Task... tasks) {
        this.higherIsBetter = higherIsBetter;
        this.tasks = tasks;
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    public boolean appliesTo(Task task) {
        for (Task t : tasks) {
            if (t == task) {
                return true;
            }
        }
        return false;
    }

    /** The name in the config and the reports, e.g. {@code log_loss}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The metric of a config name, or null. */
    public static VerdictMetric fromConfigName(String name) {
        for (VerdictMetric m : values()) {
            if (m.configName().equals(name)) {
                return m;
            }
        }
        return null;
    }

    /** The default primary metric of a task: log loss for classification, squared error for regression. */
    public static VerdictMetric defaultPrimary(Task task) {
        return task == Task.REGRESSION ? SQUARED_ERROR : LOG_LOSS;
    }
}
