package io.shadowml.jobs.join;

import java.time.Duration;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.MetricEvent;

/**
 * Joins each scored request with its label, keyed by request id, in event time.
 *
 * <ul>
 *   <li>Label after prediction: joined when it arrives.</li>
 *   <li>Label before prediction: kept until the prediction arrives or {@code horizon} after the label
 *       passes (then counted as an unknown label). A label more than {@code horizon} older than its
 *       request can therefore end as unknown if the watermark passes its horizon before the request
 *       arrives; labels normally follow their requests, so this only concerns badly skewed clocks.</li>
 *   <li>A pair is emitted at event time max(request time, label time), whatever the arrival order, so
 *       windows do not depend on which topic was read first.</li>
 *   <li>Duplicate labels: the first wins, the others are counted; a marker is kept until the request's
 *       horizon passes so late duplicates are recognised too.</li>
 *   <li>No label within {@code horizon} of the request: emitted as EXPIRED and the state cleared.</li>
 *   <li>A label later than the request's horizon does not join it, whatever the arrival order: the
 *       request expires and the label ends as an unknown label.</li>
 * </ul>
 * Every path ends with all state of the key cleared.
 */
public class LabelJoinFunction extends KeyedCoProcessFunction<String, MetricEvent, Label, MetricEvent> {
    private static final long serialVersionUID = 1L;

    private final long horizonMillis;
    private final String experimentId;

    private transient ValueState<PendingPrediction> prediction;
    private transient ValueState<EarlyLabel> label;
    /** Set once the request was joined: until this time, another label is a duplicate. */
    private transient ValueState<Long> joinedUntil;

    private transient Counter duplicateRequests;

    public LabelJoinFunction(String experimentId, Duration horizon) {
        this.experimentId = experimentId;
        this.horizonMillis = horizon.toMillis();
    }

    @Override
    public void open(OpenContext openContext) {
        prediction = getRuntimeContext().getState(new ValueStateDescriptor<>("prediction", PendingPrediction.class));
        label = getRuntimeContext().getState(new ValueStateDescriptor<>("early-label", EarlyLabel.class));
        joinedUntil = getRuntimeContext().getState(new ValueStateDescriptor<>("joined-until", Long.class));
        duplicateRequests = getRuntimeContext()
                .getMetricGroup()
                .addGroup("experiment", experimentId)
                .counter("duplicate_requests");
    }

    @Override
    public void processElement1(MetricEvent scored, Context ctx, Collector<MetricEvent> out) throws Exception {
        if (prediction.value() != null || joinedUntil.value() != null) {
            duplicateRequests.inc(); // the first scoring of a request id wins
            return;
        }
        PendingPrediction p =
                new PendingPrediction(scored.eventTime, scored.outputs, scored.errorMask, scored.segments);
        prediction.update(p);
        ctx.timerService().registerEventTimeTimer(expiry(p));
        EarlyLabel early = label.value();
        if (early != null && withinHorizon(p, early)) {
            joinWhenDue(p, early, ctx, out);
        }
    }

    @Override
    public void processElement2(Label in, Context ctx, Collector<MetricEvent> out) throws Exception {
        if (joinedUntil.value() != null || label.value() != null) {
            out.collect(MetricEvent.of(MetricEvent.DUPLICATE_LABEL, ctx.getCurrentKey()));
            return;
        }
        EarlyLabel l = new EarlyLabel(in.getLabelTime().toEpochMilli(), in.getValue());
        label.update(l);
        PendingPrediction p = prediction.value();
        if (p != null && withinHorizon(p, l)) {
            joinWhenDue(p, l, ctx, out);
        } else {
            ctx.timerService().registerEventTimeTimer(l.labelTime + horizonMillis);
        }
    }

    private void joinWhenDue(PendingPrediction p, EarlyLabel l, Context ctx, Collector<MetricEvent> out)
            throws Exception {
        long due = Math.max(p.eventTime, l.labelTime);
        if (due <= ctx.timestamp()) {
            emitJoined(p, l, ctx.getCurrentKey(), ctx.timestamp(), out);
        } else {
            ctx.timerService().registerEventTimeTimer(due);
        }
    }

    private void emitJoined(PendingPrediction p, EarlyLabel l, String requestId, long now, Collector<MetricEvent> out)
            throws Exception {
        out.collect(MetricEvent.labelled(requestId, p.eventTime, p.outputs, p.errorMask, l.value, p.segments));
        prediction.clear();
        label.clear();
        // The expiry timer, already registered, clears this marker.
        if (expiry(p) > now) {
            joinedUntil.update(expiry(p));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MetricEvent> out) throws Exception {
        PendingPrediction p = prediction.value();
        EarlyLabel l = label.value();
        Long until = joinedUntil.value();
        if (p != null && l != null && withinHorizon(p, l)) {
            if (timestamp >= Math.max(p.eventTime, l.labelTime)) {
                emitJoined(p, l, ctx.getCurrentKey(), timestamp, out);
            }
        } else {
            // Not a pair (a label beyond the request's horizon does not join it): each side ends on its own.
            if (p != null && timestamp >= expiry(p)) {
                out.collect(MetricEvent.of(MetricEvent.EXPIRED, ctx.getCurrentKey()));
                prediction.clear();
            }
            if (l != null && timestamp >= l.labelTime + horizonMillis) {
                out.collect(MetricEvent.of(MetricEvent.UNKNOWN_LABEL, ctx.getCurrentKey()));
                label.clear();
            }
        }
        if (until != null && timestamp >= until) {
            joinedUntil.clear();
        }
    }

    /**
     * Whether the label is within the request's horizon. Decided on the times alone, not on how far the
     * watermark got, so the outcome does not depend on arrival order.
     */
    private boolean withinHorizon(PendingPrediction p, EarlyLabel l) {
        return l.labelTime <= expiry(p);
    }

    private long expiry(PendingPrediction p) {
        return p.eventTime + horizonMillis;
    }
}
