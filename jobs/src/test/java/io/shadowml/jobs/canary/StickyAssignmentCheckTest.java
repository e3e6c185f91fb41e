package io.shadowml.jobs.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.ArmFixtures;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.MetricEvent;

/** The sticky-assignment check, operator by operator: first sightings, second arms, TTL. */
class StickyAssignmentCheckTest {
    static final ArmLayout ARMS =
            ArmFixtures.binaryLayout(ArmFixtures.canary(0.05, 0.01, 200)).arms();

    private static KeyedOneInputStreamOperatorTestHarness<String, Request, MetricEvent> harness() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, Request, MetricEvent> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new StickyAssignmentCheck(ARMS, Duration.ofMillis(1_000))),
                        r -> r.getEntityId(),
                        Types.STRING);
        h.setStateTtlProcessingTime(0);
        h.open();
        return h;
    }

    private static void feed(
            KeyedOneInputStreamOperatorTestHarness<String, Request, MetricEvent> h, String entity, String arm, long t)
            throws Exception {
        Request r = Request.newBuilder()
                .setRequestId(entity + "-" + t)
                .setEventTime(Instant.ofEpochMilli(t))
                .setEntityId(entity)
                .setServedBy(arm)
                .build();
        h.processElement(new StreamRecord<>(r, t));
    }

    private static List<String> kinds(KeyedOneInputStreamOperatorTestHarness<String, Request, MetricEvent> h) {
        List<String> out = new ArrayList<>();
        for (MetricEvent e : h.extractOutputValues()) {
            out.add((e.kind == MetricEvent.ENTITY_SEEN ? "seen " : "multi ") + e.requestId + "@" + e.eventTime);
        }
        return out;
    }

    @Test
    void eachEntityIsSeenOnceAndCountedOnceWhenASecondArmServesIt() throws Exception {
        var h = harness();
        feed(h, "card-1", "prod", 10);
        feed(h, "card-1", "prod", 11);
        feed(h, "card-2", "canary", 12);
        feed(h, "card-1", "canary", 13); // second arm: counted
        feed(h, "card-1", "prod", 14); // back and forth: not again
        feed(h, "card-1", "canary", 15);
        feed(h, "card-2", "canary", 16);
        assertEquals(List.of("seen card-1@10", "seen card-2@12", "multi card-1@13"), kinds(h));
    }

    @Test
    void anEntityUnseenForTheTtlStartsOver() throws Exception {
        var h = harness();
        feed(h, "card-1", "prod", 10);
        h.setStateTtlProcessingTime(2_000); // past the 1 s TTL since it was last seen
        feed(h, "card-1", "canary", 20);
        assertEquals(List.of("seen card-1@10", "seen card-1@20"), kinds(h));
    }
}
