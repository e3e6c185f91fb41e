package io.shadowml.jobs.metrics;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Labels a shard's pre-aggregated accumulator with its window. */
public class AttachWindowBounds
        extends ProcessWindowFunction<ExperimentAccumulator, WindowPartial, Integer, TimeWindow> {
    private static final long serialVersionUID = 1L;

    @Override
    public void process(
            Integer shard, Context ctx, Iterable<ExperimentAccumulator> accumulators, Collector<WindowPartial> out) {
        for (ExperimentAccumulator acc : accumulators) {
            out.collect(new WindowPartial(ctx.window().getStart(), ctx.window().getEnd(), acc));
        }
    }
}
