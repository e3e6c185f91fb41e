package io.shadowml.jobs.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A view of one mapping of the YAML config that knows its path, so every error names the file and the
 * field. Each read marks the key as used; {@link #rejectUnknownKeys()} then catches typos.
 */
final class ConfigNode {
    private final String file;
    private final String path;
    private final JsonNode node;
    private final Set<String> used = new java.util.HashSet<>();

    ConfigNode(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    String field(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    ConfigException error(String key, String problem) {
        return new ConfigException(file, field(key), problem);
    }

    private JsonNode get(String key) {
        used.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    String string(String key) {
        JsonNode v = get(key);
        if (v == null) {
            throw error(key, "is required");
        }
        if (!v.isValueNode() || v.asText().isBlank()) {
            throw error(key, "must be a non-empty string");
        }
        return v.asText().trim();
    }

    String string(String key, String fallback) {
        return has(key) ? string(key) : markUsed(key, fallback);
    }

    private <T> T markUsed(String key, T fallback) {
        used.add(key);
        return fallback;
    }

    Duration duration(String key, Duration fallback) {
        if (!has(key)) {
            return markUsed(key, fallback);
        }
        Duration d;
        try {
            d = DurationParser.parse(string(key));
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
        if (d.isNegative() || d.isZero()) {
            throw error(key, "must be positive, was " + d);
        }
        return d;
    }

    Duration duration(String key) {
        if (!has(key)) {
            throw error(key, "is required");
        }
        return duration(key, null);
    }

    int positiveInt(String key, int fallback) {
        if (!has(key)) {
            return markUsed(key, fallback);
        }
        JsonNode v = get(key);
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
            throw error(key, "must be a positive integer, was '" + v.asText() + "'");
        }
        return v.asInt();
    }

    boolean bool(String key, boolean fallback) {
        if (!has(key)) {
            return markUsed(key, fallback);
        }
        JsonNode v = get(key);
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, was '" + v.asText() + "'");
        }
        return v.booleanValue();
    }

    long longValue(String key, long fallback) {
        if (!has(key)) {
            return markUsed(key, fallback);
        }
        JsonNode v = get(key);
        if (!v.isIntegralNumber()) {
            throw error(key, "must be an integer, was '" + v.asText() + "'");
        }
        return v.asLong();
    }

    double doubleIn(String key, double fallback, double min, double max) {
        if (!has(key)) {
            return markUsed(key, fallback);
        }
        JsonNode v = get(key);
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw error(key, "must be a number in [" + min + ", " + max + "], was '" + v.asText() + "'");
        }
        return v.asDouble();
    }

    ConfigNode child(String key) {
        JsonNode v = get(key);
        if (v == null) {
            throw error(key, "is required");
        }
        if (!v.isObject()) {
            throw error(key, "must be a mapping");
        }
        return new ConfigNode(file, field(key), v);
    }

    ConfigNode optionalChild(String key) {
        if (!has(key)) {
            used.add(key);
            return new ConfigNode(
                    file, field(key), com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        }
        return child(key);
    }

    List<String> stringList(String key, boolean required) {
        JsonNode v = get(key);
        if (v == null) {
            if (required) {
                throw error(key, "is required");
            }
            return List.of();
        }
        if (!v.isArray()) {
            throw error(key, "must be a list");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isValueNode() || e.asText().isBlank()) {
                throw error(key + "[" + i + "]", "must be a non-empty string");
            }
            out.add(e.asText().trim());
        }
        if (required && out.isEmpty()) {
            throw error(key, "must list at least one entry");
        }
        return out;
    }

    /** A mapping of scalar values passed through as strings (client properties). */
    Map<String, String> stringMap(String key) {
        return map(key, (field, v) -> {
            if (!v.isValueNode()) {
                throw error(field, "must be a scalar");
            }
            return v.asText();
        });
    }

    /** A mapping of names to finite numbers (defaults of features). */
    Map<String, Double> numberMap(String key) {
        return map(key, (field, v) -> {
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
                throw error(field, "must be a finite number, was '" + v.asText() + "'");
            }
            return v.asDouble();
        });
    }

    /** Whether the key holds a mapping (rather than a scalar or list). */
    boolean isMapping(String key) {
        return has(key) && node.get(key).isObject();
    }

    /** A mapping whose values {@code convert} checks and reads (given the value's dotted key). */
    private <T> Map<String, T> map(String key, java.util.function.BiFunction<String, JsonNode, T> convert) {
        JsonNode v = get(key);
        Map<String, T> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            throw error(key, "must be a mapping");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), convert.apply(key + "." + e.getKey(), e.getValue()));
        }
        return out;
    }

    /** The keys of this mapping, in file order (for mappings whose keys are data, such as guardrails). */
    List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    void rejectUnknownKeys() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!used.contains(k)) {
                throw error(k, "is not a known setting (check the spelling; see jobs/README.md)");
            }
        }
    }
}
