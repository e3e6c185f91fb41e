package io.shadowml.jobs.metrics;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * Merges the partial accumulators of one window and shard. The window's accumulator is the same type,
 * and so the same state, as when the windows folded single events, so savepoints of that layout restore.
 */
public class MergeShardPartials
        implements AggregateFunction<ShardPartial, ExperimentAccumulator, ExperimentAccumulator> {
    private static final long serialVersionUID = 1L;
    private final ModelLayout layout;
    private final SegmentSpec segments;

    public MergeShardPartials(ModelLayout layout, SegmentSpec segments) {
        this.layout = layout;
        this.segments = segments;
    }

    @Override
    public ExperimentAccumulator createAccumulator() {
        return new ExperimentAccumulator(layout, segments);
    }

    @Override
    public ExperimentAccumulator add(ShardPartial value, ExperimentAccumulator acc) {
        // A window restored from before a change of segment_fields restarts its segment slices.
        acc.mergeReplacingSegments(value.accumulator);
        return acc;
    }

    @Override
    public ExperimentAccumulator getResult(ExperimentAccumulator acc) {
        return acc;
    }

    @Override
    public ExperimentAccumulator merge(ExperimentAccumulator a, ExperimentAccumulator b) {
        a.mergeReplacingSegments(b);
        return a;
    }
}
