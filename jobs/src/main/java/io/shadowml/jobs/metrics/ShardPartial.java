package io.shadowml.jobs.metrics;

/**
 * Part of one report window's metrics, folded by one {@link LocalWindowAggregator} subtask; its window
 * is the record's timestamp. {@code shard} spreads the merging over the metric windows' subtasks.
 */
public class ShardPartial {
    public int shard;
    public ExperimentAccumulator accumulator;

    public ShardPartial() {}

    public ShardPartial(int shard, ExperimentAccumulator accumulator) {
        this.shard = shard;
        this.accumulator = accumulator;
    }
}
