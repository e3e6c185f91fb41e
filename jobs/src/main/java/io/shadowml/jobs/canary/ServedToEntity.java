package io.shadowml.jobs.canary;

import org.apache.flink.api.common.functions.FilterFunction;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.ArmLayout;

/** Requests the sticky-assignment check looks at: an entity, served by a configured arm. */
public final class ServedToEntity implements FilterFunction<Request> {
    private static final long serialVersionUID = 1L;

    private final ArmLayout arms;

    public ServedToEntity(ArmLayout arms) {
        this.arms = arms;
    }

    @Override
    public boolean filter(Request r) {
        return r.getEntityId() != null && arms.armOf(r.getServedBy()) >= 0;
    }
}
