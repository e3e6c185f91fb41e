package io.shadowml.jobs.metrics;

import org.apache.flink.api.common.functions.AggregateFunction;

/** Folds metric events into one window's accumulator. */
public class ExperimentAggregate
        implements AggregateFunction<MetricEvent, ExperimentAccumulator, ExperimentAccumulator> {
    private static final long serialVersionUID = 1L;
    private final ModelLayout layout;
    private final SegmentSpec segments;

    public ExperimentAggregate(ModelLayout layout, SegmentSpec segments) {
        this.layout = layout;
        this.segments = segments;
    }

    @Override
    public ExperimentAccumulator createAccumulator() {
        return new ExperimentAccumulator(layout, segments);
    }

    @Override
    public ExperimentAccumulator add(MetricEvent value, ExperimentAccumulator acc) {
        acc.add(value, layout);
        return acc;
    }

    @Override
    public ExperimentAccumulator getResult(ExperimentAccumulator acc) {
        return acc;
    }

    @Override
    public ExperimentAccumulator merge(ExperimentAccumulator a, ExperimentAccumulator b) {
        return a.merge(b);
    }
}
