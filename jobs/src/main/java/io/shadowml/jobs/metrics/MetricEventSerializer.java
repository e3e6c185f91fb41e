package io.shadowml.jobs.metrics;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import io.shadowml.jobs.serialization.CompactSerializer;

/**
 * Writes a {@link MetricEvent} field by field, without the reflection and per-field null markers of
 * Flink's POJO serializer: metric events cross the network once per request (scoring to the label
 * join). Never kept in state, so the format has no version.
 */
public final class MetricEventSerializer extends CompactSerializer<MetricEvent> {
    private static final long serialVersionUID = 1L;
    public static final MetricEventSerializer INSTANCE = new MetricEventSerializer();

    @Override
    protected void write(MetricEvent e, DataOutputView out) throws IOException {
        out.writeByte(e.kind);
        out.writeInt(e.shard);
        StringValue.writeString(e.requestId, out);
        out.writeLong(e.eventTime);
        if (e.outputs == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(e.outputs.length);
            for (float v : e.outputs) {
                out.writeFloat(v);
            }
        }
        out.writeLong(e.errorMask);
        out.writeLong(e.absentMask);
        if (e.latencyMicros == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(e.latencyMicros.length);
            for (int v : e.latencyMicros) {
                out.writeInt(v);
            }
        }
        out.writeDouble(e.label);
        out.writeLong(e.labelTime);
        if (e.segments == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(e.segments.length);
            for (String s : e.segments) {
                StringValue.writeString(s, out);
            }
        }
        out.writeByte(e.parity);
        if (e.parity != MetricEvent.PARITY_NONE) {
            out.writeDouble(e.parityDifference);
        }
        out.writeByte(e.arm);
        if (e.arm >= 0) {
            out.writeFloat(e.businessValue);
        }
        out.writeInt(e.liveGeneration);
    }

    @Override
    protected MetricEvent read(DataInputView in) throws IOException {
        MetricEvent e = new MetricEvent();
        e.kind = in.readByte();
        e.shard = in.readInt();
        e.requestId = StringValue.readString(in);
        e.eventTime = in.readLong();
        int n = in.readInt();
        if (n >= 0) {
            e.outputs = new float[n];
            for (int i = 0; i < n; i++) {
                e.outputs[i] = in.readFloat();
            }
        }
        e.errorMask = in.readLong();
        e.absentMask = in.readLong();
        n = in.readInt();
        if (n >= 0) {
            e.latencyMicros = new int[n];
            for (int i = 0; i < n; i++) {
                e.latencyMicros[i] = in.readInt();
            }
        }
        e.label = in.readDouble();
        e.labelTime = in.readLong();
        n = in.readInt();
        if (n >= 0) {
            e.segments = new String[n];
            for (int i = 0; i < n; i++) {
                e.segments[i] = StringValue.readString(in);
            }
        }
        e.parity = in.readByte();
        if (e.parity != MetricEvent.PARITY_NONE) {
            e.parityDifference = in.readDouble();
        }
        e.arm = in.readByte();
        if (e.arm >= 0) {
            e.businessValue = in.readFloat();
        }
        e.liveGeneration = in.readInt();
        return e;
    }

    @Override
    protected MetricEvent deepCopy(MetricEvent e) {
        MetricEvent c = new MetricEvent();
        c.kind = e.kind;
        c.shard = e.shard;
        c.requestId = e.requestId;
        c.eventTime = e.eventTime;
        c.outputs = e.outputs == null ? null : e.outputs.clone();
        c.errorMask = e.errorMask;
        c.absentMask = e.absentMask;
        c.latencyMicros = e.latencyMicros == null ? null : e.latencyMicros.clone();
        c.label = e.label;
        c.labelTime = e.labelTime;
        c.segments = e.segments == null ? null : e.segments.clone();
        c.parity = e.parity;
        c.parityDifference = e.parityDifference;
        c.arm = e.arm;
        c.businessValue = e.businessValue;
        c.liveGeneration = e.liveGeneration;
        return c;
    }

    @Override
    public TypeSerializerSnapshot<MetricEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the singleton. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<MetricEvent> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
