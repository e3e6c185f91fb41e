package io.shadowml.jobs.sampling;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.MetricEvent;

/**
 * Lets through the requests in the experiment's sample ({@code sample_rate}), chosen by their request id
 * or their entity id ({@code sample_by}; a request without an entity id by its request id); the others
 * are only counted, as {@link MetricEvent#UNSAMPLED_REQUEST} on {@link #UNSAMPLED}, and cost nothing
 * further: no scoring, no join state.
 */
public class SampleRequests extends ProcessFunction<Request, Request> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<MetricEvent> UNSAMPLED = new OutputTag<>("unsampled-requests") {};

    private final DeterministicSample sample;
    private final boolean byEntity;

    public SampleRequests(DeterministicSample sample, boolean byEntity) {
        this.sample = sample;
        this.byEntity = byEntity;
    }

    @Override
    public void processElement(Request r, Context ctx, Collector<Request> out) {
        String id = byEntity && r.getEntityId() != null ? r.getEntityId() : r.getRequestId();
        if (sample.includes(id)) {
            out.collect(r);
        } else {
            ctx.output(UNSAMPLED, MetricEvent.of(MetricEvent.UNSAMPLED_REQUEST, r.getRequestId()));
        }
    }
}
