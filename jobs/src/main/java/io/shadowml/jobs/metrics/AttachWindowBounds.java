package io.shadowml.jobs.metrics;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Labels a shard's pre-aggregated accumulator with its window and live generation. */
public class AttachWindowBounds
        extends ProcessWindowFunction<ExperimentAccumulator, WindowPartial, Integer, TimeWindow> {
    private static final long serialVersionUID = 1L;

    private final int shards;

    /** @param shards metric_shards, to read the live generation off the window's key */
    public AttachWindowBounds(int shards) {
        this.shards = shards;
    }

    @Override
    public void process(
            Integer key, Context ctx, Iterable<ExperimentAccumulator> accumulators, Collector<WindowPartial> out) {
        int generation = ShardPartial.generationOfKey(key, shards);
        for (ExperimentAccumulator acc : accumulators) {
            out.collect(new WindowPartial(ctx.window().getStart(), ctx.window().getEnd(), generation, acc));
        }
    }
}
