package io.shadowml.jobs.metrics;

/**
 * Part of one report window's metrics, folded by one {@link LocalWindowAggregator} subtask; its window
 * is the record's timestamp. {@code shard} spreads the merging over the metric windows' subtasks.
 */
public class ShardPartial {
    public int shard;
    /** The live generation of its events ({@link MetricEvent#liveGeneration}; NO_GENERATION: none). */
    public int generation;

    public ExperimentAccumulator accumulator;

    public ShardPartial() {}

    public ShardPartial(int shard, ExperimentAccumulator accumulator) {
        this(shard, 0, accumulator);
    }

    public ShardPartial(int shard, int generation, ExperimentAccumulator accumulator) {
        this.shard = shard;
        this.generation = generation;
        this.accumulator = accumulator;
    }

    /**
     * The metric windows' key: the shard for generation 0 (as before generations existed, so their
     * savepoints restore), another range per generation, and negative keys for events of no generation.
     */
    public static int windowKey(int shard, int generation, int shards) {
        return generation < 0 ? -1 - shard : shard + shards * generation;
    }

    /** The generation of a metric window's key ({@link #windowKey}). */
    public static int generationOfKey(int key, int shards) {
        return key < 0 ? MetricEvent.NO_GENERATION : key / shards;
    }
}
