package io.shadowml.jobs.metrics;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;

/** Counts metric events that arrived after their window closed (metric {@code late_metric_events}). */
public class CountLateEvents extends RichMapFunction<MetricEvent, MetricEvent> {
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
    public MetricEvent map(MetricEvent value) {
        late.inc();
        return value;
    }
}
