package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shadowml.avro.Request;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * The demo's canary: the assignment rule (a binomial share of the scenario, the same in every run, sticky per
 * card) and the logged output (what the serving model returns, checked against the trainer's fixture outputs
 * and against the runtime scoring each row on its own).
 */
class CanaryTrafficTest {
    static final Path ROOT = ScenarioData.repoRoot();

    static List<LabelledRequest> fraud() throws IOException {
        return ScenarioData.fraud(ROOT.resolve("models/data/fraud/holdout.csv"), 6000);
    }

    static List<LabelledRequest> fashion() throws IOException {
        return ScenarioData.fashion(6000, Instant.parse("2026-01-05T00:00:00Z"), 30_000, 7);
    }

    @Test
    void theRuleIsSha256OfTheKey() {
        // u(key) from a reference implementation (Python: int.from_bytes(sha256(b"canary/" + key)[:8]) >> 11,
        // divided by 2**53): the same arms in every run, on any machine.
        assertEquals(0.13725540565744465, CanaryTraffic.position("card-01460"));
        assertEquals(0.0153570868773647, CanaryTraffic.position("card-00010"));
        assertEquals(0.042553499616275525, CanaryTraffic.position("img-00001"));
        assertEquals(0.6229994508185929, CanaryTraffic.position("img-00000"));

        CanaryTraffic tenPercent = new CanaryTraffic(10, CanaryTraffic.Unit.ENTITY);
        assertEquals("canary", tenPercent.arm(request("txn-1", "card-00010")));
        assertEquals("prod", tenPercent.arm(request("txn-2", "card-01460")));
        assertEquals("canary", new CanaryTraffic(14, CanaryTraffic.Unit.ENTITY).arm(request("txn-2", "card-01460")));
        // Without an entity the request decides; by request the entity does not matter.
        assertEquals("canary", tenPercent.arm(request("img-00001", null)));
        CanaryTraffic byRequest = new CanaryTraffic(10, CanaryTraffic.Unit.REQUEST);
        assertEquals("prod", byRequest.arm(request("img-00000", "card-00010")));
        assertEquals("canary", byRequest.arm(request("img-00001", "card-01460")));

        assertEquals(CanaryTraffic.Unit.ENTITY, CanaryTraffic.unitFor("fraud"));
        assertEquals(CanaryTraffic.Unit.REQUEST, CanaryTraffic.unitFor("fashion"));
        assertThrows(IllegalArgumentException.class, () -> new CanaryTraffic(0, CanaryTraffic.Unit.REQUEST));
        assertThrows(IllegalArgumentException.class, () -> new CanaryTraffic(100, CanaryTraffic.Unit.REQUEST));
    }

    @Test
    void fraudCardsStayOnOneArmAndTheSharesAreBinomial() throws IOException {
        List<LabelledRequest> events = fraud();
        for (double percent : new double[] {1, 10, 50}) {
            double p = percent / 100;
            CanaryTraffic canary = new CanaryTraffic(percent, CanaryTraffic.Unit.ENTITY);
            CanaryTraffic again = new CanaryTraffic(percent, CanaryTraffic.Unit.ENTITY);
            Map<String, String> armOfCard = new HashMap<>();
            Map<String, Integer> requestsOfCard = new HashMap<>();
            long canaryRequests = 0;
            for (LabelledRequest e : events) {
                Request r = e.request();
                String arm = canary.arm(r);
                assertEquals(arm, again.arm(r), "deterministic");
                String before = armOfCard.putIfAbsent(r.getEntityId(), arm);
                assertTrue(before == null || before.equals(arm), r.getEntityId() + " switched arms");
                requestsOfCard.merge(r.getEntityId(), 1, Integer::sum);
                canaryRequests += arm.equals("canary") ? 1 : 0;
            }
            // Cards: Binomial(cards, p).
            long cards = armOfCard.size();
            long canaryCards =
                    armOfCard.values().stream().filter("canary"::equals).count();
            assertTrue(cards > 2000, "cards " + cards);
            assertWithin(p, (double) canaryCards / cards, Math.sqrt(p * (1 - p) / cards), percent + "% of cards");
            // Requests: whole cards, so the binomial variance of a cluster sample: p(1-p) sum(m_i^2) / n^2.
            double sumSquares = requestsOfCard.values().stream()
                    .mapToDouble(m -> (double) m * m)
                    .sum();
            double n = events.size();
            assertWithin(p, canaryRequests / n, Math.sqrt(p * (1 - p) * sumSquares) / n, percent + "% of requests");
        }
    }

    @Test
    void fashionImagesAreAssignedOneByOne() throws IOException {
        List<LabelledRequest> events = fashion();
        CanaryTraffic canary = new CanaryTraffic(10, CanaryTraffic.Unit.REQUEST);
        long canaryRequests = events.stream()
                .filter(e -> canary.arm(e.request()).equals("canary"))
                .count();
        double n = events.size();
        assertWithin(0.1, canaryRequests / n, Math.sqrt(0.1 * 0.9 / n), "10% of images");
        // 7 cameras would give no useful 10% split by entity: every camera has both arms.
        Map<String, Set<String>> armsOfCamera = new HashMap<>();
        for (LabelledRequest e : events) {
            armsOfCamera
                    .computeIfAbsent(e.request().getEntityId(), c -> new HashSet<>())
                    .add(canary.arm(e.request()));
        }
        assertEquals(7, armsOfCamera.size());
        armsOfCamera.values().forEach(arms -> assertEquals(2, arms.size()));
    }

    /** |observed - p| within 4 standard deviations. */
    private static void assertWithin(double p, double observed, double sd, String what) {
        assertTrue(Math.abs(observed - p) <= 4 * sd, what + ": " + observed + " vs " + p + " +- 4 x " + sd);
    }

    @Test
    void fraudProductionScoreIsTheTrainersOutputOfTheServingModel() throws IOException {
        ModelDescriptor live = CanaryTraffic.live(ROOT, "fraud");
        ModelDescriptor candidate = CanaryTraffic.candidate(ROOT, "fraud");
        assertEquals(ScenarioData.FRAUD_FEATURES, live.featureNames());
        assertEquals(ScenarioData.FRAUD_FEATURES, candidate.featureNames());
        JsonNode liveFixture = fixture("fraud/live");
        JsonNode candidateFixture = fixture("fraud/candidate");
        assertEquals(liveFixture.get("inputs"), candidateFixture.get("inputs"));

        List<LabelledRequest> events = new ArrayList<>();
        JsonNode inputs = liveFixture.get("inputs");
        for (int i = 0; i < inputs.size(); i++) {
            Map<String, Double> features = new HashMap<>();
            for (int j = 0; j < ScenarioData.FRAUD_FEATURES.size(); j++) {
                features.put(
                        ScenarioData.FRAUD_FEATURES.get(j), inputs.get(i).get(j).asDouble());
            }
            events.add(new LabelledRequest(
                    Request.newBuilder(request("fx-" + i, "card-fx-" + i))
                            .setFeatures(features)
                            .build(),
                    null));
        }
        CanaryTraffic canary = new CanaryTraffic(50, CanaryTraffic.Unit.ENTITY);
        List<LabelledRequest> served = canary.serve(events, live, candidate);
        assertEquals(events.size(), served.size());
        int[] perArm = new int[2];
        for (int i = 0; i < served.size(); i++) {
            Request r = served.get(i).request();
            assertEquals(canary.arm(events.get(i).request()), r.getServedBy());
            boolean isCanary = r.getServedBy().equals("canary");
            perArm[isCanary ? 1 : 0]++;
            JsonNode expected =
                    (isCanary ? candidateFixture : liveFixture).get("outputs").get(i);
            int positive = (isCanary ? candidate : live).positiveClass();
            assertEquals(expected.get(positive).asDouble(), r.getProductionScore(), 1e-5, "row " + i);
            assertNull(r.getProductionProbabilities());
            assertNull(events.get(i).request().getServedBy(), "the input is not changed");
        }
        assertTrue(perArm[0] > 40 && perArm[1] > 40, "both arms checked: " + perArm[0] + " / " + perArm[1]);
    }

    @Test
    void fashionProductionProbabilitiesAreTheTrainersOutputsOfTheServingModel() throws IOException {
        ModelDescriptor live = CanaryTraffic.live(ROOT, "fashion");
        ModelDescriptor candidate = CanaryTraffic.candidate(ROOT, "fashion");
        JsonNode liveFixture = fixture("fashion/live");
        JsonNode candidateFixture = fixture("fashion/candidate");
        List<LabelledRequest> events = new ArrayList<>();
        JsonNode inputs = liveFixture.get("inputs");
        for (int i = 0; i < inputs.size(); i++) {
            List<Float> vector = new ArrayList<>();
            inputs.get(i).forEach(v -> vector.add((float) v.asDouble()));
            events.add(new LabelledRequest(
                    Request.newBuilder(request("fx-" + i, "camera-0"))
                            .setVector(vector)
                            .build(),
                    null));
        }
        CanaryTraffic canary = new CanaryTraffic(50, CanaryTraffic.Unit.REQUEST);
        List<LabelledRequest> served = canary.serve(events, live, candidate);
        int[] perArm = new int[2];
        for (int i = 0; i < served.size(); i++) {
            Request r = served.get(i).request();
            boolean isCanary = r.getServedBy().equals("canary");
            perArm[isCanary ? 1 : 0]++;
            JsonNode expected =
                    (isCanary ? candidateFixture : liveFixture).get("outputs").get(i);
            assertNull(r.getProductionScore());
            assertEquals(10, r.getProductionProbabilities().size());
            for (int k = 0; k < 10; k++) {
                assertEquals(
                        expected.get(k).asDouble(),
                        r.getProductionProbabilities().get(k),
                        1e-5,
                        "row " + i + " class " + k);
            }
        }
        assertTrue(perArm[0] > 40 && perArm[1] > 40, "both arms checked: " + perArm[0] + " / " + perArm[1]);
    }

    @Test
    void scenarioScoresEqualTheRuntimeScoringEachRowAlone() throws IOException {
        List<LabelledRequest> events = fraud().subList(0, 1000);
        ModelDescriptor live = CanaryTraffic.live(ROOT, "fraud");
        ModelDescriptor candidate = CanaryTraffic.candidate(ROOT, "fraud");
        CanaryTraffic canary = new CanaryTraffic(10, CanaryTraffic.Unit.ENTITY);
        List<LabelledRequest> served = canary.serve(events, live, candidate);
        long canaryRequests = 0;
        try (OnnxModel liveModel = OnnxModel.load(live);
                OnnxModel candidateModel = OnnxModel.load(candidate)) {
            for (int i = 0; i < served.size(); i++) {
                Request r = served.get(i).request();
                boolean isCanary = r.getServedBy().equals("canary");
                canaryRequests += isCanary ? 1 : 0;
                OnnxModel model = isCanary ? candidateModel : liveModel;
                InputBatch one = model.newInputBatch();
                float[] row = new float[ScenarioData.FRAUD_FEATURES.size()];
                for (int j = 0; j < row.length; j++) {
                    row[j] = r.getFeatures()
                            .get(ScenarioData.FRAUD_FEATURES.get(j))
                            .floatValue();
                }
                PredictionBatch out = model.score(one.addRow(row));
                // Batches of one against batches of 256: the same within ONNX Runtime's 1e-6.
                assertEquals(out.score(0), r.getProductionScore(), 1e-6, "row " + i);
                assertSame(events.get(i).label(), served.get(i).label());
                assertNotSame(events.get(i).request(), r);
                assertEquals(events.get(i).request().getRequestId(), r.getRequestId());
            }
        }
        assertTrue(canaryRequests > 50, "canary requests " + canaryRequests);
    }

    private static JsonNode fixture(String model) throws IOException {
        return new ObjectMapper()
                .readTree(ROOT.resolve("models/shipped")
                        .resolve(model)
                        .resolve("fixture.json")
                        .toFile());
    }

    private static Request request(String id, String entity) {
        return Request.newBuilder()
                .setRequestId(id)
                .setEventTime(Instant.parse("2026-01-05T00:00:00Z"))
                .setEntityId(entity)
                .build();
    }
}
