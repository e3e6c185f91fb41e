package io.shadowml.jobs.io.format;

import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;

/**
 * The JSON rendering of the job's contract: a {@link Request} or {@link Label} as one JSON object with the
 * Avro schema's field names, times as epoch milliseconds, absent fields left out. It is what {@code format:
 * json} reads without any {@code fields} mapping; the replay tool and the demo write it.
 */
public final class ContractJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ContractJson() {}

    public static byte[] encode(Request r) {
        ObjectNode o = JSON.createObjectNode();
        putText(o, "request_id", r.getRequestId());
        if (r.getEventTime() != null) {
            o.put("event_time", r.getEventTime().toEpochMilli());
        }
        putText(o, "entity_id", r.getEntityId());
        if (r.getSegments() != null && !r.getSegments().isEmpty()) {
            ObjectNode segments = o.putObject("segments");
            r.getSegments().forEach((k, v) -> segments.put(k.toString(), v == null ? null : v.toString()));
        }
        if (r.getFeatures() != null) {
            ObjectNode features = o.putObject("features");
            for (Map.Entry<String, Double> e : r.getFeatures().entrySet()) {
                features.put(e.getKey(), e.getValue());
            }
        }
        if (r.getVector() != null) {
            ArrayNode vector = o.putArray("vector");
            r.getVector().forEach(vector::add);
        }
        putText(o, "served_by", r.getServedBy());
        if (r.getProductionScore() != null) {
            o.put("production_score", r.getProductionScore());
        }
        if (r.getProductionProbabilities() != null) {
            ArrayNode p = o.putArray("production_probabilities");
            r.getProductionProbabilities().forEach(p::add);
        }
        return bytes(o);
    }

    public static byte[] encode(Label l) {
        ObjectNode o = JSON.createObjectNode();
        putText(o, "request_id", l.getRequestId());
        if (l.getLabelTime() != null) {
            o.put("label_time", l.getLabelTime().toEpochMilli());
        }
        o.put("value", l.getValue());
        return bytes(o);
    }

    private static void putText(ObjectNode o, String name, CharSequence value) {
        if (value != null) {
            o.put(name, value.toString());
        }
    }

    private static byte[] bytes(ObjectNode o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serializes", e);
        }
    }
}
