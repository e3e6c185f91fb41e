package io.shadowml.jobs.join;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import io.shadowml.jobs.serialization.CompactSerializer;

/** Writes a {@link LabelEvent} as its three fields. Never kept in state, so the format has no version. */
public final class LabelEventSerializer extends CompactSerializer<LabelEvent> {
    private static final long serialVersionUID = 1L;
    public static final LabelEventSerializer INSTANCE = new LabelEventSerializer();

    @Override
    protected void write(LabelEvent e, DataOutputView out) throws IOException {
        StringValue.writeString(e.requestId, out);
        out.writeLong(e.labelTime);
        out.writeDouble(e.value);
    }

    @Override
    protected LabelEvent read(DataInputView in) throws IOException {
        return new LabelEvent(StringValue.readString(in), in.readLong(), in.readDouble());
    }

    @Override
    protected LabelEvent deepCopy(LabelEvent e) {
        return new LabelEvent(e.requestId, e.labelTime, e.value);
    }

    @Override
    public TypeSerializerSnapshot<LabelEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the singleton. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<LabelEvent> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
