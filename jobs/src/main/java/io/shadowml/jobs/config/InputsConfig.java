package io.shadowml.jobs.config;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

import io.shadowml.jobs.io.format.FieldPath;
import io.shadowml.jobs.io.format.JsonPayload;
import io.shadowml.jobs.io.format.LabelMapping;
import io.shadowml.jobs.io.format.PayloadFormat;
import io.shadowml.jobs.io.format.RecordMapping;
import io.shadowml.jobs.io.format.RegistryAvroPayload;
import io.shadowml.jobs.io.format.RequestMapping;
import io.shadowml.jobs.io.format.SchemaRegistryClient;
import io.shadowml.jobs.io.format.TimeFormat;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * The {@code inputs} section: how each input topic is written. {@code format: shadowml-avro} (the
 * default) is the job's own contract; {@code json} and {@code registry-avro} are read as the producers
 * write them, through a field mapping ({@code fields}). Everything is checked here, at start: formats,
 * paths, features no model reads, schema files (and every mapped path against each of them).
 */
public final class InputsConfig {
    private InputsConfig() {}

    public enum Format {
        SHADOWML_AVRO("shadowml-avro"),
        JSON("json"),
        REGISTRY_AVRO("registry-avro");

        final String spelling;

        Format(String spelling) {
            this.spelling = spelling;
        }

        @Override
        public String toString() {
            return spelling;
        }
    }

    /** How one topic is read: its format and, unless it is shadowml-avro, the payload reader and mapping. */
    public static final class TopicInput implements Serializable {
        private static final long serialVersionUID = 1L;

        public final Format format;
        /** Null for shadowml-avro. */
        public final PayloadFormat payload;
        /** Null for shadowml-avro. */
        public final RecordMapping mapping;
        /**
         * Labels only: every label event is the positive class and a request without one by the horizon is
         * the negative class (chargebacks, clicks: only one class is ever sent).
         */
        public final boolean implicit;

        TopicInput(Format format, PayloadFormat payload, RecordMapping mapping, boolean implicit) {
            this.format = format;
            this.payload = payload;
            this.mapping = mapping;
            this.implicit = implicit;
        }

        static TopicInput shadowmlAvro() {
            return new TopicInput(Format.SHADOWML_AVRO, null, null, false);
        }
    }

    static TopicInput requests(ConfigNode inputs, Path base, List<ModelDescriptor> models) {
        if (!inputs.has("requests")) {
            inputs.optionalChild("requests");
            return TopicInput.shadowmlAvro();
        }
        ConfigNode topic = inputs.child("requests");
        Format format = format(topic);
        if (format == Format.SHADOWML_AVRO) {
            rejectMappingKeys(topic);
            return TopicInput.shadowmlAvro();
        }
        ConfigNode fields = topic.optionalChild("fields");
        RequestMapping mapping = requestMapping(fields, models);
        fields.rejectUnknownKeys();
        PayloadFormat payload = payload(topic, format, base, mapping.paths(), fields);
        topic.rejectUnknownKeys();
        return new TopicInput(format, payload, mapping, false);
    }

    static TopicInput labels(ConfigNode inputs, Path base, ModelDescriptor live) {
        if (!inputs.has("labels")) {
            inputs.optionalChild("labels");
            return TopicInput.shadowmlAvro();
        }
        ConfigNode topic = inputs.child("labels");
        Format format = format(topic);
        if (format == Format.SHADOWML_AVRO) {
            rejectMappingKeys(topic);
            return TopicInput.shadowmlAvro();
        }
        boolean implicit = topic.bool("implicit", false);
        if (implicit && live.task() != Task.BINARY) {
            throw topic.error(
                    "implicit",
                    "implicit labels (an event = the positive class, none by the horizon = the negative class) need"
                            + " binary models; the models are "
                            + live.task().toString().toLowerCase());
        }
        ConfigNode fields = topic.optionalChild("fields");
        FieldPath requestId = path(fields, "request_id", "request_id", false);
        FieldPath labelTime = path(fields, "label_time", "label_time", true);
        TimeFormat timeFormat = timeFormat(fields, "label_time_format");
        if (implicit && fields.has("value")) {
            throw fields.error("value", "is not read with implicit labels (every label event is the positive class)");
        }
        FieldPath value = implicit ? null : path(fields, "value", "value", false);
        if (value != null && value.isKafkaKey()) {
            throw fields.error("value", "the label value cannot be the Kafka key");
        }
        if (implicit && fields.has("class_names")) {
            throw fields.error("class_names", "is not read with implicit labels");
        }
        List<String> classNames = fields.stringList("class_names", false);
        if (!classNames.isEmpty()) {
            if (live.task() == Task.REGRESSION) {
                throw fields.error("class_names", "a regression label is a number; class names apply to classifiers");
            }
            if (classNames.size() != live.numClasses()) {
                throw fields.error(
                        "class_names",
                        "lists " + classNames.size() + " names, the models have " + live.numClasses() + " classes");
            }
            if (new LinkedHashSet<>(classNames).size() != classNames.size()) {
                throw fields.error("class_names", "lists a name twice: " + classNames);
            }
        }
        fields.rejectUnknownKeys();
        LabelMapping mapping = new LabelMapping(requestId, labelTime, timeFormat, value, classNames);
        PayloadFormat payload = payload(topic, format, base, mapping.paths(), fields);
        topic.rejectUnknownKeys();
        return new TopicInput(format, payload, mapping, implicit);
    }

    private static Format format(ConfigNode topic) {
        String text = topic.string("format", Format.SHADOWML_AVRO.spelling);
        for (Format f : Format.values()) {
            if (f.spelling.equalsIgnoreCase(text)) {
                return f;
            }
        }
        throw topic.error("format", "must be one of shadowml-avro, json, registry-avro; was '" + text + "'");
    }

    private static void rejectMappingKeys(ConfigNode topic) {
        for (String key : List.of("fields", "registry", "implicit")) {
            if (topic.has(key)) {
                throw topic.error(
                        key,
                        "applies to format json or registry-avro; shadowml-avro records carry the contract's own"
                                + " fields (avro/src/main/avro)"
                                + (key.equals("implicit") ? ", a Label its value" : ""));
            }
        }
        topic.rejectUnknownKeys();
    }

    private static RequestMapping requestMapping(ConfigNode fields, List<ModelDescriptor> models) {
        FieldPath requestId = path(fields, "request_id", "request_id", false);
        FieldPath eventTime = path(fields, "event_time", "event_time", true);
        TimeFormat timeFormat = timeFormat(fields, "event_time_format");
        FieldPath entityId = path(fields, "entity_id", "entity_id", false);
        FieldPath servedBy = path(fields, "served_by", "served_by", false);
        FieldPath productionScore = path(fields, "production_score", "production_score", false);
        FieldPath productionProbabilities = path(fields, "production_probabilities", "production_probabilities", false);
        for (String key : List.of("production_score", "production_probabilities")) {
            FieldPath p = key.equals("production_score") ? productionScore : productionProbabilities;
            if (p.isKafkaKey()) {
                throw fields.error(key, "logged outputs cannot be the Kafka key");
            }
        }
        FieldPath segmentMap = null;
        Map<String, FieldPath> segmentFields = new LinkedHashMap<>();
        if (fields.isMapping("segments")) {
            for (Map.Entry<String, String> e : fields.stringMap("segments").entrySet()) {
                segmentFields.put(e.getKey(), parse(fields, "segments." + e.getKey(), e.getValue(), false));
            }
        } else {
            segmentMap = path(fields, "segments", "segments", false);
        }
        List<String> needed = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        boolean vectorModel = false;
        for (ModelDescriptor m : models) {
            if (m.isVectorInput()) {
                vectorModel = true;
            } else {
                for (String f : m.featureNames()) {
                    if (seen.add(f)) {
                        needed.add(f);
                    }
                }
            }
        }
        Map<String, FieldPath> featurePaths = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : fields.stringMap("features").entrySet()) {
            String key = "features." + e.getKey();
            if (!seen.contains(e.getKey())) {
                throw fields.error(
                        key, "no model reads a feature '" + e.getKey() + "' (the models read " + needed + ")");
            }
            featurePaths.put(e.getKey(), parse(fields, key, e.getValue(), false));
        }
        FieldPath featureMap = path(fields, "feature_map", "features", false);
        Map<String, Double> defaults = fields.numberMap("feature_defaults");
        for (String name : defaults.keySet()) {
            if (!seen.contains(name)) {
                throw fields.error(
                        "feature_defaults." + name,
                        "no model reads a feature '" + name + "' (the models read " + needed + ")");
            }
        }
        FieldPath vector = path(fields, "vector", "vector", false);
        return new RequestMapping(
                requestId,
                eventTime,
                timeFormat,
                entityId,
                servedBy,
                productionScore,
                productionProbabilities,
                segmentMap,
                segmentFields,
                needed,
                featurePaths,
                featureMap,
                defaults,
                vectorModel ? vector : null);
    }

    /** A path setting; {@code $key} is allowed for ids, {@code $timestamp} only for times. */
    private static FieldPath path(ConfigNode fields, String key, String fallback, boolean isTime) {
        return parse(fields, key, fields.string(key, fallback), isTime);
    }

    private static FieldPath parse(ConfigNode fields, String key, String text, boolean isTime) {
        FieldPath path;
        try {
            path = FieldPath.parse(text);
        } catch (IllegalArgumentException e) {
            throw fields.error(key, e.getMessage());
        }
        if (path.isKafkaTimestamp() && !isTime) {
            throw fields.error(key, "$timestamp is a time; it can only be event_time or label_time");
        }
        if (path.isKafkaKey() && isTime) {
            throw fields.error(key, "$key is not a time; use a field path or $timestamp");
        }
        return path;
    }

    private static TimeFormat timeFormat(ConfigNode fields, String key) {
        try {
            return TimeFormat.parse(fields.string(key, "epoch_ms"));
        } catch (IllegalArgumentException e) {
            throw fields.error(key, e.getMessage());
        }
    }

    /** Paths every record must have, so they are checked against writer schemas even at their defaults. */
    private static final Set<String> REQUIRED_PATHS =
            Set.of("request_id", "event_time", "label_time", "value", "feature_map", "vector");

    private static PayloadFormat payload(
            ConfigNode topic, Format format, Path base, Map<String, FieldPath> paths, ConfigNode fields) {
        if (format == Format.JSON) {
            if (topic.has("registry")) {
                throw topic.error("registry", "applies to format registry-avro only");
            }
            return new JsonPayload();
        }
        if (!topic.has("registry")) {
            throw topic.error("registry", "is required for format registry-avro (a url, schema files by id, or both)");
        }
        ConfigNode registry = topic.child("registry");
        Map<Integer, String> schemas = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : registry.stringMap("schemas").entrySet()) {
            String key = "schemas." + e.getKey();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException ex) {
                throw registry.error(key, "the keys of schemas are schema ids (whole numbers)");
            }
            Path file = base.resolve(e.getValue()).normalize();
            Schema schema;
            try {
                schema = new Schema.Parser().parse(Files.readString(file));
            } catch (IOException ex) {
                throw registry.error(key, "cannot read " + file + ": " + ex);
            } catch (SchemaParseException ex) {
                throw registry.error(key, file + " is not an Avro schema: " + ex.getMessage());
            }
            for (Map.Entry<String, FieldPath> p : paths.entrySet()) {
                String setting = p.getKey().contains(".")
                        ? p.getKey().substring(0, p.getKey().indexOf('.'))
                        : p.getKey();
                if (!fields.has(setting) && !REQUIRED_PATHS.contains(setting)) {
                    continue; // an optional field left at its default: records without it are fine
                }
                String problem = p.getValue().problemIn(schema);
                if (problem != null) {
                    throw fields.error(
                            p.getKey(),
                            "path '" + p.getValue() + "' is not in schema id " + id + " (" + file + "): " + problem);
                }
            }
            schemas.put(id, schema.toString());
        }
        String url = registry.string("url", null);
        Map<String, String> headers = registry.stringMap("headers");
        Duration retryFor = registry.duration("retry_for", Duration.ofMinutes(1));
        SchemaRegistryClient client = null;
        if (url != null) {
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw registry.error("url", "is not a URL: " + e.getMessage());
            }
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                throw registry.error("url", "must be an http:// or https:// URL, was '" + url + "'");
            }
            client = new SchemaRegistryClient(url, headers, retryFor);
        } else if (schemas.isEmpty()) {
            throw registry.error("url", "is required unless schemas lists the writer schemas by id");
        }
        registry.rejectUnknownKeys();
        return new RegistryAvroPayload(schemas, client);
    }
}
