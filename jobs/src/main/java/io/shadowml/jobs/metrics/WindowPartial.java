package io.shadowml.jobs.metrics;

/** One shard's accumulator for one window; the report assembler merges the shards. */
public class WindowPartial {
    public long windowStart;
    public long windowEnd;
    public ExperimentAccumulator accumulator;

    public WindowPartial() {}

    public WindowPartial(long windowStart, long windowEnd, ExperimentAccumulator accumulator) {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.accumulator = accumulator;
    }
}
