package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;
import java.util.Map;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The labelled quality of one model, whatever its task. {@link ExperimentAccumulator} keeps one per
 * model and sees only this interface; the two factories below are the only places that pick the
 * implementation for a task. The implementations keep their task-specific getters ({@code accuracy()},
 * {@code rocAuc()}, …). Definitions: jobs/METRICS.md.
 */
public interface QualityAccumulator {

    /** A new, empty accumulator for {@code model} of the layout: its task, threshold and class count. */
    static QualityAccumulator forModel(ModelLayout layout, int model) {
        switch (layout.task()) {
            case BINARY:
                return new BinaryQualityAccumulator(layout.threshold(model));
            case MULTICLASS:
                return new MulticlassQualityAccumulator(layout.numClasses());
            default:
                return new RegressionQualityAccumulator();
        }
    }

    /** Reads what {@link #writeTo} wrote for an accumulator of this task (each format is its class's own). */
    static QualityAccumulator readFrom(Task task, DataInput in) throws IOException {
        switch (task) {
            case BINARY:
                return BinaryQualityAccumulator.readFrom(in);
            case MULTICLASS:
                return MulticlassQualityAccumulator.readFrom(in);
            default:
                return RegressionQualityAccumulator.readFrom(in);
        }
    }

    /**
     * Adds one labelled event: the model's output, read from its slots of the flat output array starting
     * at {@code offset} (see {@link ModelLayout}), and the label, which must be valid for the task. Named
     * apart from the implementations' {@code add} methods, which take already decoded values. Invalid
     * input throws IllegalArgumentException and leaves the state unchanged.
     */
    void addLabelled(float[] outputs, int offset, double label);

    /** Adds all of {@code other}'s events; it must be of the same class and settings. */
    void merge(QualityAccumulator other);

    QualityAccumulator copy();

    /**
     * A new accumulator without events and with this one's settings (binary: the threshold; multiclass:
     * the class count), as {@link #forModel} creates it for the model this one belongs to.
     */
    QualityAccumulator emptyCopy();

    /** Number of labelled events added. */
    long count();

    /**
     * The reliability diagram's non-empty bins (binary: P(positive) against the share of positives;
     * multiclass: top-label confidence against top-1 accuracy); empty for regression. jobs/METRICS.md.
     */
    default List<ReliabilityHistogram.Bin> reliability() {
        return List.of();
    }

    /** Puts this task's quality metrics into a report's metric map, under the keys of jobs/README.md §6.3. */
    void putMetrics(Map<String, Double> metrics);

    void writeTo(DataOutput out) throws IOException;
}
