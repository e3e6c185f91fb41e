package io.shadowml.jobs.io.format;

import java.util.Collection;
import java.util.Map;

import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads the leaves that {@link FieldPath#resolve} finds, from a Jackson tree or Avro generic data alike.
 * Each reader returns null when the value has another type; {@link #describe} then says which.
 */
final class Values {
    private Values() {}

    /** A number; booleans read as 1 and 0 (flags are common features). */
    static Double number(Object v) {
        if (v instanceof JsonNode) {
            JsonNode json = (JsonNode) v;
            if (json.isNumber()) {
                return json.doubleValue();
            }
            return json.isBoolean() ? (json.booleanValue() ? 1.0 : 0.0) : null;
        }
        if (v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof Boolean) {
            return (Boolean) v ? 1.0 : 0.0;
        }
        return null;
    }

    /** A boolean, or null. */
    static Boolean bool(Object v) {
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        return v instanceof JsonNode && ((JsonNode) v).isBoolean() ? ((JsonNode) v).booleanValue() : null;
    }

    /** A number, booleans excluded. */
    static Double strictNumber(Object v) {
        return bool(v) != null ? null : number(v);
    }

    /** A whole number without loss (an epoch time), or null. */
    static Long wholeNumber(Object v) {
        if (v instanceof JsonNode) {
            JsonNode json = (JsonNode) v;
            return json.isIntegralNumber() && json.canConvertToLong() ? json.longValue() : null;
        }
        if (v instanceof Long || v instanceof Integer) {
            return ((Number) v).longValue();
        }
        return null;
    }

    /** Text; whole numbers read as their decimal digits (numeric ids). */
    static String text(Object v) {
        if (v instanceof JsonNode) {
            JsonNode json = (JsonNode) v;
            if (json.isTextual()) {
                return json.textValue();
            }
            return json.isIntegralNumber() ? json.asText() : null;
        }
        if (v instanceof CharSequence || v instanceof GenericEnumSymbol) {
            return v.toString();
        }
        if (v instanceof Long || v instanceof Integer) {
            return v.toString();
        }
        return null;
    }

    /** The entries of an object (JSON) or a map or record (Avro); null for anything else. */
    static Iterable<Map.Entry<String, Object>> entries(Object v) {
        if (v instanceof JsonNode && ((JsonNode) v).isObject()) {
            JsonNode json = (JsonNode) v;
            return () -> new java.util.Iterator<>() {
                private final java.util.Iterator<Map.Entry<String, JsonNode>> it = json.fields();

                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public Map.Entry<String, Object> next() {
                    Map.Entry<String, JsonNode> e = it.next();
                    return Map.entry(e.getKey(), e.getValue());
                }
            };
        }
        if (v instanceof Map) {
            Map<?, ?> map = (Map<?, ?>) v;
            return () -> map.entrySet().stream()
                    .map(e -> Map.<String, Object>entry(
                            e.getKey().toString(), e.getValue() == null ? FieldPath.MISSING : e.getValue()))
                    .iterator();
        }
        if (v instanceof GenericRecord) {
            GenericRecord r = (GenericRecord) v;
            return () -> r.getSchema().getFields().stream()
                    .map(f -> Map.<String, Object>entry(
                            f.name(), r.get(f.pos()) == null ? FieldPath.MISSING : r.get(f.pos())))
                    .iterator();
        }
        return null;
    }

    /** The number of elements of an array, or -1 when the value is not one. */
    static int arrayLength(Object v) {
        if (v instanceof JsonNode) {
            JsonNode json = (JsonNode) v;
            return json.isArray() ? json.size() : -1;
        }
        return v instanceof Collection ? ((Collection<?>) v).size() : -1;
    }

    /** Element {@code i} of an array whose length {@link #arrayLength} gave. */
    static Object element(Object array, int i) {
        return array instanceof JsonNode ? ((JsonNode) array).get(i) : ((java.util.List<?>) array).get(i);
    }

    /** "a string", "an object", … for reasons. */
    static String describe(Object v) {
        if (v instanceof JsonNode) {
            JsonNode json = (JsonNode) v;
            switch (json.getNodeType()) {
                case STRING:
                    return "a string";
                case NUMBER:
                    return "a number";
                case BOOLEAN:
                    return "a boolean";
                case ARRAY:
                    return "an array";
                case OBJECT:
                case POJO:
                    return "an object";
                default:
                    return json.getNodeType().name().toLowerCase();
            }
        }
        if (v instanceof CharSequence || v instanceof GenericEnumSymbol) {
            return "a string";
        }
        if (v instanceof Number) {
            return "a number";
        }
        if (v instanceof Boolean) {
            return "a boolean";
        }
        if (v instanceof Collection) {
            return "an array";
        }
        if (v instanceof Map || v instanceof GenericRecord) {
            return "an object";
        }
        return v == null ? "null" : "bytes";
    }
}
