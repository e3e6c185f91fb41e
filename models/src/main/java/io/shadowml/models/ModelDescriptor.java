package io.shadowml.models;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The validated content of a model descriptor ({@code model.json}, next to its {@code model.onnx}).
 *
 * <pre>{@code
 * {
 *   "name": "fraud-logreg", "version": "1.0.0", "path": "model.onnx", "sha256": "<lowercase hex>",
 *   "task": "binary",                                   // binary | multiclass | regression
 *   "input": { "tensor": "features", "features": ["amount", "hour"] },          // named features
 *   //  or   { "tensor": "pixels", "vector_field": "vector", "vector_length": 784 }  // dense vector
 *   "output": { "tensor": "probabilities", "positive_class": 1 },  // multiclass: "num_classes": 10
 *   "threshold": 0.5                                    // binary only, default 0.5
 * }
 * }</pre>
 *
 * <p>{@link #load(Path)} checks the descriptor on its own (types, required fields, ranges, a model
 * path that stays inside the descriptor's folder); every problem is a {@link ModelConfigException}
 * naming the descriptor file and the field. Whether the descriptor matches the ONNX graph is checked
 * by {@link OnnxModel#load(ModelDescriptor)}.
 *
 * <p>Immutable and {@link Serializable} (Flink ships it to the tasks); paths are kept as strings.
 */
public final class ModelDescriptor implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What the model predicts, which fixes how its output tensor is read. */
    public enum Task {
        /** Two classes; output [N,2] class probabilities, or [N,1] = P(positive). */
        BINARY,
        /** K classes; output [N,K] class probabilities. */
        MULTICLASS,
        /** One real value; output [N,1] or [N]. */
        REGRESSION
    }

    /** Default decision threshold on P(positive) for binary models. */
    public static final double DEFAULT_THRESHOLD = 0.5;

    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Set<String> TOP_FIELDS = Set.of(
            "name",
            "version",
            "path",
            "sha256",
            "external_data",
            "task",
            "input",
            "output",
            "threshold",
            "description",
            "metadata");
    private static final Set<String> INPUT_FIELDS = Set.of("tensor", "features", "vector_field", "vector_length");
    private static final Set<String> OUTPUT_FIELDS = Set.of("tensor", "positive_class", "num_classes");

    private final String descriptorFile;
    private final String name;
    private final String version;
    private final String modelFolder;
    private final String modelPath;
    private final String sha256;
    private final Task task;
    private final String inputTensor;
    private final List<String> featureNames;
    private final String vectorField;
    private final int featureCount;
    private final String outputTensor;
    private final int positiveClass;
    private final boolean positiveClassDeclared;
    private final int numClasses;
    private final double threshold;
    /** External-data file location (as the model references it) -> its sha256; empty for most models. */
    private final Map<String, String> externalDataSha256;
    /** The serving system logs this model's outputs; there is no ONNX file to open ({@link #loggedAs}). */
    private final boolean logged;

    private ModelDescriptor(
            String descriptorFile,
            String name,
            String version,
            String modelFolder,
            String modelPath,
            String sha256,
            Task task,
            String inputTensor,
            List<String> featureNames,
            String vectorField,
            int featureCount,
            String outputTensor,
            int positiveClass,
            boolean positiveClassDeclared,
            int numClasses,
            double threshold,
            Map<String, String> externalDataSha256,
            boolean logged) {
        this.descriptorFile = descriptorFile;
        this.name = name;
        this.version = version;
        this.modelFolder = modelFolder;
        this.modelPath = modelPath;
        this.sha256 = sha256;
        this.task = task;
        this.inputTensor = inputTensor;
        this.featureNames = featureNames;
        this.vectorField = vectorField;
        this.featureCount = featureCount;
        this.outputTensor = outputTensor;
        this.positiveClass = positiveClass;
        this.positiveClassDeclared = positiveClassDeclared;
        this.numClasses = numClasses;
        this.threshold = threshold;
        this.externalDataSha256 = externalDataSha256;
        this.logged = logged;
    }

    /**
     * A model whose outputs the serving system logs with each request instead of being computed here (a
     * live model that is not ONNX): this descriptor's question — task, classes, positive class, inputs —
     * under another name, version and threshold. Its model file is never opened.
     *
     * @throws IllegalArgumentException for a name or version a descriptor could not have, or a threshold
     *     outside [0, 1]
     */
    public ModelDescriptor loggedAs(String name, String version, double threshold) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name '" + name + "' must match " + NAME.pattern());
        }
        if (!VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("version '" + version + "' must match " + VERSION.pattern());
        }
        if (!(threshold >= 0.0 && threshold <= 1.0)) {
            throw new IllegalArgumentException("threshold must be in [0, 1], was " + threshold);
        }
        return new ModelDescriptor(
                descriptorFile,
                name,
                version,
                modelFolder,
                modelPath,
                sha256,
                task,
                inputTensor,
                featureNames,
                vectorField,
                featureCount,
                outputTensor,
                positiveClass,
                positiveClassDeclared,
                numClasses,
                threshold,
                externalDataSha256,
                true);
    }

    /** Whether the outputs are logged by the serving system rather than computed from a model file. */
    public boolean isLogged() {
        return logged;
    }

    /**
     * Reads and validates a descriptor file.
     *
     * @throws ModelConfigException if the file cannot be read, is not JSON, or any field is
     *     missing, of the wrong type, or out of range
     */
    public static ModelDescriptor load(Path descriptorJson) {
        String file = descriptorJson.toString();
        String json;
        try {
            json = Files.readString(descriptorJson);
        } catch (IOException e) {
            throw new ModelConfigException(file, null, "cannot read the descriptor: " + e, e);
        }
        return fromJson(json, descriptorJson);
    }

    /**
     * Validates descriptor JSON as if it had been read from {@code descriptorFile} (which fixes the
     * folder the model path is resolved against and the file named in error messages).
     */
    public static ModelDescriptor fromJson(String json, Path descriptorFile) {
        String file = descriptorFile.toString();
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ModelConfigException(file, null, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelConfigException(file, null, "the descriptor must be a JSON object");
        }
        Reader r = new Reader(file);
        ObjectNode top = (ObjectNode) root;
        r.noUnknownFields(top, "", TOP_FIELDS);

        String name = r.string(top, "name", true);
        if (!NAME.matcher(name).matches()) {
            throw r.error("name", "'" + name + "' must match " + NAME.pattern());
        }
        String version = r.string(top, "version", true);
        if (!VERSION.matcher(version).matches()) {
            throw r.error("version", "'" + version + "' must match " + VERSION.pattern());
        }
        String modelPath = resolveModelPath(r, descriptorFile, r.string(top, "path", true));
        String sha256 = r.string(top, "sha256", true);
        if (!SHA256.matcher(sha256).matches()) {
            throw r.error("sha256", "must be 64 lowercase hex digits, got '" + sha256 + "'");
        }
        String taskText = r.string(top, "task", true);
        Task task;
        switch (taskText) {
            case "binary":
                task = Task.BINARY;
                break;
            case "multiclass":
                task = Task.MULTICLASS;
                break;
            case "regression":
                task = Task.REGRESSION;
                break;
            default:
                throw r.error(
                        "task", "unknown task '" + taskText + "' (expected one of: binary, multiclass, regression)");
        }

        // input
        ObjectNode input = r.object(top, "input");
        r.noUnknownFields(input, "input.", INPUT_FIELDS);
        String inputTensor = r.string(input, "input.tensor", "tensor", true);
        boolean named = input.has("features");
        boolean vector = input.has("vector_field") || input.has("vector_length");
        List<String> features;
        String vectorField;
        int featureCount;
        if (named && vector) {
            throw r.error("input.features", "give either 'features' or 'vector_field'/'vector_length', not both");
        } else if (named) {
            JsonNode f = input.get("features");
            if (!f.isArray()) {
                throw r.error("input.features", "must be an array of feature names");
            }
            if (f.isEmpty()) {
                throw r.error("input.features", "must name at least one feature");
            }
            List<String> list = new ArrayList<>(f.size());
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < f.size(); i++) {
                JsonNode e = f.get(i);
                String field = "input.features[" + i + "]";
                if (!e.isTextual() || e.asText().isBlank()) {
                    throw r.error(field, "must be a non-empty string, got " + e);
                }
                if (!seen.add(e.asText())) {
                    throw r.error(field, "duplicate feature name '" + e.asText() + "'");
                }
                list.add(e.asText());
            }
            features = Collections.unmodifiableList(list);
            vectorField = null;
            featureCount = list.size();
        } else if (vector) {
            vectorField = r.string(input, "input.vector_field", "vector_field", true);
            featureCount = r.integer(input, "input.vector_length", "vector_length", true, 0);
            if (featureCount <= 0) {
                throw r.error("input.vector_length", "must be > 0, got " + featureCount);
            }
            features = List.of();
        } else {
            throw r.error(
                    "input.features",
                    "missing: give 'features' (named features) or 'vector_field' and 'vector_length'");
        }

        // output
        ObjectNode output = r.object(top, "output");
        r.noUnknownFields(output, "output.", OUTPUT_FIELDS);
        String outputTensor = r.string(output, "output.tensor", "tensor", true);
        boolean positiveDeclared = output.has("positive_class");
        int positiveClass = 1;
        int numClasses;
        switch (task) {
            case BINARY:
                positiveClass = r.integer(output, "output.positive_class", "positive_class", false, 1);
                if (positiveClass != 0 && positiveClass != 1) {
                    throw r.error("output.positive_class", "must be 0 or 1, got " + positiveClass);
                }
                numClasses = r.integer(output, "output.num_classes", "num_classes", false, 2);
                if (numClasses != 2) {
                    throw r.error("output.num_classes", "a binary model has 2 classes, got " + numClasses);
                }
                break;
            case MULTICLASS:
                if (positiveDeclared) {
                    throw r.error("output.positive_class", "only binary models have a positive class");
                }
                numClasses = r.integer(output, "output.num_classes", "num_classes", true, 0);
                if (numClasses < 2) {
                    throw r.error("output.num_classes", "must be >= 2, got " + numClasses);
                }
                break;
            default:
                if (positiveDeclared) {
                    throw r.error("output.positive_class", "only binary models have a positive class");
                }
                numClasses = r.integer(output, "output.num_classes", "num_classes", false, 1);
                if (numClasses != 1) {
                    throw r.error("output.num_classes", "a regression model has 1 output, got " + numClasses);
                }
                break;
        }

        double threshold = DEFAULT_THRESHOLD;
        if (top.has("threshold")) {
            if (task != Task.BINARY) {
                throw r.error("threshold", "only binary models have a threshold");
            }
            JsonNode t = top.get("threshold");
            if (!t.isNumber()) {
                throw r.error("threshold", "must be a number, got " + t);
            }
            threshold = t.asDouble();
            if (!(threshold > 0.0 && threshold < 1.0)) {
                throw r.error("threshold", "must be inside (0, 1), got " + t);
            }
        }

        Map<String, String> externalData = new TreeMap<>();
        if (top.has("external_data")) {
            JsonNode e = top.get("external_data");
            if (!e.isObject()) {
                throw r.error("external_data", "must map each external-data file location to its sha256, got " + e);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String hash = f.getValue().isTextual() ? f.getValue().asText() : "";
                if (!SHA256.matcher(hash).matches()) {
                    throw r.error(
                            "external_data." + f.getKey(), "must be 64 lowercase hex digits, got " + f.getValue());
                }
                externalData.put(f.getKey(), hash);
            }
        }

        String folder = descriptorFile.toAbsolutePath().normalize().getParent().toString();
        return new ModelDescriptor(
                file,
                name,
                version,
                folder,
                modelPath,
                sha256,
                task,
                inputTensor,
                features,
                vectorField,
                featureCount,
                outputTensor,
                positiveClass,
                positiveDeclared,
                numClasses,
                threshold,
                Collections.unmodifiableMap(externalData),
                false);
    }

    private static String resolveModelPath(Reader r, Path descriptorFile, String path) {
        Path rel;
        try {
            rel = Path.of(path);
        } catch (RuntimeException e) {
            throw r.error("path", "not a valid path: '" + path + "'");
        }
        if (rel.isAbsolute() || path.startsWith("/") || path.startsWith("\\")) {
            throw r.error("path", "must be relative to the descriptor's folder, got '" + path + "'");
        }
        Path folder = descriptorFile.toAbsolutePath().normalize().getParent();
        Path resolved = folder.resolve(rel).normalize();
        if (!resolved.startsWith(folder) || resolved.equals(folder)) {
            throw r.error(
                    "path", "'" + path + "' resolves to " + resolved + ", outside the descriptor's folder " + folder);
        }
        return resolved.toString();
    }

    /** Field-level readers that turn every problem into a ModelConfigException. */
    private static final class Reader {
        private final String file;

        Reader(String file) {
            this.file = file;
        }

        ModelConfigException error(String field, String detail) {
            return new ModelConfigException(file, field, detail);
        }

        void noUnknownFields(ObjectNode node, String prefix, Set<String> known) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!known.contains(f)) {
                    throw error(prefix + f, "unknown field (known: " + new java.util.TreeSet<>(known) + ")");
                }
            }
        }

        String string(ObjectNode node, String field, boolean required) {
            return string(node, field, field, required);
        }

        String string(ObjectNode node, String field, String key, boolean required) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                if (required) {
                    throw error(field, "missing");
                }
                return null;
            }
            if (!v.isTextual()) {
                throw error(field, "must be a string, got " + v);
            }
            if (v.asText().isBlank()) {
                throw error(field, "must not be empty");
            }
            return v.asText();
        }

        int integer(ObjectNode node, String field, String key, boolean required, int dflt) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                if (required) {
                    throw error(field, "missing");
                }
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw error(field, "must be an integer, got " + v);
            }
            return v.intValue();
        }

        ObjectNode object(ObjectNode node, String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                throw error(field, "missing");
            }
            if (!v.isObject()) {
                throw error(field, "must be an object, got " + v);
            }
            return (ObjectNode) v;
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The descriptor file as given to {@link #load(Path)}; named in every error message. */
    public String descriptorFile() {
        return descriptorFile;
    }

    public String name() {
        return name;
    }

    public String version() {
        return version;
    }

    /** {@code name + ":" + version}. */
    public String id() {
        return name + ":" + version;
    }

    /**
     * The ONNX file, resolved against the descriptor's folder (absolute, normalised when the
     * descriptor was loaded, so it does not depend on the working directory of a Flink task).
     */
    public Path modelPath() {
        return Path.of(modelPath);
    }

    /** The folder holding the descriptor; the model and any external data must stay inside it. */
    public Path modelFolder() {
        return Path.of(modelFolder);
    }

    /** Expected SHA-256 of the model file, lowercase hex. */
    /**
     * The sha256 of each external-data file the model references, by its location as written in the model
     * ({@code external_data}); a model with external data loads only if every file is listed and matches.
     */
    public Map<String, String> externalDataSha256() {
        return externalDataSha256;
    }

    public String sha256() {
        return sha256;
    }

    public Task task() {
        return task;
    }

    /** Name of the float32 [N, F] input tensor. */
    public String inputTensor() {
        return inputTensor;
    }

    /** Named features in input-column order; empty for a dense-vector input. */
    public List<String> featureNames() {
        return featureNames;
    }

    /** The record field that carries the dense vector, or {@code null} for named features. */
    public String vectorField() {
        return vectorField;
    }

    /** {@code true} when the input is one dense vector rather than named features. */
    public boolean isVectorInput() {
        return vectorField != null;
    }

    /** F, the number of input columns. */
    public int featureCount() {
        return featureCount;
    }

    /** Column of a named feature, or -1 if the descriptor has no such feature (setup-time use). */
    public int featureIndex(String feature) {
        return featureNames.indexOf(feature);
    }

    public String outputTensor() {
        return outputTensor;
    }

    /**
     * Binary only: the output column holding P(positive) in a two-column output (default 1). A
     * one-column output is P(positive) itself and needs no positive_class (or 0).
     */
    public int positiveClass() {
        return positiveClass;
    }

    /** Whether {@code output.positive_class} was given explicitly. */
    public boolean positiveClassDeclared() {
        return positiveClassDeclared;
    }

    /** Number of classes: 2 for binary, K for multiclass, 1 for regression. */
    public int numClasses() {
        return numClasses;
    }

    /** Binary decision threshold on P(positive), inside (0, 1); 0.5 for other tasks. */
    public double threshold() {
        return threshold;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ModelDescriptor)) {
            return false;
        }
        ModelDescriptor d = (ModelDescriptor) o;
        return featureCount == d.featureCount
                && positiveClass == d.positiveClass
                && positiveClassDeclared == d.positiveClassDeclared
                && numClasses == d.numClasses
                && Double.compare(threshold, d.threshold) == 0
                && descriptorFile.equals(d.descriptorFile)
                && name.equals(d.name)
                && version.equals(d.version)
                && modelPath.equals(d.modelPath)
                && modelFolder.equals(d.modelFolder)
                && sha256.equals(d.sha256)
                && task == d.task
                && inputTensor.equals(d.inputTensor)
                && featureNames.equals(d.featureNames)
                && Objects.equals(vectorField, d.vectorField)
                && outputTensor.equals(d.outputTensor)
                && externalDataSha256.equals(d.externalDataSha256)
                && logged == d.logged;
    }

    @Override
    public int hashCode() {
        return Objects.hash(descriptorFile, name, version, sha256, task);
    }

    @Override
    public String toString() {
        return "ModelDescriptor{" + id() + ", task=" + task.name().toLowerCase(Locale.ROOT)
                + ", input=" + inputTensor + "[" + featureCount + "]"
                + (vectorField != null ? " from '" + vectorField + "'" : " " + featureNames)
                + ", output=" + outputTensor + ", classes=" + numClasses
                + (task == Task.BINARY ? ", threshold=" + threshold : "")
                + ", file=" + descriptorFile + "}";
    }
}
