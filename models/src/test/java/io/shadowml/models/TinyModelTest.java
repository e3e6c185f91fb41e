package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.models.ModelDescriptor.Task;
import io.shadowml.models.TinyOnnx.Activation;

/**
 * Output normalisation for every task and output layout, on models written by {@link TinyOnnx}
 * whose expected outputs are computed in double precision by the test itself; and the
 * {@link InputBatch} API.
 */
class TinyModelTest {
    private static final double TOL = 1e-5;

    @TempDir
    Path tmp;

    private static float[][] rows(int n, int f, long seed) {
        return TestModels.matrix(n, f, seed, 2f);
    }

    private OnnxModel load(TinyOnnx m, String task, ModelOptions o) throws Exception {
        return OnnxModel.load(ModelDescriptor.load(TestModels.writeTiny(tmp.resolve(task), m, task)), o);
    }

    @Test
    void multiclassSoftmax() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(6, 4, 11, 1f), new float[] {0f, .5f, -.5f, .1f});
        float[][] x = rows(50, 6, 3);
        try (OnnxModel model = load(m, "multiclass", ModelOptions.defaults())) {
            InputBatch batch = model.newInputBatch();
            for (float[] r : x) {
                batch.addRow(r);
            }
            PredictionBatch out = model.score(batch);
            assertEquals(Task.MULTICLASS, out.task());
            assertEquals(4, out.numClasses());
            float[] probs = new float[4];
            int checkedArgmax = 0;
            for (int i = 0; i < x.length; i++) {
                double[] e = m.expected(x[i]);
                int best = 0;
                for (int k = 1; k < 4; k++) {
                    best = e[k] > e[best] ? k : best;
                }
                out.copyProbabilities(i, probs);
                for (int k = 0; k < 4; k++) {
                    assertEquals(e[k], out.probability(i, k), TOL);
                    assertEquals(e[k], probs[k], TOL);
                }
                assertEquals(best, out.predictedClass(i));
                assertEquals(e[best], out.score(i), TOL);
                checkedArgmax++;
            }
            assertEquals(x.length, checkedArgmax);
            assertThrows(IllegalStateException.class, () -> out.value(0));
            assertThrows(IndexOutOfBoundsException.class, () -> out.score(x.length));
        }
    }

    @Test
    void binaryTwoColumnsWithPositiveClassZero() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(5, 2, 5, 1f), new float[] {0.2f, -0.1f});
        Path file = TestModels.writeTiny(tmp.resolve("b0"), m, "binary");
        var d = TestModels.readJson(file);
        ((com.fasterxml.jackson.databind.node.ObjectNode) d.get("output")).put("positive_class", 0);
        d.put("threshold", 0.3);
        TestModels.writeJson(file, d);
        float[][] x = rows(40, 5, 9);
        try (OnnxModel model = OnnxModel.load(ModelDescriptor.load(file))) {
            InputBatch batch = model.newInputBatch();
            for (float[] r : x) {
                batch.addRow(r);
            }
            PredictionBatch out = model.score(batch);
            int positives = 0;
            for (int i = 0; i < x.length; i++) {
                double[] e = m.expected(x[i]);
                double pPos = e[0]; // column 0 is the positive class
                assertEquals(pPos, out.score(i), TOL);
                assertEquals(pPos, out.probability(i, 1), TOL);
                assertEquals(e[1], out.probability(i, 0), TOL);
                if (Math.abs(pPos - 0.3) > TOL) {
                    assertEquals(pPos >= 0.3 ? 1 : 0, out.predictedClass(i));
                }
                positives += out.predictedClass(i);
            }
            assertTrue(positives > 0 && positives < x.length, "both classes occur: " + positives);
        }
    }

    @Test
    void binaryOneColumnSigmoid() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(3, 1, 21, 1f), new float[] {0.05f});
        m.activation = Activation.SIGMOID;
        float[][] x = rows(30, 3, 4);
        try (OnnxModel model = load(m, "binary", ModelOptions.defaults())) {
            InputBatch batch = model.newInputBatch();
            for (float[] r : x) {
                batch.addRow(r);
            }
            PredictionBatch out = model.score(batch);
            assertEquals(1, out.outputColumns());
            float[] probs = new float[2];
            for (int i = 0; i < x.length; i++) {
                double p = m.expected(x[i])[0];
                assertEquals(p, out.score(i), TOL);
                out.copyProbabilities(i, probs);
                assertEquals(1 - p, probs[0], TOL);
                assertEquals(p, probs[1], TOL);
                if (Math.abs(p - 0.5) > TOL) {
                    assertEquals(p >= 0.5 ? 1 : 0, out.predictedClass(i));
                }
            }
        }
    }

    @Test
    void regressionColumnAndFlat() throws Exception {
        for (boolean flat : new boolean[] {false, true}) {
            TinyOnnx m = new TinyOnnx(TestModels.matrix(4, 1, 33, 3f), new float[] {1.5f});
            m.activation = Activation.NONE;
            m.outputName = "value";
            m.flatten = flat;
            float[][] x = rows(20, 4, 8);
            Path file = TestModels.writeTiny(tmp.resolve("reg" + flat), m, "regression");
            try (OnnxModel model = OnnxModel.load(ModelDescriptor.load(file))) {
                InputBatch batch = model.newInputBatch();
                for (float[] r : x) {
                    batch.addRow(r);
                }
                PredictionBatch out = model.score(batch);
                for (int i = 0; i < x.length; i++) {
                    double v = m.expected(x[i])[0];
                    assertEquals(v, out.value(i), TOL);
                    assertEquals(v, out.score(i), TOL);
                    assertEquals(-1, out.predictedClass(i));
                }
                assertThrows(IllegalStateException.class, () -> out.probability(0, 0));
            }
        }
    }

    @Test
    void inputBatchApi() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(3, 2, 2, 1f), new float[] {0f, 0f});
        try (OnnxModel model = load(m, "binary", ModelOptions.defaults().withMaxBatchSize(4));
                OnnxModel other = load(m, "multiclass", ModelOptions.defaults())) {
            InputBatch batch = model.newInputBatch();
            assertEquals(4, batch.capacity());
            assertEquals(3, batch.featureCount());
            assertEquals(0, model.score(batch).rows());

            batch.addRow(new float[] {1, 2, 3});
            batch.set(2, 7f).set(0, 5f).endRow(); // column 1 unset -> 0
            batch.set(1, 9f);
            assertTrue(batch.hasUnfinishedRow());
            assertThrows(IllegalStateException.class, () -> model.score(batch));
            assertThrows(IllegalStateException.class, () -> batch.addRow(new float[3]));
            batch.endRow();
            batch.endRow(); // an empty row is all zeros, even over old data
            assertTrue(batch.isFull());
            assertThrows(IllegalStateException.class, () -> batch.addRow(new float[3]));
            assertThrows(IllegalStateException.class, () -> batch.set(0, 1f));
            assertEquals(4, batch.rows());
            float[][] expectRows = {{1, 2, 3}, {5, 0, 7}, {0, 9, 0}, {0, 0, 0}};
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(expectRows[r][c], batch.get(r, c));
                }
            }
            PredictionBatch out = model.score(batch);
            assertSame(out, model.score(batch), "the prediction batch is reused");
            for (int r = 0; r < 4; r++) {
                assertEquals(m.expected(expectRows[r])[1], out.score(r), TOL);
            }

            // reuse: clear and refill with a set() row over stale data: stale columns must not leak
            batch.clear();
            assertEquals(0, batch.rows());
            batch.set(1, 1f).endRow();
            assertArrayEquals(new float[] {0, 1, 0}, new float[] {batch.get(0, 0), batch.get(0, 1), batch.get(0, 2)});

            assertThrows(IllegalArgumentException.class, () -> batch.addRow(new float[2]));
            assertThrows(IndexOutOfBoundsException.class, () -> batch.set(3, 1f));
            assertThrows(IllegalArgumentException.class, () -> other.score(batch));
        }
    }

    @Test
    void closedModelThrowsIllegalState() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(3, 2, 2, 1f), new float[] {0f, 0f});
        OnnxModel model = load(m, "binary", ModelOptions.defaults());
        InputBatch batch = model.newInputBatch().addRow(new float[] {1, 2, 3});
        model.score(batch);
        model.close();
        assertTrue(model.isClosed());
        model.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> model.score(batch));
        assertThrows(IllegalStateException.class, model::newInputBatch);
    }

    @Test
    void threadOptionsAreApplied() throws Exception {
        TinyOnnx m = new TinyOnnx(TestModels.matrix(8, 3, 2, 1f), new float[3]);
        float[] x = rows(1, 8, 1)[0];
        try (OnnxModel model = load(m, "multiclass", ModelOptions.of(2, 2, 8))) {
            assertEquals(ModelOptions.of(2, 2, 8), model.options());
            assertEquals(8, model.maxBatchSize());
            PredictionBatch out = model.score(model.newInputBatch().addRow(x));
            assertEquals(m.expected(x)[0], out.probability(0, 0), TOL);
        }
        assertThrows(IllegalArgumentException.class, () -> ModelOptions.of(0, 1, 1));
        assertThrows(
                IllegalArgumentException.class, () -> ModelOptions.defaults().withMaxBatchSize(0));
    }
}
