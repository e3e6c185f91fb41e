package io.shadowml.jobs.report;

import java.lang.reflect.Type;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import io.shadowml.jobs.serialization.CompactTypeInfo;

/** Tells Flink to use {@link VerdictMemorySerializer}, never Kryo, for the verdict's memory. */
public class VerdictMemoryTypeInfoFactory extends TypeInfoFactory<VerdictMemory> {
    @Override
    public TypeInformation<VerdictMemory> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
        return new CompactTypeInfo<>(VerdictMemory.class, VerdictMemorySerializer.INSTANCE);
    }
}
