package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A shipped model folder copied to a temp dir with one thing broken at a time: loading fails with
 * a {@link ModelConfigException} whose message names the descriptor file and the field.
 */
class DescriptorMismatchTest {
    @TempDir
    Path tmp;

    /** Copies {@code model}, edits its descriptor, and loads descriptor + model. */
    private ModelConfigException breakAndLoad(String model, Consumer<ObjectNode> edit) {
        Path file = TestModels.copyShipped(model, tmp.resolve("m"));
        ObjectNode d = TestModels.readJson(file);
        edit.accept(d);
        TestModels.writeJson(file, d);
        return assertThrows(ModelConfigException.class, () -> {
            try (OnnxModel m = OnnxModel.load(ModelDescriptor.load(file))) {
                m.descriptor();
            }
        });
    }

    private static void assertNames(ModelConfigException e, Path file, String field, String... details) {
        String msg = e.getMessage();
        assertTrue(
                msg.startsWith(file + ": field '" + field + "': "),
                "expected '" + file + ": field '" + field + "': ...' but got: " + msg);
        assertEquals(file.toString(), e.descriptorFile());
        assertEquals(field, e.field());
        for (String d : details) {
            assertTrue(msg.contains(d), "message lacks '" + d + "': " + msg);
        }
    }

    private Path file() {
        return tmp.resolve("m").resolve("model.json");
    }

    @Test
    void shippedDescriptorsLoadUnchanged() {
        for (String name : TestModels.SHIPPED) {
            try (OnnxModel m =
                    OnnxModel.load(ModelDescriptor.load(TestModels.shipped(name).resolve("model.json")))) {
                assertEquals(
                        TestModels.shipped(name)
                                .resolve("model.onnx")
                                .toAbsolutePath()
                                .normalize(),
                        m.descriptor().modelPath());
            }
        }
    }

    @Test
    void wrongSha256() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> d.put("sha256", "0".repeat(64)));
        assertNames(e, file(), "sha256", "0".repeat(64), "model.onnx");
    }

    @Test
    void modelBytesChangedAfterHashing() throws Exception {
        Path file = TestModels.copyShipped("fraud/live", tmp.resolve("m"));
        byte[] bytes = Files.readAllBytes(file.resolveSibling("model.onnx"));
        bytes[bytes.length - 1] ^= 1;
        Files.write(file.resolveSibling("model.onnx"), bytes);
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)), file, "sha256");
    }

    @Test
    void wrongInputTensorName() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> ((ObjectNode) d.get("input")).put("tensor", "feats"));
        assertNames(e, file(), "input.tensor", "no input named 'feats'", "(inputs: [features])");
    }

    @Test
    void wrongFeatureCount() {
        ModelConfigException e =
                breakAndLoad("fraud/live", d -> ((ArrayNode) d.get("input").get("features")).remove(0));
        assertNames(e, file(), "input.features", "declares 8 features", "[-1, 9]");
    }

    @Test
    void wrongVectorLength() {
        ModelConfigException e =
                breakAndLoad("fashion/live", d -> ((ObjectNode) d.get("input")).put("vector_length", 783));
        assertNames(e, file(), "input.vector_length", "783", "[-1, 784]");
    }

    @Test
    void wrongOutputTensorName() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> ((ObjectNode) d.get("output")).put("tensor", "probs"));
        assertNames(e, file(), "output.tensor", "no output named 'probs'", "[probabilities]");
    }

    @Test
    void wrongNumClasses() {
        ModelConfigException e =
                breakAndLoad("fashion/live", d -> ((ObjectNode) d.get("output")).put("num_classes", 9));
        assertNames(e, file(), "output.num_classes", "declares 9 classes", "[-1, 10]");
    }

    @Test
    void binaryModelDeclaredWithThreeClasses() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> ((ObjectNode) d.get("output")).put("num_classes", 3));
        assertNames(e, file(), "output.num_classes", "2 classes");
    }

    @Test
    void multiclassModelDeclaredBinary() {
        ModelConfigException e = breakAndLoad("fashion/live", d -> {
            d.put("task", "binary");
            ((ObjectNode) d.get("output")).remove("num_classes");
        });
        assertNames(e, file(), "output.num_classes", "[-1, 10]");
    }

    @Test
    void binaryModelDeclaredRegression() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> {
            d.put("task", "regression");
            d.remove("threshold");
            ((ObjectNode) d.get("output")).remove("positive_class");
        });
        assertNames(e, file(), "output.tensor", "[-1, 2]", "regression");
    }

    @Test
    void unknownTask() {
        ModelConfigException e = breakAndLoad("fraud/live", d -> d.put("task", "ranking"));
        assertNames(e, file(), "task", "'ranking'");
    }

    @Test
    void pathPointingOutsideTheFolder() throws Exception {
        // a real model one level up, so only the containment check can refuse it
        Files.createDirectories(tmp.resolve("m"));
        Files.copy(TestModels.shipped("fraud/live").resolve("model.onnx"), tmp.resolve("model.onnx"));
        ModelConfigException e = breakAndLoad("fraud/live", d -> d.put("path", "../model.onnx"));
        assertNames(e, file(), "path", "'../model.onnx'", "outside");
        ModelConfigException abs = breakAndLoad2(
                d -> d.put("path", tmp.resolve("model.onnx").toAbsolutePath().toString()));
        assertNames(abs, file(), "path", "relative");
    }

    private ModelConfigException breakAndLoad2(Consumer<ObjectNode> edit) {
        ObjectNode d = TestModels.readJson(file());
        edit.accept(d);
        TestModels.writeJson(file(), d);
        return assertThrows(ModelConfigException.class, () -> ModelDescriptor.load(file()));
    }

    @Test
    void modelFileSymlinkedOutsideTheFolder() throws Exception {
        Path file = TestModels.copyShipped("fraud/live", tmp.resolve("m"));
        Path outside = tmp.resolve("elsewhere.onnx");
        Files.move(file.resolveSibling("model.onnx"), outside);
        Files.createSymbolicLink(file.resolveSibling("model.onnx"), outside);
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "path",
                "outside the model folder");
    }

    @Test
    void missingModelFile() throws Exception {
        Path file = TestModels.copyShipped("fraud/live", tmp.resolve("m"));
        Files.delete(file.resolveSibling("model.onnx"));
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)), file, "path", "does not exist");
    }

    @Test
    void notAnOnnxFile() throws Exception {
        Path file = TestModels.copyShipped("fraud/live", tmp.resolve("m"));
        byte[] garbage = "this is not a protobuf".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(file.resolveSibling("model.onnx"), garbage);
        ObjectNode d = TestModels.readJson(file);
        d.put("sha256", TestModels.sha256(garbage));
        TestModels.writeJson(file, d);
        ModelDescriptor desc = ModelDescriptor.load(file);
        assertNames(assertThrows(ModelConfigException.class, () -> OnnxModel.load(desc)), file, "path");
    }

    /** The training helper's model whose initializer's external data sits at ../outside.bin. */
    @Test
    void shippedExternalDataFixtureIsRefused() {
        Path file = TestModels.moduleDir().resolve("src/test/resources/external-data/model/model.json");
        assertTrue(Files.isRegularFile(file), "missing test fixture " + file);
        ModelDescriptor d = ModelDescriptor.load(file);
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxModel.load(d));
        assertNames(
                e,
                file,
                "path",
                "external_data location '../outside.bin'",
                "outside the model" + " folder",
                "graph.initializer[");
    }

    // ---------------------------------------------------------------- external data, own models

    private static TinyOnnx external(String location) {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(4, 3, 7, 1f), new float[] {0.1f, -0.2f, 0.3f});
        m.externalWeightsLocation = location;
        return m;
    }

    @Test
    void externalDataOutsideTheFolderIsRefusedBeforeOrtReadsIt() throws Exception {
        Path dir = tmp.resolve("ext/model");
        TinyOnnx m = external("../weights.bin");
        Files.createDirectories(dir);
        Files.write(tmp.resolve("ext/weights.bin"), m.weightBytes());
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "path",
                "graph.initializer[0] 'W'",
                "'../weights.bin'");
    }

    @Test
    void externalDataAtAnAbsoluteLocationIsRefused() throws Exception {
        Path dir = tmp.resolve("abs");
        Path weights = tmp.resolve("abs/weights.bin"); // inside, but given as an absolute path
        TinyOnnx m = external(weights.toAbsolutePath().toString());
        Files.createDirectories(dir);
        Files.write(weights, m.weightBytes());
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "path",
                "external_data location");
    }

    @Test
    void externalDataSymlinkedOutsideIsRefused() throws Exception {
        Path dir = tmp.resolve("link");
        TinyOnnx m = external("weights.bin");
        Files.createDirectories(dir);
        Files.write(tmp.resolve("real-weights.bin"), m.weightBytes());
        Files.createSymbolicLink(dir.resolve("weights.bin"), tmp.resolve("real-weights.bin"));
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "path",
                "'weights.bin'",
                "outside the model folder");
    }

    /** Lists {@code location} with {@code sha256} under the descriptor's external_data. */
    private static void listExternalData(Path descriptor, String location, String sha256) throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode d =
                (com.fasterxml.jackson.databind.node.ObjectNode) TestModels.JSON.readTree(descriptor.toFile());
        d.putObject("external_data").put(location, sha256);
        TestModels.writeJson(descriptor, d);
    }

    @Test
    void externalDataNotListedWithItsHashIsRefused() throws Exception {
        Path dir = tmp.resolve("unlisted");
        TinyOnnx m = external("data/weights.bin");
        Files.createDirectories(dir.resolve("data"));
        Files.write(dir.resolve("data/weights.bin"), m.weightBytes());
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "external_data",
                "'data/weights.bin'",
                "refusing to load unverified weights");
    }

    @Test
    void externalDataWithAnotherHashIsRefused() throws Exception {
        Path dir = tmp.resolve("tampered");
        TinyOnnx m = external("data/weights.bin");
        Files.createDirectories(dir.resolve("data"));
        byte[] weights = m.weightBytes();
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        listExternalData(file, "data/weights.bin", TestModels.sha256(weights));
        weights[0] ^= 1; // the file on disk is not the one that was hashed
        Files.write(dir.resolve("data/weights.bin"), weights);
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "external_data.data/weights.bin",
                "hashes to " + TestModels.sha256(weights));
    }

    @Test
    void externalDataInsideTheFolderLoadsAndScores() throws Exception {
        Path dir = tmp.resolve("inside");
        TinyOnnx m = external("data/weights.bin");
        Files.createDirectories(dir.resolve("data"));
        Files.write(dir.resolve("data/weights.bin"), m.weightBytes());
        Path file = TestModels.writeTiny(dir, m, "multiclass");
        listExternalData(file, "data/weights.bin", TestModels.sha256(m.weightBytes()));
        float[] x = {0.5f, -1f, 2f, 0.25f};
        double[] expected = m.expected(x);
        try (OnnxModel model = OnnxModel.load(ModelDescriptor.load(file))) {
            PredictionBatch out = model.score(model.newInputBatch().addRow(x));
            for (int k = 0; k < 3; k++) {
                assertEquals(expected[k], out.probability(0, k), 1e-6);
            }
        }
    }

    // ---------------------------------------------------------------- graph shape checks

    @Test
    void fixedBatchDimensionIsRefused() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(3, 2, 1, 1f), new float[2]);
        m.fixedBatch = 1;
        Path file = TestModels.writeTiny(tmp.resolve("fixed"), m, "binary");
        ModelDescriptor d = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(d)),
                file,
                "input.tensor",
                "[1, 3]",
                "dynamic");
    }

    @Test
    void oneColumnBinaryRejectsPositiveClassOne() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(3, 1, 1, 1f), new float[1]);
        m.activation = TinyOnnx.Activation.SIGMOID;
        Path file = TestModels.writeTiny(tmp.resolve("one"), m, "binary");
        ObjectNode d = TestModels.readJson(file);
        ((ObjectNode) d.get("output")).put("positive_class", 1);
        TestModels.writeJson(file, d);
        ModelDescriptor desc = ModelDescriptor.load(file);
        assertNames(
                assertThrows(ModelConfigException.class, () -> OnnxModel.load(desc)),
                file,
                "output.positive_class",
                "[-1, 1]");
    }
}
