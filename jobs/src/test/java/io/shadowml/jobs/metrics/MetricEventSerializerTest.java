package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class MetricEventSerializerTest {
    @Test
    void flinkUsesItForMetricEvents() {
        assertSame(
                MetricEventSerializer.INSTANCE,
                TypeInformation.of(MetricEvent.class).createSerializer(new SerializerConfigImpl()));
    }

    @Test
    void everyFieldRoundTripsIncludingNulls() throws Exception {
        MetricEvent full = MetricEvent.scored(
                "req-é-1", -42L, new float[] {0.25f, Float.NaN}, 5L, new int[] {7, 9}, new String[] {"EU", null, ""});
        full.label = 1.5;
        MetricEvent bare = MetricEvent.of(MetricEvent.DEAD_LETTER, null);
        for (MetricEvent e : new MetricEvent[] {full, bare}) {
            DataOutputSerializer out = new DataOutputSerializer(16);
            MetricEventSerializer.INSTANCE.serialize(e, out);
            MetricEvent back =
                    MetricEventSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            for (MetricEvent c : new MetricEvent[] {back, MetricEventSerializer.INSTANCE.copy(e)}) {
                assertEquals(e.kind, c.kind);
                assertEquals(e.shard, c.shard);
                assertEquals(e.requestId, c.requestId);
                assertEquals(e.eventTime, c.eventTime);
                assertArrayEquals(e.outputs, c.outputs);
                assertEquals(e.errorMask, c.errorMask);
                assertArrayEquals(e.latencyMicros, c.latencyMicros);
                assertEquals(e.label, c.label);
                assertArrayEquals(e.segments, c.segments);
            }
        }
    }
}
