package io.shadowml.jobs.report;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.shadowml.jobs.serialization.CompactSerializer;

/** Flink serializer over {@link VerdictMemory}'s own versioned format. */
public final class VerdictMemorySerializer extends CompactSerializer<VerdictMemory> {
    private static final long serialVersionUID = 1L;
    public static final VerdictMemorySerializer INSTANCE = new VerdictMemorySerializer();

    @Override
    protected void write(VerdictMemory value, DataOutputView target) throws IOException {
        value.writeTo(target);
    }

    @Override
    protected VerdictMemory read(DataInputView source) throws IOException {
        return VerdictMemory.readFrom(source);
    }

    @Override
    protected VerdictMemory deepCopy(VerdictMemory value) {
        return value.copy();
    }

    @Override
    public TypeSerializerSnapshot<VerdictMemory> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The format carries its own version byte; the snapshot only restores the singleton. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<VerdictMemory> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
