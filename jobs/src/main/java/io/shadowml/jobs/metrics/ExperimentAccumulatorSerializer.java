package io.shadowml.jobs.metrics;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/** Flink serializer over the accumulator's own compact format (sparse histograms, KLL bytes, varints). */
public final class ExperimentAccumulatorSerializer extends TypeSerializerSingleton<ExperimentAccumulator> {
    private static final long serialVersionUID = 1L;
    public static final ExperimentAccumulatorSerializer INSTANCE = new ExperimentAccumulatorSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public ExperimentAccumulator createInstance() {
        return null;
    }

    @Override
    public ExperimentAccumulator copy(ExperimentAccumulator from) {
        return from == null ? null : from.copy();
    }

    @Override
    public ExperimentAccumulator copy(ExperimentAccumulator from, ExperimentAccumulator reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(ExperimentAccumulator record, DataOutputView target) throws IOException {
        record.writeTo(target);
    }

    @Override
    public ExperimentAccumulator deserialize(DataInputView source) throws IOException {
        return ExperimentAccumulator.readFrom(source);
    }

    @Override
    public ExperimentAccumulator deserialize(ExperimentAccumulator reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<ExperimentAccumulator> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The format carries its own version byte; the snapshot only restores the singleton. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ExperimentAccumulator> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
