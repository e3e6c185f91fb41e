package io.shadowml.jobs.join;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.shadowml.jobs.serialization.CompactSerializer;

/** Flink serializer over {@link JoinEntry}'s own compact, versioned format. */
public final class JoinEntrySerializer extends CompactSerializer<JoinEntry> {
    private static final long serialVersionUID = 1L;
    public static final JoinEntrySerializer INSTANCE = new JoinEntrySerializer();

    @Override
    protected void write(JoinEntry value, DataOutputView target) throws IOException {
        value.writeTo(target);
    }

    @Override
    protected JoinEntry read(DataInputView source) throws IOException {
        return JoinEntry.readFrom(source);
    }

    @Override
    protected JoinEntry deepCopy(JoinEntry value) {
        return value.copy();
    }

    @Override
    public TypeSerializerSnapshot<JoinEntry> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The format carries its own version bits; the snapshot only restores the singleton. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<JoinEntry> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
