package io.shadowml.jobs.join;

import org.apache.flink.api.common.typeinfo.TypeInfo;

import io.shadowml.avro.Label;

/**
 * A validated label as the join needs it: request id, label time, value. Crosses the network to the
 * join (keyed by request id) in three fields ({@link LabelEventSerializer}) instead of as an Avro record.
 */
@TypeInfo(LabelEventTypeInfoFactory.class)
public final class LabelEvent {
    public String requestId;
    public long labelTime;
    public double value;

    public LabelEvent() {}

    public LabelEvent(String requestId, long labelTime, double value) {
        this.requestId = requestId;
        this.labelTime = labelTime;
        this.value = value;
    }

    public static LabelEvent of(Label label) {
        return new LabelEvent(label.getRequestId(), label.getLabelTime().toEpochMilli(), label.getValue());
    }

    @Override
    public String toString() {
        return "LabelEvent{" + requestId + "@" + labelTime + "=" + value + "}";
    }
}
