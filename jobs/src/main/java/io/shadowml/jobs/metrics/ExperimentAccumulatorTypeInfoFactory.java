package io.shadowml.jobs.metrics;

import java.lang.reflect.Type;
import java.util.Map;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Tells Flink to use {@link ExperimentAccumulatorSerializer}, never Kryo, wherever the accumulator goes. */
public class ExperimentAccumulatorTypeInfoFactory extends TypeInfoFactory<ExperimentAccumulator> {
    @Override
    public TypeInformation<ExperimentAccumulator> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
        return new ExperimentAccumulatorTypeInfo();
    }

    public static final class ExperimentAccumulatorTypeInfo extends TypeInformation<ExperimentAccumulator> {
        private static final long serialVersionUID = 1L;

        @Override public boolean isBasicType() { return false; }
        @Override public boolean isTupleType() { return false; }
        @Override public int getArity() { return 1; }
        @Override public int getTotalFields() { return 1; }
        @Override public Class<ExperimentAccumulator> getTypeClass() { return ExperimentAccumulator.class; }
        @Override public boolean isKeyType() { return false; }

        @Override
        public TypeSerializer<ExperimentAccumulator> createSerializer(SerializerConfig config) {
            return ExperimentAccumulatorSerializer.INSTANCE;
        }

        @Override public String toString() { return "ExperimentAccumulator"; }
        @Override public boolean equals(Object o) { return o instanceof ExperimentAccumulatorTypeInfo; }
        @Override public int hashCode() { return ExperimentAccumulatorTypeInfo.class.hashCode(); }
        @Override public boolean canEqual(Object o) { return o instanceof ExperimentAccumulatorTypeInfo; }
    }
}
