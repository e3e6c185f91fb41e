package io.shadowml.jobs.metrics;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;

/**
 * Counts the events of partial accumulators that reached the metric windows after their window closed
 * (metric {@code late_metric_events}, which the {@link LocalWindowAggregator}s count too). The local
 * aggregators emit before they pass the watermark on, so this stays zero unless that ordering breaks.
 */
public class CountLateEvents extends RichMapFunction<ShardPartial, ShardPartial> {
    private static final long serialVersionUID = 1L;
    private final String experimentId;
    private transient Counter late;

    public CountLateEvents(String experimentId) {
        this.experimentId = experimentId;
    }

    @Override
    public void open(OpenContext openContext) {
        late = getRuntimeContext()
                .getMetricGroup()
                .addGroup("experiment", experimentId)
                .counter("late_metric_events");
    }

    @Override
    public ShardPartial map(ShardPartial value) {
        late.inc(value.accumulator.events());
        return value;
    }
}
