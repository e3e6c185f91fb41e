package io.shadowml.jobs.validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.Request;
import io.shadowml.models.ModelDescriptor;

/**
 * Lets through only requests every model can score: id and event time present and plausible ({@link
 * PlausibleTime}), ids and segments within {@link InputLimits}, every named feature present, finite and within
 * float32 range, every dense vector of the right length and finite. Everything else goes to the
 * dead-letter side output with the first reason found.
 */
public class RequestValidator extends RecordValidator<Request> {
    private static final long serialVersionUID = 1L;

    /** feature name -> a model that needs it (for the message). */
    private final LinkedHashMap<String, String> requiredFeatures = new LinkedHashMap<>();
    /** vector length -> a model that needs it. */
    private final LinkedHashMap<Integer, String> requiredVectorLengths = new LinkedHashMap<>();

    private final PlausibleTime plausibleTime;
    private final InputLimits limits;

    public RequestValidator(
            String experimentId, List<ModelDescriptor> models, PlausibleTime plausibleTime, InputLimits limits) {
        super(experimentId, "requests_dead_lettered");
        this.plausibleTime = plausibleTime;
        this.limits = limits;
        for (ModelDescriptor m : models) {
            if (m.isVectorInput()) {
                requiredVectorLengths.putIfAbsent(m.featureCount(), m.id());
            } else {
                for (String f : m.featureNames()) {
                    requiredFeatures.putIfAbsent(f, m.id());
                }
            }
        }
    }

    @Override
    String problem(Request r, long recordTimestamp) {
        if (r.getRequestId() == null || r.getRequestId().isBlank()) {
            return "missing request_id";
        }
        if (r.getEventTime() == null) {
            return "missing event_time";
        }
        String p = limits.idProblem("request_id", r.getRequestId());
        if (p == null) {
            p = limits.idProblem("entity_id", r.getEntityId());
        }
        if (p == null) {
            p = limits.idProblem("served_by", r.getServedBy());
        }
        if (p == null) {
            p = limits.segmentsProblem(r.getSegments());
        }
        if (p == null) {
            p = plausibleTime.problem("event_time", r.getEventTime().toEpochMilli(), recordTimestamp);
        }
        if (p != null) {
            return p;
        }
        if (!requiredFeatures.isEmpty()) {
            Map<String, Double> features = r.getFeatures();
            if (features == null) {
                return "missing features (model "
                        + requiredFeatures.values().iterator().next() + " needs named features)";
            }
            for (Map.Entry<String, String> need : requiredFeatures.entrySet()) {
                Double v = features.get(need.getKey());
                if (v == null) {
                    return "missing feature '" + need.getKey() + "' (model " + need.getValue() + ")";
                }
                if (!Double.isFinite(v)) {
                    return "feature '" + need.getKey() + "' is " + v;
                }
                // Models read float32: a finite double beyond Float.MAX_VALUE would reach them as infinity.
                if (Float.isInfinite((float) v.doubleValue())) {
                    return "feature '" + need.getKey() + "' is " + v + ", beyond the float32 range the models read";
                }
            }
        }
        if (!requiredVectorLengths.isEmpty()) {
            List<Float> vector = r.getVector();
            for (Map.Entry<Integer, String> need : requiredVectorLengths.entrySet()) {
                if (vector == null) {
                    return "missing vector (model " + need.getValue() + " needs " + need.getKey() + " values)";
                }
                if (vector.size() != need.getKey()) {
                    return "vector has " + vector.size() + " values, model " + need.getValue() + " expects "
                            + need.getKey();
                }
            }
            if (vector != null) {
                for (int i = 0; i < vector.size(); i++) {
                    float v = vector.get(i);
                    if (!Float.isFinite(v)) {
                        return "vector[" + i + "] is " + v;
                    }
                }
            }
        }
        return null;
    }
}
