package io.shadowml.jobs.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.MetricEvent;

public class SamplingTest {

    /**
     * The documented rule, written out here on its own: ((hashCode ^ salt) · 0x9E3779B9 mod 2³²) >>> 8
     * below rate · 2²⁴ (jobs/METRICS.md, "Sampling").
     */
    public static boolean documentedRule(String id, double rate, int salt) {
        long h = ((long) (id.hashCode() ^ salt) * 0x9E3779B9L) & 0xFFFFFFFFL;
        return (h >>> 8) < rate * 16_777_216.0;
    }

    @Test
    void followsTheDocumentedRuleAndTakesTheRate() {
        for (double rate : new double[] {0.01, 0.1, 0.5, 0.999}) {
            DeterministicSample experiment = new DeterministicSample(rate, DeterministicSample.EXPERIMENT_SALT);
            DeterministicSample scored = new DeterministicSample(rate, DeterministicSample.SCORED_EVENTS_SALT);
            int n = 200_000;
            int in = 0;
            for (int i = 0; i < n; i++) {
                String id = "req-" + i;
                assertEquals(
                        documentedRule(id, rate, DeterministicSample.EXPERIMENT_SALT), experiment.includes(id), id);
                assertEquals(documentedRule(id, rate, 0), scored.includes(id), id);
                in += experiment.includes(id) ? 1 : 0;
            }
            double sd = Math.sqrt(rate * (1 - rate) / n);
            assertEquals(rate, (double) in / n, 5 * sd, "share at rate " + rate);
        }
        assertTrue(new DeterministicSample(1.0, 7).includes("anything"));
    }

    /** The experiment's sample and the scored-events sample are not the same ids: overlap ≈ product. */
    @Test
    void saltsGiveNearlyIndependentSamples() {
        DeterministicSample a = new DeterministicSample(0.1, DeterministicSample.EXPERIMENT_SALT);
        DeterministicSample b = new DeterministicSample(0.1, DeterministicSample.SCORED_EVENTS_SALT);
        int n = 200_000;
        int both = 0;
        for (int i = 0; i < n; i++) {
            String id = "req-" + i;
            both += a.includes(id) && b.includes(id) ? 1 : 0;
        }
        double sd = Math.sqrt(0.01 * 0.99 / n);
        assertEquals(0.01, (double) both / n, 5 * sd);
    }

    /** By entity: all requests of an entity are in or all out; the others are counted, with their id. */
    @Test
    void byEntityAnEntityIsInOrOutAsAWhole() throws Exception {
        DeterministicSample sample = new DeterministicSample(0.3, DeterministicSample.EXPERIMENT_SALT);
        try (OneInputStreamOperatorTestHarness<Request, Request> h =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new SampleRequests(sample, true)))) {
            h.open();
            for (int i = 0; i < 3000; i++) {
                h.processElement(new StreamRecord<>(request("r" + i, i % 2 == 0 ? "card-" + (i % 100) : null), i));
            }
            Map<String, Set<Boolean>> byEntity = new HashMap<>();
            Set<String> passed = new HashSet<>();
            for (Request r : h.extractOutputValues()) {
                passed.add(r.getRequestId());
            }
            int unsampled = 0;
            for (StreamRecord<MetricEvent> e : h.getSideOutput(SampleRequests.UNSAMPLED)) {
                assertEquals(MetricEvent.UNSAMPLED_REQUEST, e.getValue().kind);
                assertTrue(!passed.contains(e.getValue().requestId));
                unsampled++;
            }
            assertEquals(3000, passed.size() + unsampled, "every request passed or counted");
            for (int i = 0; i < 3000; i++) {
                String id = "r" + i;
                boolean in = passed.contains(id);
                if (i % 2 == 0) {
                    String entity = "card-" + (i % 100);
                    byEntity.computeIfAbsent(entity, k -> new HashSet<>()).add(in);
                    assertEquals(documentedRule(entity, 0.3, DeterministicSample.EXPERIMENT_SALT), in, id);
                } else {
                    // No entity id: by request id.
                    assertEquals(documentedRule(id, 0.3, DeterministicSample.EXPERIMENT_SALT), in, id);
                }
            }
            byEntity.forEach((entity, decisions) -> assertEquals(1, decisions.size(), entity));
        }
    }

    /** Labels are dropped exactly when their request is (by request id), and counted. */
    @Test
    void labelsFollowTheirRequestsOutOfTheSample() throws Exception {
        DeterministicSample sample = new DeterministicSample(0.2, DeterministicSample.EXPERIMENT_SALT);
        Set<String> requestsIn = new HashSet<>();
        try (OneInputStreamOperatorTestHarness<Request, Request> h =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new SampleRequests(sample, false)))) {
            h.open();
            for (int i = 0; i < 2000; i++) {
                h.processElement(new StreamRecord<>(request("r" + i, "e" + i), i));
            }
            h.extractOutputValues().forEach(r -> requestsIn.add(r.getRequestId()));
        }
        try (OneInputStreamOperatorTestHarness<Label, Label> h =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new SampleLabels(sample)))) {
            h.open();
            for (int i = 0; i < 2000; i++) {
                h.processElement(new StreamRecord<>(
                        Label.newBuilder()
                                .setRequestId("r" + i)
                                .setLabelTime(Instant.ofEpochMilli(5_000 + i))
                                .setValue(1.0)
                                .build(),
                        5_000 + i));
            }
            Set<String> labelsIn = new HashSet<>();
            h.extractOutputValues().forEach(l -> labelsIn.add(l.getRequestId()));
            assertEquals(requestsIn, labelsIn);
            assertEquals(
                    2000 - labelsIn.size(),
                    h.getSideOutput(SampleLabels.UNSAMPLED).size());
        }
    }

    private static Request request(String id, String entity) {
        return Request.newBuilder()
                .setRequestId(id)
                .setEntityId(entity)
                .setEventTime(Instant.ofEpochMilli(1_000))
                .setFeatures(Map.of())
                .build();
    }
}
