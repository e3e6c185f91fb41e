package io.shadowml.local;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.Request;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * The demo's canary ({@code --canary PERCENT}): what a real canary logs with each request. Every request is
 * still shadowed (the job scores it with the live model and the candidates); in production a share of them was
 * served by the candidate, and the request says which model answered ({@code served_by}) and what it answered
 * ({@code production_score}, or {@code production_probabilities} for a multiclass model).
 *
 * <p><b>The assignment rule</b> (the only place it is written): a request is served by the canary arm when
 *
 * <pre>
 *   u(key) = (first 8 bytes of SHA-256("canary/" + key) as an unsigned big-endian integer &gt;&gt;&gt; 11) / 2⁵³
 *   served_by = u(key) &lt; PERCENT / 100 ? "canary" : "prod"
 * </pre>
 *
 * where {@code key} is the request's {@code entity_id} for {@link Unit#ENTITY} (sticky: an entity, a card,
 * stays on one arm, as a real canary routes a user consistently) and its {@code request_id} for {@link
 * Unit#REQUEST} (or when a request has no entity_id). SHA-256 of the key alone: the same arms in every run and
 * on any machine, reproducible in any language, and independent of the job's own {@code String.hashCode}
 * sampling ({@code sample_rate}, {@code scored_events_sample_rate}).
 *
 * <p><b>The served output</b> is computed by the very models the job runs ({@code models/shipped/<scenario>/live}
 * for "prod", {@code .../candidate} for "canary"), through the same ONNX runtime ({@link OnnxModel}), in
 * batches: binary {@link PredictionBatch#score P(positive)}, multiclass all class probabilities. So the job's
 * shadow-vs-served parity of each arm is clean (differences of batching only, below 1e-6).
 */
final class CanaryTraffic {
    /** served_by of the requests the live model answered. */
    static final String PROD = "prod";
    /** served_by of the requests the candidate answered. */
    static final String CANARY = "canary";

    /** What the rule hashes. */
    enum Unit {
        /** entity_id (sticky per entity); request_id for a request without one. */
        ENTITY,
        /** request_id. */
        REQUEST
    }

    private final double percent;
    private final Unit unit;

    /** @param percent the canary's share of the traffic in percent, 0 &lt; percent &lt; 100 */
    CanaryTraffic(double percent, Unit unit) {
        if (!(percent > 0 && percent < 100)) {
            throw new IllegalArgumentException("the canary percentage must be in (0, 100): " + percent);
        }
        this.percent = percent;
        this.unit = unit;
    }

    /**
     * The unit of a shipped scenario: fraud by card (entity_id; about 2.2 requests per card in 6000), fashion by
     * request (its entity_id is one of 7 cameras, too few units for a 10 % split).
     */
    static Unit unitFor(String scenario) {
        return scenario.equals("fraud") ? Unit.ENTITY : Unit.REQUEST;
    }

    double percent() {
        return percent;
    }

    Unit unit() {
        return unit;
    }

    /** The key the rule hashes for a request. */
    String key(Request r) {
        if (unit == Unit.ENTITY && r.getEntityId() != null) {
            return r.getEntityId();
        }
        return r.getRequestId();
    }

    /** {@link #CANARY} or {@link #PROD}: the rule above. */
    String arm(Request r) {
        return position(key(r)) < percent / 100 ? CANARY : PROD;
    }

    /** u(key) in [0, 1): the key's position on the unit interval. */
    static double position(String key) {
        byte[] h;
        try {
            h = MessageDigest.getInstance("SHA-256").digest(("canary/" + key).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (h[i] & 0xff);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }

    /** The demo's live and candidate model descriptors of a scenario. */
    static ModelDescriptor live(Path root, String scenario) {
        return ModelDescriptor.load(
                root.resolve("models/shipped").resolve(scenario).resolve("live/model.json"));
    }

    static ModelDescriptor candidate(Path root, String scenario) {
        return ModelDescriptor.load(
                root.resolve("models/shipped").resolve(scenario).resolve("candidate/model.json"));
    }

    /**
     * The events with served_by set by the rule and the serving model's output logged: "prod" requests scored by
     * {@code live}, "canary" requests by {@code candidate}. Labels are kept; the input list is not changed.
     */
    List<LabelledRequest> serve(List<LabelledRequest> events, ModelDescriptor live, ModelDescriptor candidate) {
        if (live.task() != candidate.task() || live.numClasses() != candidate.numClasses()) {
            throw new IllegalArgumentException(
                    "live " + live.id() + " and candidate " + candidate.id() + " answer different questions");
        }
        List<LabelledRequest> out = new ArrayList<>(events.size());
        List<Integer> prodRows = new ArrayList<>();
        List<Integer> canaryRows = new ArrayList<>();
        for (LabelledRequest e : events) {
            Request r = Request.newBuilder(e.request()).build();
            String arm = arm(r);
            r.setServedBy(arm);
            (arm.equals(CANARY) ? canaryRows : prodRows).add(out.size());
            out.add(new LabelledRequest(r, e.label()));
        }
        logOutputs(out, prodRows, live);
        logOutputs(out, canaryRows, candidate);
        return out;
    }

    /** Scores the requests at {@code rows} with {@code model} in batches and logs its outputs with them. */
    private static void logOutputs(List<LabelledRequest> events, List<Integer> rows, ModelDescriptor model) {
        if (rows.isEmpty()) {
            return;
        }
        try (OnnxModel onnx = OnnxModel.load(model, ModelOptions.defaults())) {
            InputBatch batch = onnx.newInputBatch();
            float[] probabilities = new float[model.numClasses()];
            for (int start = 0; start < rows.size(); start += batch.capacity()) {
                int end = Math.min(rows.size(), start + batch.capacity());
                batch.clear();
                for (int i = start; i < end; i++) {
                    addRow(events.get(rows.get(i)).request(), model, batch);
                }
                PredictionBatch scores = onnx.score(batch);
                for (int i = start; i < end; i++) {
                    Request r = events.get(rows.get(i)).request();
                    if (model.task() == Task.MULTICLASS) {
                        scores.copyProbabilities(i - start, probabilities);
                        List<Float> p = new ArrayList<>(probabilities.length);
                        for (float v : probabilities) {
                            p.add(v);
                        }
                        r.setProductionProbabilities(p);
                    } else {
                        // The float the model returned, exactly: the job reads it back as a float.
                        r.setProductionScore((double) scores.score(i - start));
                    }
                }
            }
        }
    }

    /** The request's inputs in the model's column order, as the job's scoring copies them. */
    private static void addRow(Request r, ModelDescriptor model, InputBatch batch) {
        if (model.isVectorInput()) {
            List<Float> vector = r.getVector();
            for (int j = 0; j < model.featureCount(); j++) {
                batch.set(j, vector.get(j));
            }
        } else {
            Map<String, Double> features = r.getFeatures();
            List<String> names = model.featureNames();
            for (int j = 0; j < names.size(); j++) {
                batch.set(j, features.get(names.get(j)).floatValue());
            }
        }
        batch.endRow();
    }

    /** What the assignment gave: requests and units per arm. */
    record Split(long requests, long canaryRequests, long units, long canaryUnits) {
        double canaryShare() {
            return requests == 0 ? Double.NaN : (double) canaryRequests / requests;
        }
    }

    /** Counts the arms of served events (units: distinct keys). */
    Split split(List<LabelledRequest> served) {
        Map<String, Boolean> units = new HashMap<>();
        long canary = 0;
        for (LabelledRequest e : served) {
            boolean c = CANARY.equals(e.request().getServedBy());
            if (c) {
                canary++;
            }
            units.put(key(e.request()), c);
        }
        long canaryUnits = units.values().stream().filter(Boolean::booleanValue).count();
        return new Split(served.size(), canary, units.size(), canaryUnits);
    }
}
