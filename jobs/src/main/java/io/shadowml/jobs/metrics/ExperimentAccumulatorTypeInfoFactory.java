package io.shadowml.jobs.metrics;

import java.lang.reflect.Type;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import io.shadowml.jobs.serialization.CompactTypeInfo;

/** Tells Flink to use {@link ExperimentAccumulatorSerializer}, never Kryo, wherever the accumulator goes. */
public class ExperimentAccumulatorTypeInfoFactory extends TypeInfoFactory<ExperimentAccumulator> {
    @Override
    public TypeInformation<ExperimentAccumulator> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
        return new CompactTypeInfo<>(ExperimentAccumulator.class, ExperimentAccumulatorSerializer.INSTANCE);
    }
}
