package io.shadowml.jobs.io.format;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.Request;

/**
 * Builds the job's {@link Request} from a request as the producer wrote it (a JSON tree or an Avro
 * generic record): which path holds the request id, the event time, the entity, the segments, the
 * features and the vector. Every default is the contract's own field name, so the JSON rendering of a
 * {@code Request} needs no mapping at all. Only the features some model reads are copied.
 *
 * <p>A record without a required value, or with a value of the wrong type, is not a {@code Request}:
 * {@link #map} then returns the reason, naming the path.
 */
public final class RequestMapping implements RecordMapping {
    private static final long serialVersionUID = 1L;

    final FieldPath requestId;
    final FieldPath eventTime;
    final TimeFormat eventTimeFormat;
    final FieldPath entityId;
    final FieldPath servedBy;
    final FieldPath productionScore;
    final FieldPath productionProbabilities;
    /** A path to a map of segment values, or null when {@link #segmentFields} lists them one by one. */
    final FieldPath segmentMap;

    final Map<String, FieldPath> segmentFields;
    /** The named features the models read, in a fixed order. */
    final List<String> features;
    /** Feature name → its own path; features not listed here are looked up in {@link #featureMap}. */
    final Map<String, FieldPath> featurePaths;

    final FieldPath featureMap;
    final Map<String, Double> featureDefaults;
    /** The dense vector's path, or null when no model reads one. */
    final FieldPath vector;

    public RequestMapping(
            FieldPath requestId,
            FieldPath eventTime,
            TimeFormat eventTimeFormat,
            FieldPath entityId,
            FieldPath servedBy,
            FieldPath productionScore,
            FieldPath productionProbabilities,
            FieldPath segmentMap,
            Map<String, FieldPath> segmentFields,
            List<String> features,
            Map<String, FieldPath> featurePaths,
            FieldPath featureMap,
            Map<String, Double> featureDefaults,
            FieldPath vector) {
        this.requestId = requestId;
        this.eventTime = eventTime;
        this.eventTimeFormat = eventTimeFormat;
        this.entityId = entityId;
        this.servedBy = servedBy;
        this.productionScore = productionScore;
        this.productionProbabilities = productionProbabilities;
        this.segmentMap = segmentMap;
        this.segmentFields = new LinkedHashMap<>(segmentFields);
        this.features = new ArrayList<>(features);
        this.featurePaths = new HashMap<>(featurePaths);
        this.featureMap = featureMap;
        this.featureDefaults = new HashMap<>(featureDefaults);
        this.vector = vector;
    }

    @Override
    public boolean readsKafkaAttributes() {
        return requestId.isKafkaKey() || eventTime.isKafkaTimestamp() || entityId.isKafkaKey() || servedBy.isKafkaKey();
    }

    /** Every path this mapping reads, with what it is for (checked against writer schemas at start). */
    public Map<String, FieldPath> paths() {
        Map<String, FieldPath> all = new LinkedHashMap<>();
        all.put("request_id", requestId);
        all.put("event_time", eventTime);
        all.put("entity_id", entityId);
        all.put("served_by", servedBy);
        all.put("production_score", productionScore);
        all.put("production_probabilities", productionProbabilities);
        if (segmentMap != null) {
            all.put("segments", segmentMap);
        }
        segmentFields.forEach((name, path) -> all.put("segments." + name, path));
        featurePaths.forEach((name, path) -> all.put("features." + name, path));
        if (featureMap != null && featurePaths.size() < features.size()) {
            all.put("feature_map", featureMap);
        }
        if (vector != null) {
            all.put("vector", vector);
        }
        all.values().removeIf(p -> p.isKafkaKey() || p.isKafkaTimestamp());
        return all;
    }

    /** The request, or (a String) why the record is not one. */
    @Override
    public Object map(Object root, byte[] key, long kafkaTimestamp) {
        Request.Builder b = Request.newBuilder();
        Object id = MappedField.text(requestId, root, key, "request_id");
        if (id == MappedField.MISSING_VALUE) {
            return MappedField.missing("request_id", requestId);
        }
        if (id instanceof MappedField.Reason) {
            return id.toString();
        }
        b.setRequestId((String) id);
        Object time = MappedField.time(eventTime, eventTimeFormat, root, kafkaTimestamp, "event_time");
        if (time instanceof String) {
            return time;
        }
        b.setEventTime(Instant.ofEpochMilli((Long) time));
        Object entity = MappedField.text(entityId, root, key, "entity_id");
        if (entity instanceof MappedField.Reason) {
            return entity.toString();
        }
        b.setEntityId(entity == MappedField.MISSING_VALUE ? null : (String) entity);
        Object variant = MappedField.text(servedBy, root, key, "served_by");
        if (variant instanceof MappedField.Reason) {
            return variant.toString();
        }
        b.setServedBy(variant == MappedField.MISSING_VALUE ? null : (String) variant);
        Object score = productionScore.resolve(root);
        if (score != FieldPath.MISSING) {
            Double s = Values.strictNumber(score);
            if (s == null) {
                return MappedField.wrongType("production_score", productionScore, score, "a number");
            }
            b.setProductionScore(s);
        }
        Object probabilities = floats(productionProbabilities, root, "production_probabilities");
        if (probabilities instanceof String) {
            return probabilities;
        }
        if (probabilities != FieldPath.MISSING) {
            @SuppressWarnings("unchecked")
            List<Float> values = (List<Float>) probabilities;
            b.setProductionProbabilities(values);
        }
        Object segments = segments(root);
        if (segments instanceof String) {
            return segments;
        }
        @SuppressWarnings("unchecked")
        Map<String, String> segmentValues = (Map<String, String>) segments;
        b.setSegments(segmentValues);
        if (!features.isEmpty()) {
            Object named = features(root);
            if (named instanceof String) {
                return named;
            }
            @SuppressWarnings("unchecked")
            Map<String, Double> values = (Map<String, Double>) named;
            b.setFeatures(values);
        }
        if (vector != null) {
            Object v = vector(root);
            if (v instanceof String) {
                return v;
            }
            @SuppressWarnings("unchecked")
            List<Float> values = (List<Float>) v;
            b.setVector(values);
        }
        return b.build();
    }

    private Object segments(Object root) {
        Map<String, String> out = new HashMap<>();
        if (segmentMap != null) {
            Object map = segmentMap.resolve(root);
            if (map == FieldPath.MISSING) {
                return out;
            }
            Iterable<Map.Entry<String, Object>> entries = Values.entries(map);
            if (entries == null) {
                return MappedField.wrongType("segments", segmentMap, map, "an object of strings");
            }
            for (Map.Entry<String, Object> e : entries) {
                if (e.getValue() == FieldPath.MISSING) {
                    continue;
                }
                String v = segmentText(e.getValue());
                if (v == null) {
                    return MappedField.wrongType(
                            "segments['" + e.getKey() + "']", segmentMap, e.getValue(), "a string");
                }
                out.put(e.getKey(), v);
            }
            return out;
        }
        for (Map.Entry<String, FieldPath> e : segmentFields.entrySet()) {
            Object v = e.getValue().resolve(root);
            if (v == FieldPath.MISSING) {
                continue; // reported as (none)
            }
            String text = segmentText(v);
            if (text == null) {
                return MappedField.wrongType("segment '" + e.getKey() + "'", e.getValue(), v, "a string");
            }
            out.put(e.getKey(), text);
        }
        return out;
    }

    /** Segment values are labels: text, whole numbers and booleans read as their text. */
    private static String segmentText(Object v) {
        String text = Values.text(v);
        Boolean flag = Values.bool(v);
        return text != null ? text : flag == null ? null : flag.toString();
    }

    private Object features(Object root) {
        Map<String, Double> out = new HashMap<>(features.size() * 2);
        Object map = null;
        for (String name : features) {
            FieldPath own = featurePaths.get(name);
            Object v;
            String where;
            if (own != null) {
                v = own.resolve(root);
                where = "'" + own + "'";
            } else {
                if (map == null) {
                    map = featureMap.resolve(root);
                    if (map != FieldPath.MISSING && Values.entries(map) == null) {
                        return MappedField.wrongType("feature_map", featureMap, map, "an object of numbers");
                    }
                }
                v = map == FieldPath.MISSING ? FieldPath.MISSING : FieldPath.member(map, name);
                where = "'" + featureMap + "." + name + "'";
            }
            if (v == FieldPath.MISSING) {
                Double fallback = featureDefaults.get(name);
                if (fallback == null) {
                    return "missing feature '" + name + "' at " + where;
                }
                out.put(name, fallback);
                continue;
            }
            Double number = Values.number(v);
            if (number == null) {
                return "feature '" + name + "' at " + where + " is " + Values.describe(v) + ", expected a number";
            }
            out.put(name, number);
        }
        return out;
    }

    private Object vector(Object root) {
        Object v = floats(vector, root, "vector");
        return v == FieldPath.MISSING ? "missing vector at '" + vector + "'" : v;
    }

    /** The array of numbers at {@code path} as floats, {@link FieldPath#MISSING}, or (a String) why not. */
    private static Object floats(FieldPath path, Object root, String what) {
        Object array = path.resolve(root);
        if (array == FieldPath.MISSING) {
            return array;
        }
        int n = Values.arrayLength(array);
        if (n < 0) {
            return MappedField.wrongType(what, path, array, "an array of numbers");
        }
        List<Float> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Object e = Values.element(array, i);
            Double d = e == null ? null : Values.strictNumber(e);
            if (d == null) {
                return what + "[" + i + "] at '" + path + "[" + i + "]' is " + Values.describe(e)
                        + ", expected a number";
            }
            out.add(d.floatValue());
        }
        return out;
    }
}
