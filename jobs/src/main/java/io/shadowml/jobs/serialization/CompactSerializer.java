package io.shadowml.jobs.serialization;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A Flink serializer over a state type's own compact, versioned format (its {@code writeTo} /
 * {@code readFrom}), for the job's aggregate and memory objects, so that they never fall back to Kryo.
 * The format carries its own version byte, so the serializer has no configuration and a subclass is a
 * singleton with a {@code SimpleTypeSerializerSnapshot} that restores it.
 */
public abstract class CompactSerializer<T> extends TypeSerializerSingleton<T> {
    private static final long serialVersionUID = 1L;

    protected abstract void write(T value, DataOutputView target) throws IOException;

    protected abstract T read(DataInputView source) throws IOException;

    /** A deep copy (the state types are mutable). */
    protected abstract T deepCopy(T value);

    @Override
    public final boolean isImmutableType() {
        return false;
    }

    @Override
    public final T createInstance() {
        return null;
    }

    @Override
    public final T copy(T from) {
        return from == null ? null : deepCopy(from);
    }

    @Override
    public final T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public final int getLength() {
        return -1;
    }

    @Override
    public final void serialize(T record, DataOutputView target) throws IOException {
        write(record, target);
    }

    @Override
    public final T deserialize(DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public final T deserialize(T reuse, DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public final void copy(DataInputView source, DataOutputView target) throws IOException {
        write(read(source), target);
    }
}
