package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.shadowml.models.TestModels.Fixture;

/** Scoring N rows in one batch gives the same outputs as scoring them one at a time. */
class BatchEquivalenceTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.shadowml.models.TestModels#shippedModels")
    void oneBatchEqualsRowByRow(String name) {
        Path dir = TestModels.shipped(name);
        float[][] rows = Fixture.load(dir.resolve("fixture.json")).inputs;
        int n = Math.min(rows.length, 256);
        ModelDescriptor d = ModelDescriptor.load(dir.resolve("model.json"));
        try (OnnxModel model = OnnxModel.load(d)) {
            InputBatch batch = model.newInputBatch();
            int cols = -1;
            float[][] single = new float[n][];
            for (int i = 0; i < n; i++) {
                batch.clear().addRow(rows[i]);
                PredictionBatch out = model.score(batch);
                cols = out.outputColumns();
                single[i] = new float[cols];
                for (int c = 0; c < cols; c++) {
                    single[i][c] = out.raw(0, c);
                }
            }
            batch.clear();
            for (int i = 0; i < n; i++) {
                batch.addRow(rows[i]);
            }
            PredictionBatch out = model.score(batch);
            assertEquals(n, out.rows());
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < cols; c++) {
                    assertEquals(single[i][c], out.raw(i, c), 1e-6, name + " row " + i + " column " + c);
                }
            }
        }
    }
}
