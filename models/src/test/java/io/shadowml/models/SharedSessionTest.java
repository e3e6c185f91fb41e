package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Models of the same bytes share one ONNX Runtime session in a process (issue 13: models shared per
 * TaskManager), and sharing changes nothing a user of {@link OnnxModel} can see: every instance scores
 * what the model computes (expected outputs from {@link TinyOnnx#expected}, in double precision), also
 * when two threads score through one session at once; closing or interrupting one leaves the others
 * alone. Session counts are read as differences: other tests in this JVM may hold models.
 */
class SharedSessionTest {
    private static final double TOL = 1e-5;

    @TempDir
    Path tmp;

    private final TinyOnnx tiny = new TinyOnnx(TestModels.matrix(6, 3, 17, 1f), new float[] {0.1f, -0.2f, 0.3f});

    private ModelDescriptor descriptor(String dir) throws Exception {
        return ModelDescriptor.load(TestModels.writeTiny(tmp.resolve(dir), tiny, "multiclass"));
    }

    @Test
    void loadsOfTheSameBytesShareOneSessionUntilTheLastCloses() throws Exception {
        ModelDescriptor d = descriptor("a");
        // Another descriptor, in another folder, under another name, of the same model bytes.
        Path other = TestModels.writeTiny(tmp.resolve("b"), tiny, "multiclass");
        ObjectNode renamed = TestModels.readJson(other);
        renamed.put("name", "renamed");
        TestModels.writeJson(other, renamed);
        ModelDescriptor sameBytes = ModelDescriptor.load(other);
        float[][] rows = TestModels.matrix(20, 6, 4, 2f);

        int before = SharedSessions.openSessions();
        OnnxModel first = OnnxModel.load(d);
        OnnxModel second = OnnxModel.load(d);
        OnnxModel third = OnnxModel.load(sameBytes);
        assertEquals(before + 1, SharedSessions.openSessions(), "three loads of one model, one session");
        OnnxModel twoThreads = OnnxModel.load(d, ModelOptions.defaults().withIntraOpThreads(2));
        assertEquals(before + 2, SharedSessions.openSessions(), "other thread settings, another session");

        for (OnnxModel m : List.of(first, second, third, twoThreads)) {
            checkScores(m, rows);
        }
        first.close();
        first.close(); // idempotent: releases its hold once
        checkScores(second, rows);
        assertEquals(before + 2, SharedSessions.openSessions());
        second.close();
        checkScores(third, rows);
        third.close();
        assertEquals(before + 1, SharedSessions.openSessions(), "the last of the three closed the session");
        twoThreads.close();
        assertEquals(before, SharedSessions.openSessions());
        assertThrows(IllegalStateException.class, first::newInputBatch);
    }

    @Test
    void twoThreadsScoreThroughOneSessionAtOnce() throws Exception {
        ModelDescriptor d = descriptor("c");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (OnnxModel a = OnnxModel.load(d);
                OnnxModel b = OnnxModel.load(d)) {
            List<Future<Integer>> done = new ArrayList<>();
            for (OnnxModel m : List.of(a, b)) {
                long seed = m == a ? 1 : 2;
                done.add(pool.submit(() -> {
                    int checked = 0;
                    for (int round = 0; round < 300; round++) {
                        checked += checkScores(m, TestModels.matrix(64, 6, seed * 1000 + round, 2f));
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : done) {
                assertEquals(300 * 64 * 3, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void interruptingOneInstanceLeavesTheOthersScoring() throws Exception {
        ModelDescriptor d = descriptor("d");
        float[][] rows = TestModels.matrix(8, 6, 9, 2f);
        try (OnnxModel a = OnnxModel.load(d);
                OnnxModel b = OnnxModel.load(d)) {
            a.interrupt();
            InputBatch batch = a.newInputBatch();
            for (float[] r : rows) {
                batch.addRow(r);
            }
            assertThrows(ModelScoringException.class, () -> a.score(batch));
            checkScores(b, rows);
            a.clearInterrupt();
            checkScores(a, rows);
        }
    }

    @Test
    void aModelWhoseBytesChangedIsNotServedFromTheSessionOfTheOldBytes() throws Exception {
        Path file = TestModels.writeTiny(tmp.resolve("e"), tiny, "multiclass");
        try (OnnxModel held = OnnxModel.load(ModelDescriptor.load(file))) {
            // The file is replaced while a session of it is open: loading checks the bytes again.
            TinyOnnx changed = new TinyOnnx(TestModels.matrix(6, 3, 99, 1f), new float[3]);
            Files.write(file.resolveSibling("model.onnx"), changed.build());
            ModelConfigException e =
                    assertThrows(ModelConfigException.class, () -> OnnxModel.load(ModelDescriptor.load(file)));
            assertTrue(e.getMessage().contains("sha256"), e.getMessage());
            checkScores(held, TestModels.matrix(4, 6, 1, 2f));
        }
    }

    /** Scores {@code rows} and checks every probability against the model's own arithmetic; returns how many. */
    private int checkScores(OnnxModel model, float[][] rows) {
        InputBatch batch = model.newInputBatch();
        for (float[] r : rows) {
            batch.addRow(r);
        }
        PredictionBatch out = model.score(batch);
        int checked = 0;
        for (int i = 0; i < rows.length; i++) {
            double[] e = tiny.expected(rows[i]);
            for (int k = 0; k < e.length; k++) {
                assertEquals(e[k], out.probability(i, k), TOL);
                checked++;
            }
        }
        return checked;
    }
}
