package io.shadowml.jobs.metrics;

/** One shard's accumulator for one window; the report assembler merges the shards. */
public class WindowPartial {
    public long windowStart;
    public long windowEnd;
    public ExperimentAccumulator accumulator;
    /**
     * The live generation of its evidence; {@code MetricEvent.NO_GENERATION} for the counts of no scored
     * request, until {@code ResolveLiveGeneration} gives them the generation live in the window.
     */
    public int generation;

    public WindowPartial() {}

    public WindowPartial(long windowStart, long windowEnd, int generation, ExperimentAccumulator accumulator) {
        this(windowStart, windowEnd, accumulator);
        this.generation = generation;
    }

    public WindowPartial(long windowStart, long windowEnd, ExperimentAccumulator accumulator) {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.accumulator = accumulator;
    }
}
