package io.shadowml.jobs.io.format;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Where a value sits in a decoded record: field names separated by dots, each optionally followed by
 * array indices ({@code payload.features.amount}, {@code scores[1]}), or one of the record's Kafka
 * attributes ({@code $key}: the key as UTF-8 text, {@code $timestamp}: the record timestamp). Resolves
 * against a Jackson tree (JSON) and against Avro generic data (records, maps, arrays) alike, so one
 * mapping reads both formats.
 */
public final class FieldPath implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What {@link #resolve} returns when the record has no value at this path (absent or null). */
    public static final Object MISSING = new Object() {
        @Override
        public String toString() {
            return "MISSING";
        }
    };

    public static final String KAFKA_KEY = "$key";
    public static final String KAFKA_TIMESTAMP = "$timestamp";

    private final String text;
    /** Field names (String) and array indices (Integer), in order; empty for the Kafka attributes. */
    private final Object[] steps;

    private FieldPath(String text, Object[] steps) {
        this.text = text;
        this.steps = steps;
    }

    /**
     * @throws IllegalArgumentException with what is wrong with the path, for the config's error message
     */
    public static FieldPath parse(String text) {
        String path = text.trim();
        if (path.equals(KAFKA_KEY) || path.equals(KAFKA_TIMESTAMP)) {
            return new FieldPath(path, new Object[0]);
        }
        if (path.startsWith("$")) {
            throw new IllegalArgumentException(
                    "'" + path + "' is not a path: the Kafka attributes are " + KAFKA_KEY + " and " + KAFKA_TIMESTAMP);
        }
        List<Object> steps = new ArrayList<>();
        for (String part : path.split("\\.", -1)) {
            int bracket = part.indexOf('[');
            String name = bracket < 0 ? part : part.substring(0, bracket);
            if (name.isEmpty()) {
                throw new IllegalArgumentException(
                        "'" + path + "' is not a path: empty field name (write names separated by dots, e.g."
                                + " payload.amount, and array indices as scores[1])");
            }
            steps.add(name);
            String rest = bracket < 0 ? "" : part.substring(bracket);
            while (!rest.isEmpty()) {
                int close = rest.indexOf(']');
                if (!rest.startsWith("[") || close < 2) {
                    throw new IllegalArgumentException(
                            "'" + path + "' is not a path: bad array index in '" + part + "'");
                }
                try {
                    steps.add(Integer.parseUnsignedInt(rest.substring(1, close)));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            "'" + path + "' is not a path: array index in '" + part + "' must be a whole number ≥ 0");
                }
                rest = rest.substring(close + 1);
            }
        }
        return new FieldPath(path, steps.toArray());
    }

    public boolean isKafkaKey() {
        return text.equals(KAFKA_KEY);
    }

    public boolean isKafkaTimestamp() {
        return text.equals(KAFKA_TIMESTAMP);
    }

    /**
     * The value at this path: a Jackson node or an Avro value (record, map, list, number, text, boolean),
     * or {@link #MISSING}. JSON null and Avro null count as missing. Not for the Kafka attributes.
     */
    public Object resolve(Object root) {
        Object current = root;
        for (Object step : steps) {
            current = step instanceof String ? member(current, (String) step) : element(current, (Integer) step);
            if (current == MISSING) {
                return MISSING;
            }
        }
        return current instanceof JsonNode && ((JsonNode) current).isNull()
                ? MISSING
                : current == null ? MISSING : current;
    }

    /** Field {@code name} of an object, map or record, or {@link #MISSING}. */
    static Object member(Object node, String name) {
        if (node instanceof JsonNode) {
            JsonNode json = (JsonNode) node;
            JsonNode v = json.isObject() ? json.get(name) : null;
            return v == null || v.isNull() ? MISSING : v;
        }
        if (node instanceof GenericRecord) {
            GenericRecord record = (GenericRecord) node;
            Schema.Field field = record.getSchema().getField(name);
            Object v = field == null ? null : record.get(field.pos());
            return v == null ? MISSING : v;
        }
        if (node instanceof Map) {
            Map<?, ?> map = (Map<?, ?>) node;
            Object v = map.get(new Utf8(name)); // Avro's generic reader keys maps by Utf8
            if (v == null) {
                v = map.get(name);
            }
            return v == null ? MISSING : v;
        }
        return MISSING;
    }

    private static Object element(Object node, int index) {
        if (node instanceof JsonNode) {
            JsonNode json = (JsonNode) node;
            JsonNode v = json.isArray() ? json.get(index) : null;
            return v == null || v.isNull() ? MISSING : v;
        }
        if (node instanceof List) {
            List<?> list = (List<?>) node;
            Object v = index < list.size() ? list.get(index) : null;
            return v == null ? MISSING : v;
        }
        return MISSING;
    }

    /**
     * Whether records of {@code schema} can have a value at this path (used to check a mapping against the
     * writer schemas listed in the config, at start). Null when they can, else what is wrong.
     */
    public String problemIn(Schema schema) {
        Schema current = schema;
        StringBuilder at = new StringBuilder();
        for (Object step : steps) {
            current = nonNull(current);
            if (step instanceof String) {
                String name = (String) step;
                if (current.getType() == Schema.Type.RECORD) {
                    Schema.Field field = current.getField(name);
                    if (field == null) {
                        return "schema " + current.getFullName() + " has no field '" + name + "'"
                                + (at.length() == 0 ? "" : " (at '" + at + "')");
                    }
                    current = field.schema();
                } else if (current.getType() == Schema.Type.MAP) {
                    current = current.getValueType();
                } else {
                    return "'" + at + "' is " + current.getType().getName() + " in the schema, not a record or map";
                }
                at.append(at.length() == 0 ? "" : ".").append(name);
            } else {
                if (current.getType() != Schema.Type.ARRAY) {
                    return "'" + at + "' is " + current.getType().getName() + " in the schema, not an array";
                }
                current = current.getElementType();
                at.append('[').append(step).append(']');
            }
        }
        return null;
    }

    private static Schema nonNull(Schema s) {
        if (s.getType() != Schema.Type.UNION) {
            return s;
        }
        Schema only = null;
        for (Schema branch : s.getTypes()) {
            if (branch.getType() != Schema.Type.NULL) {
                if (only != null) {
                    return s; // a union of several types: cannot say more without the data
                }
                only = branch;
            }
        }
        return only == null ? s : only;
    }

    @Override
    public String toString() {
        return text;
    }
}
