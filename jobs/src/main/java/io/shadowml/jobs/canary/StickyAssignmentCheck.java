package io.shadowml.jobs.canary;

import java.time.Duration;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.MetricEvent;

/**
 * Sticky assignment (jobs/METRICS.md, "Canary and A/B"): keyed by entity_id, remembers the arms that
 * served each entity, as a bit set of 8 bytes, for canary.sticky_ttl since the entity was last seen
 * (state TTL, processing time), so the state is bounded by the entities active within the TTL. Emits
 * {@link MetricEvent#ENTITY_SEEN} the first time an entity is served and
 * {@link MetricEvent#ENTITY_MULTI_ARM} the first time it is served by a second arm (once per entity),
 * at the request's time.
 */
public final class StickyAssignmentCheck extends KeyedProcessFunction<String, Request, MetricEvent> {
    private static final long serialVersionUID = 1L;

    private final ArmLayout arms;
    private final Duration ttl;
    private transient ValueState<Long> seenArms;

    public StickyAssignmentCheck(ArmLayout arms, Duration ttl) {
        this.arms = arms;
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext context) {
        ValueStateDescriptor<Long> descriptor = new ValueStateDescriptor<>("arms-seen", Types.LONG);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnReadAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        seenArms = getRuntimeContext().getState(descriptor);
    }

    @Override
    public void processElement(Request r, Context ctx, Collector<MetricEvent> out) throws Exception {
        int arm = arms.armOf(r.getServedBy());
        if (arm < 0) {
            return; // ServedToEntity lets none through
        }
        long bit = 1L << arm;
        Long seen = seenArms.value();
        if (seen == null) {
            seenArms.update(bit);
            MetricEvent first = event(MetricEvent.ENTITY_SEEN, r);
            first.arm = (byte) arm; // the arm the entity was first served by: the unit of an entity-level SRM
            out.collect(first);
        } else if ((seen & bit) == 0) {
            seenArms.update(seen | bit);
            if (Long.bitCount(seen) == 1) {
                out.collect(event(MetricEvent.ENTITY_MULTI_ARM, r));
            }
        }
    }

    private static MetricEvent event(byte kind, Request r) {
        MetricEvent e = MetricEvent.of(kind, r.getEntityId());
        e.eventTime = r.getEventTime().toEpochMilli();
        return e;
    }
}
