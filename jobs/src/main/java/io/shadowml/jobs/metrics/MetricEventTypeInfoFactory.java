package io.shadowml.jobs.metrics;

import java.lang.reflect.Type;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import io.shadowml.jobs.serialization.CompactTypeInfo;

/** Tells Flink to use {@link MetricEventSerializer} for metric events. */
public class MetricEventTypeInfoFactory extends TypeInfoFactory<MetricEvent> {
    @Override
    public TypeInformation<MetricEvent> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
        return new CompactTypeInfo<>(MetricEvent.class, MetricEventSerializer.INSTANCE);
    }
}
