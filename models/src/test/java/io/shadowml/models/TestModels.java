package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Where the shipped models are, and helpers to copy, edit and write model folders. */
final class TestModels {
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The shipped models, as folder names under models/shipped/: the four the scenarios compare, and
     * the overconfident credit model the AUC tests score with.
     */
    static final List<String> SHIPPED = List.of(
            "fraud/live",
            "fraud/candidate",
            "fraud/slow-candidate",
            "fashion/live",
            "fashion/candidate",
            "credit/overconfident");

    private TestModels() {}

    /** models/ (Maven runs tests there; also works from the repository root). */
    static Path moduleDir() {
        Path here = Path.of("").toAbsolutePath();
        if (Files.isDirectory(here.resolve("shipped"))
                || here.getFileName().toString().equals("models")) {
            return here;
        }
        return here.resolve("models");
    }

    static Path shipped(String model) {
        Path dir = moduleDir().resolve("shipped").resolve(model);
        assertTrue(Files.isRegularFile(dir.resolve("model.json")), "shipped model missing: " + dir + "/model.json");
        return dir;
    }

    static Stream<String> shippedModels() {
        return SHIPPED.stream();
    }

    /** Copies model.json and model.onnx of a shipped model into {@code dst}. */
    static Path copyShipped(String model, Path dst) {
        try {
            Files.createDirectories(dst);
            Path src = shipped(model);
            Files.copy(src.resolve("model.json"), dst.resolve("model.json"));
            Files.copy(src.resolve("model.onnx"), dst.resolve("model.onnx"));
            return dst.resolve("model.json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode readJson(Path file) {
        try {
            return (ObjectNode) JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeJson(Path file, JsonNode node) {
        try {
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /**
     * Writes {@code dir/model.onnx} from {@code model} and a matching {@code dir/model.json};
     * returns the descriptor node (already written) for further edits.
     */
    static Path writeTiny(Path dir, TinyOnnx model, String task) throws Exception {
        Files.createDirectories(dir);
        byte[] bytes = model.build();
        Files.write(dir.resolve("model.onnx"), bytes);
        ObjectNode d = JSON.createObjectNode();
        d.put("name", "tiny-" + task);
        d.put("version", "0.0.1");
        d.put("path", "model.onnx");
        d.put("sha256", sha256(bytes));
        d.put("task", task);
        ObjectNode in = d.putObject("input");
        in.put("tensor", model.inputName);
        ArrayNode names = in.putArray("features");
        for (int i = 0; i < model.features(); i++) {
            names.add("f" + i);
        }
        ObjectNode out = d.putObject("output");
        out.put("tensor", model.outputName);
        if (task.equals("multiclass")) {
            out.put("num_classes", model.outputs());
        }
        Path file = dir.resolve("model.json");
        writeJson(file, d);
        return file;
    }

    /** Deterministic pseudo-random matrix (an LCG, so no dependence on java.util.Random details). */
    static float[][] matrix(int rows, int cols, long seed, float scale) {
        float[][] m = new float[rows][cols];
        long s = seed;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                s = s * 6364136223846793005L + 1442695040888963407L;
                m[i][j] = scale * (((s >>> 40) / (float) (1L << 24)) * 2f - 1f);
            }
        }
        return m;
    }

    /** Rows and expected outputs of a shipped model's fixture.json. */
    static final class Fixture {
        final float[][] inputs;
        final double[][] outputs;

        Fixture(float[][] inputs, double[][] outputs) {
            this.inputs = inputs;
            this.outputs = outputs;
        }

        static Fixture load(Path file) {
            JsonNode root;
            try {
                root = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            JsonNode in = root.get("inputs");
            JsonNode out = root.get("outputs");
            float[][] inputs = new float[in.size()][];
            double[][] outputs = new double[out.size()][];
            for (int i = 0; i < in.size(); i++) {
                JsonNode r = in.get(i);
                inputs[i] = new float[r.size()];
                for (int j = 0; j < r.size(); j++) {
                    inputs[i][j] = (float) r.get(j).asDouble();
                }
            }
            for (int i = 0; i < out.size(); i++) {
                JsonNode r = out.get(i);
                if (r.isNumber()) {
                    outputs[i] = new double[] {r.asDouble()};
                    continue;
                }
                outputs[i] = new double[r.size()];
                for (int j = 0; j < r.size(); j++) {
                    outputs[i][j] = r.get(j).asDouble();
                }
            }
            return new Fixture(inputs, outputs);
        }
    }
}
