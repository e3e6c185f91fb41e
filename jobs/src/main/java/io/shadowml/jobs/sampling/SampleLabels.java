package io.shadowml.jobs.sampling;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.MetricEvent;

/**
 * Drops the labels of requests outside the experiment's sample before the join, so they never take
 * join state: the same choice by request id as {@link SampleRequests} makes ({@code sample_by:
 * request_id}). Each is counted, as {@link MetricEvent#UNSAMPLED_LABEL} on {@link #UNSAMPLED}.
 */
public class SampleLabels extends ProcessFunction<Label, Label> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<MetricEvent> UNSAMPLED = new OutputTag<>("unsampled-labels") {};

    private final DeterministicSample sample;

    public SampleLabels(DeterministicSample sample) {
        this.sample = sample;
    }

    @Override
    public void processElement(Label l, Context ctx, Collector<Label> out) {
        if (sample.includes(l.getRequestId())) {
            out.collect(l);
        } else {
            ctx.output(UNSAMPLED, MetricEvent.of(MetricEvent.UNSAMPLED_LABEL, l.getRequestId()));
        }
    }
}
