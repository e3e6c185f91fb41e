package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.models.TestModels.Fixture;

/**
 * ONNX Runtime Java reproduces, within 1e-5, the outputs the PyTorch trainer recorded in each
 * shipped model's fixture.json, whatever the batch size.
 */
class ShippedFixtureTest {
    private static final double TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.shadowml.models.TestModels#shippedModels")
    void reproducesTrainerOutputsInBatchesOfEverySize(String name) {
        Path dir = TestModels.shipped(name);
        Fixture fx = Fixture.load(dir.resolve("fixture.json"));
        assertEquals(fx.inputs.length, fx.outputs.length, "fixture inputs/outputs");
        assertTrue(fx.inputs.length >= 64, "fixture too small to test batching: " + fx.inputs.length);
        ModelDescriptor d = ModelDescriptor.load(dir.resolve("model.json"));
        int all = fx.inputs.length;
        try (OnnxModel model = OnnxModel.load(d, ModelOptions.defaults().withMaxBatchSize(Math.max(256, all)))) {
            for (int batchSize : new int[] {1, 7, 64, all}) {
                InputBatch batch = model.newInputBatch();
                int checked = 0;
                for (int start = 0; start < all; start += batchSize) {
                    batch.clear();
                    int end = Math.min(all, start + batchSize);
                    for (int i = start; i < end; i++) {
                        batch.addRow(fx.inputs[i]);
                    }
                    PredictionBatch out = model.score(batch);
                    assertEquals(end - start, out.rows());
                    for (int i = start; i < end; i++) {
                        check(d, fx.outputs[i], out, i - start, name + " batch " + batchSize + " row " + i);
                        checked++;
                    }
                }
                assertEquals(all, checked);
            }
        }
    }

    /** Compares raw outputs, then the normalised accessors derived independently from them. */
    private static void check(ModelDescriptor d, double[] expected, PredictionBatch out, int r, String where) {
        assertEquals(expected.length, out.outputColumns(), where + ": output columns");
        for (int c = 0; c < expected.length; c++) {
            assertEquals(expected[c], out.raw(r, c), TOLERANCE, where + " column " + c);
        }
        if (d.task() == Task.BINARY) {
            double pPos = expected.length == 2 ? expected[d.positiveClass()] : expected[0];
            assertEquals(pPos, out.score(r), TOLERANCE, where + ": score = P(positive)");
            assertEquals(pPos, out.probability(r, 1), TOLERANCE, where);
            // Compare the decision only where the fixture value is not within tolerance of the threshold.
            if (Math.abs(pPos - d.threshold()) > TOLERANCE) {
                assertEquals(pPos >= d.threshold() ? 1 : 0, out.predictedClass(r), where + ": class");
            }
        } else if (d.task() == Task.MULTICLASS) {
            int best = 0;
            for (int k = 1; k < expected.length; k++) {
                if (expected[k] > expected[best]) {
                    best = k;
                }
            }
            double second = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < expected.length; k++) {
                if (k != best) {
                    second = Math.max(second, expected[k]);
                }
            }
            assertEquals(expected[best], out.score(r), TOLERANCE, where + ": score = max probability");
            if (expected[best] - second > 2 * TOLERANCE) {
                assertEquals(best, out.predictedClass(r), where + ": argmax");
            }
            float[] probs = new float[expected.length];
            out.copyProbabilities(r, probs);
            for (int k = 0; k < expected.length; k++) {
                assertEquals(expected[k], probs[k], TOLERANCE, where + " probability " + k);
            }
        } else {
            assertEquals(expected[0], out.value(r), TOLERANCE, where + ": value");
            assertEquals(-1, out.predictedClass(r));
        }
    }
}
