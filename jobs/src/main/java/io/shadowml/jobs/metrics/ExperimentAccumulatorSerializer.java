package io.shadowml.jobs.metrics;

import java.io.IOException;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.shadowml.jobs.serialization.CompactSerializer;

/** Flink serializer over the accumulator's own compact format (sparse histograms, KLL bytes, varints). */
public final class ExperimentAccumulatorSerializer extends CompactSerializer<ExperimentAccumulator> {
    private static final long serialVersionUID = 1L;
    public static final ExperimentAccumulatorSerializer INSTANCE = new ExperimentAccumulatorSerializer();

    @Override
    protected void write(ExperimentAccumulator value, DataOutputView target) throws IOException {
        value.writeTo(target);
    }

    @Override
    protected ExperimentAccumulator read(DataInputView source) throws IOException {
        return ExperimentAccumulator.readFrom(source);
    }

    @Override
    protected ExperimentAccumulator deepCopy(ExperimentAccumulator value) {
        return value.copy();
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
