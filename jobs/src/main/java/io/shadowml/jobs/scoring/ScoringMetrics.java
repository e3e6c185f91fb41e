package io.shadowml.jobs.scoring;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import io.shadowml.jobs.metrics.ModelLayout;

/**
 * Flink metrics of the scoring stage, per model (scored, errors, batches, latency) and per candidate
 * (flip rate and mean |difference| since the subtask started, as gauges). Kept apart from the operator,
 * which only reports what happened.
 */
final class ScoringMetrics {
    private final MetricGroup experiment;
    private final Counter[] scored;
    private final Counter[] errors;
    private final Counter[] batches;
    private final Counter[] budgetExceeded;
    private final Counter[] batchesSkipped;
    private final DescriptiveStatisticsHistogram[] latency;
    private final long[] compared;
    private final long[] flips;
    private final double[] absDiffSum;

    ScoringMetrics(MetricGroup experiment, ModelLayout layout) {
        int n = layout.models();
        scored = new Counter[n];
        errors = new Counter[n];
        batches = new Counter[n];
        budgetExceeded = new Counter[n];
        batchesSkipped = new Counter[n];
        latency = new DescriptiveStatisticsHistogram[n];
        compared = new long[n];
        flips = new long[n];
        absDiffSum = new double[n];
        this.experiment = experiment;
        for (int m = 0; m < n; m++) {
            if (layout.modelId(m) != null) {
                register(m, layout.modelId(m));
            }
        }
    }

    /** Slot {@code m}'s metrics, under the group of the model in it now. */
    void register(int m, String modelId) {
        MetricGroup g = experiment.addGroup("model", modelId);
        scored[m] = g.counter("scored");
        errors[m] = g.counter("errors");
        batches[m] = g.counter("batches");
        budgetExceeded[m] = g.counter("time_budget_exceeded");
        batchesSkipped[m] = g.counter("batches_skipped");
        latency[m] = g.histogram("latency_micros", new DescriptiveStatisticsHistogram(2048));
        compared[m] = 0;
        flips[m] = 0;
        absDiffSum[m] = 0;
        if (m > 0) {
            final int c = m;
            g.gauge("flip_rate", () -> compared[c] == 0 ? 0.0 : (double) flips[c] / compared[c]);
            g.gauge("abs_diff_mean", () -> compared[c] == 0 ? 0.0 : absDiffSum[c] / compared[c]);
        }
    }

    /** One model's call for a batch of {@code rows} rows; {@code failed}: it threw. */
    void batchScored(int model, int rows, long micros, boolean failed) {
        batches[model].inc();
        scored[model].inc(rows);
        latency[model].update(micros / rows);
        if (failed) {
            errors[model].inc(rows);
        }
    }

    /** A candidate's call for a batch stopped at its time budget (its rows: {@link #batchScored}, failed). */
    void timeBudgetExceeded(int model) {
        budgetExceeded[model].inc();
    }

    /** A candidate sat out a batch after an overrun: its {@code rows} are errors, not scored. */
    void batchSkipped(int model, int rows) {
        batchesSkipped[model].inc();
        errors[model].inc(rows);
    }

    /** One unusable output; the rows of a failed batch were already counted by {@link #batchScored}. */
    void outputError(int model, boolean batchSucceeded) {
        if (batchSucceeded) {
            errors[model].inc();
        }
    }

    /** One request where the live model and this candidate both produced usable outputs. */
    void compared(int candidate, boolean flipped, double absDifference) {
        compared[candidate]++;
        if (flipped) {
            flips[candidate]++;
        }
        absDiffSum[candidate] += absDifference;
    }
}
