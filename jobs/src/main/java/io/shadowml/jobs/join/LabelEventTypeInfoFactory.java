package io.shadowml.jobs.join;

import java.lang.reflect.Type;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import io.shadowml.jobs.serialization.CompactTypeInfo;

/** Tells Flink to use {@link LabelEventSerializer} for label events. */
public class LabelEventTypeInfoFactory extends TypeInfoFactory<LabelEvent> {
    @Override
    public TypeInformation<LabelEvent> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
        return new CompactTypeInfo<>(LabelEvent.class, LabelEventSerializer.INSTANCE);
    }
}
