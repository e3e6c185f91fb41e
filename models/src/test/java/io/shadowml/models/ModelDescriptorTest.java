package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.shadowml.models.ModelDescriptor.Task;

/** The descriptor's own validation, before any model is opened. */
class ModelDescriptorTest {
    @TempDir
    Path tmp;

    private static final String SHA = "ab".repeat(32);

    private static String binary(String extra) {
        return "{\"name\": \"fraud-logreg\", \"version\": \"1.0.0\", \"path\": \"model.onnx\","
                + " \"sha256\": \"" + SHA + "\", \"task\": \"binary\","
                + " \"input\": {\"tensor\": \"features\", \"features\": [\"amount\", \"hour\"]},"
                + " \"output\": {\"tensor\": \"probabilities\", \"positive_class\": 1}" + extra + "}";
    }

    private Path file() {
        return tmp.resolve("fraud/live/model.json");
    }

    private ModelDescriptor parse(String json) {
        return ModelDescriptor.fromJson(json, file());
    }

    private ModelConfigException fails(String json, String field) {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> parse(json));
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file() + ": field '" + field + "': "), e.getMessage());
        return e;
    }

    @Test
    void namedFeaturesBinary() {
        ModelDescriptor d = parse(binary(", \"threshold\": 0.3"));
        assertEquals("fraud-logreg", d.name());
        assertEquals("1.0.0", d.version());
        assertEquals("fraud-logreg:1.0.0", d.id());
        assertEquals(tmp.resolve("fraud/live/model.onnx").toAbsolutePath().normalize(), d.modelPath());
        assertEquals(SHA, d.sha256());
        assertEquals(Task.BINARY, d.task());
        assertEquals("features", d.inputTensor());
        assertEquals(List.of("amount", "hour"), d.featureNames());
        assertNull(d.vectorField());
        assertFalse(d.isVectorInput());
        assertEquals(2, d.featureCount());
        assertEquals(1, d.featureIndex("hour"));
        assertEquals(-1, d.featureIndex("nope"));
        assertEquals("probabilities", d.outputTensor());
        assertEquals(1, d.positiveClass());
        assertEquals(2, d.numClasses());
        assertEquals(0.3, d.threshold());
        assertEquals(file().toString(), d.descriptorFile());
    }

    @Test
    void defaults() {
        ModelDescriptor d = parse(binary("").replace(", \"positive_class\": 1", ""));
        assertEquals(0.5, d.threshold());
        assertEquals(1, d.positiveClass());
        assertFalse(d.positiveClassDeclared());
    }

    @Test
    void vectorMulticlassAndRegression() {
        ModelDescriptor m = parse("{\"name\": \"fashion-mlp\", \"version\": \"2.0.0\", \"path\":"
                + " \"sub/model.onnx\", \"sha256\": \"" + SHA + "\", \"task\": \"multiclass\", \"input\":"
                + " {\"tensor\": \"pixels\", \"vector_field\": \"vector\", \"vector_length\": 784},"
                + " \"output\": {\"tensor\": \"probabilities\", \"num_classes\": 10}}");
        assertEquals(Task.MULTICLASS, m.task());
        assertEquals("vector", m.vectorField());
        assertTrue(m.isVectorInput());
        assertEquals(List.of(), m.featureNames());
        assertEquals(784, m.featureCount());
        assertEquals(10, m.numClasses());
        assertEquals(tmp.resolve("fraud/live/sub/model.onnx").toAbsolutePath(), m.modelPath());

        ModelDescriptor r = parse("{\"name\": \"r\", \"version\": \"1\", \"path\": \"m.onnx\","
                + " \"sha256\": \"" + SHA + "\", \"task\": \"regression\", \"input\": {\"tensor\": \"x\","
                + " \"features\": [\"a\"]}, \"output\": {\"tensor\": \"y\"}}");
        assertEquals(Task.REGRESSION, r.task());
        assertEquals(1, r.numClasses());
    }

    @Test
    void loadNamesTheFileWhenUnreadableOrNotJson() throws Exception {
        Path missing = tmp.resolve("nope/model.json");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> ModelDescriptor.load(missing));
        assertTrue(e.getMessage().startsWith(missing + ": cannot read"), e.getMessage());
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{ not json");
        e = assertThrows(ModelConfigException.class, () -> ModelDescriptor.load(file()));
        assertTrue(e.getMessage().startsWith(file() + ": not valid JSON"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                // replace this                                 | with this                                 | field
                "\"task\": \"binary\",                          |                                           | task",
                "\"task\": \"binary\"                           | \"task\": \"Binary\"                      | task",
                "\"task\": \"binary\"                           | \"task\": 1                               | task",
                "\"features\": [\"amount\", \"hour\"]           | \"features\": []                          | input.features",
                "\"features\": [\"amount\", \"hour\"]           | \"features\": [\"amount\", \"amount\"]    | input.features[1]",
                "\"features\": [\"amount\", \"hour\"]           | \"features\": [\"amount\", \"\"]          | input.features[1]",
                "\"features\": [\"amount\", \"hour\"]           | \"features\": \"amount\"                  | input.features",
                "\"features\": [\"amount\", \"hour\"]           | \"vector_field\": \"v\", \"vector_length\": 0 | input.vector_length",
                "\"features\": [\"amount\", \"hour\"]           | \"vector_field\": \"v\", \"vector_length\": -3 | input.vector_length",
                "\"features\": [\"amount\", \"hour\"]           | \"vector_field\": \"v\", \"vector_length\": 7.5 | input.vector_length",
                "\"features\": [\"amount\", \"hour\"]           | \"vector_field\": \"v\"                   | input.vector_length",
                "\"features\": [\"amount\", \"hour\"]           | \"vector_length\": 5                      | input.vector_field",
                "\"features\": [\"amount\", \"hour\"]           | \"features\": [\"a\"], \"vector_field\": \"v\" | input.features",
                "\"features\": [\"amount\", \"hour\"]           | \"featurs\": [\"a\"]                      | input.featurs",
                "\"tensor\": \"features\",                      |                                           | input.tensor",
                "\"tensor\": \"probabilities\",                 |                                           | output.tensor",
                "\"positive_class\": 1                          | \"positive_class\": 2                     | output.positive_class",
                "\"positive_class\": 1                          | \"positive_class\": 1, \"num_classes\": 3 | output.num_classes",
                "\"path\": \"model.onnx\"                       | \"path\": \"../candidate/model.onnx\"     | path",
                "\"path\": \"model.onnx\"                       | \"path\": \"a/../../model.onnx\"          | path",
                "\"path\": \"model.onnx\"                       | \"path\": \"/etc/model.onnx\"             | path",
                "\"path\": \"model.onnx\"                       | \"path\": \".\"                           | path",
                "\"path\": \"model.onnx\",                      |                                           | path",
                "\"sha256\": \"abab                          | \"sha256\": \"ABAB                        | sha256",
                "\"sha256\": \"abab                          | \"sha256\": \"abab0                       | sha256",
                "\"name\": \"fraud-logreg\"                     | \"name\": \"fraud logreg\"                | name",
                "\"version\": \"1.0.0\",                        |                                           | version",
            })
    void invalidFieldsAreNamed(String from, String to, String field) {
        String json = binary("");
        assertTrue(json.contains(from), "test setup: " + from);
        fails(json.replace(from, to == null ? "" : to), field);
    }

    @ParameterizedTest
    @CsvSource({"0", "1", "1.5", "-0.1", "\"0.5\""})
    void thresholdOutsideOpenUnitInterval(String t) {
        fails(binary(", \"threshold\": " + t), "threshold");
    }

    @Test
    void unknownTopLevelField() {
        fails(binary(", \"treshold\": 0.4"), "treshold");
    }

    @Test
    void thresholdOrPositiveClassOnANonBinaryModel() {
        String multi = binary("")
                .replace("\"task\": \"binary\"", "\"task\": \"multiclass\"")
                .replace("\"positive_class\": 1", "\"num_classes\": 3");
        parse(multi);
        fails(multi.replace("}}", "}, \"threshold\": 0.5}"), "threshold");
        fails(
                multi.replace("\"num_classes\": 3", "\"num_classes\": 3, \"positive_class\": 1"),
                "output.positive_class");
        fails(multi.replace("\"num_classes\": 3", "\"num_classes\": 1"), "output.num_classes");
        fails(multi.replace(", \"num_classes\": 3", ""), "output.num_classes");
    }

    @Test
    void javaSerializableForFlink() throws Exception {
        ModelDescriptor d = parse(binary(", \"threshold\": 0.25"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(d);
            out.writeObject(ModelOptions.defaults().withMaxBatchSize(64));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            ModelDescriptor back = (ModelDescriptor) in.readObject();
            assertEquals(d, back);
            assertEquals(d.modelPath(), back.modelPath());
            assertEquals(d.featureNames(), back.featureNames());
            assertEquals(0.25, back.threshold());
            assertEquals(64, ((ModelOptions) in.readObject()).maxBatchSize());
        }
    }
}
