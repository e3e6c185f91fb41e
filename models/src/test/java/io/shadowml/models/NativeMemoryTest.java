package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No native memory leaks: the process's resident set (VmRSS) stays flat across hundreds of
 * open/score/close cycles and thousands of score calls.
 *
 * <p>Why 64 MB is a meaningful bound: the test model's weights alone are 784 x 512 float32 =
 * 1.6 MB, so leaking one session per cycle would add at least 300 x 1.6 MB = 480 MB; the test
 * measures what an open session really costs and checks that 300 of them would exceed the bound,
 * i.e. that the test can fail. Likewise each score call below makes a 256 x 256 float32 output
 * (256 KB), so 2000 leaked results would be 512 MB. Heap growth cannot pollute the measurement:
 * surefire runs with -Xms = -Xmx and -XX:+AlwaysPreTouch, so the heap is resident from the start.
 * What is left, malloc arena fragmentation and JIT code, is a few MB.
 */
class NativeMemoryTest {
    private static final long BOUND_BYTES = 64L << 20;
    private static final int CYCLES = 300;

    @TempDir
    Path tmp;

    private static long rss() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc(); // lets the Cleaner free the direct buffers of dropped InputBatches
            Thread.sleep(50);
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1048576.0);
    }

    @Test
    void openScoreCloseDoesNotLeak() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        TinyOnnx m = new TinyOnnx(TestModels.matrix(784, 512, 3, 0.05f), new float[512]);
        m.inputName = "pixels";
        ModelDescriptor d = ModelDescriptor.load(TestModels.writeTiny(tmp.resolve("big"), m, "multiclass"));
        ModelOptions o = ModelOptions.defaults().withMaxBatchSize(16);
        float[][] rows = TestModels.matrix(16, 784, 5, 1f);

        for (int i = 0; i < 30; i++) {
            cycle(d, o, rows);
        }
        long before = rss();
        for (int i = 0; i < CYCLES; i++) {
            cycle(d, o, rows);
        }
        long after = rss();

        // What an open session costs, to show the bound would catch a leaked one per cycle: 20 different
        // models (loads of one model would share one session).
        long perSession = perSession(bigModels(20), o);

        System.out.printf(
                "NativeMemoryTest: RSS %s -> %s after %d open/score/close cycles"
                        + " (growth %s); one open session costs %s%n",
                mb(before), mb(after), CYCLES, mb(after - before), mb(perSession));
        assertTrue(
                perSession * CYCLES > BOUND_BYTES,
                "the bound must be able to catch a leaked session per cycle; one costs " + mb(perSession));
        assertTrue(
                after - before < BOUND_BYTES,
                "RSS grew " + mb(after - before) + " over " + CYCLES + " cycles, bound " + mb(BOUND_BYTES));
    }

    /** {@code n} models of 784 x 512 float32 weights (1.6 MB), each with its own weights. */
    private List<ModelDescriptor> bigModels(int n) throws Exception {
        List<ModelDescriptor> models = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TinyOnnx m = new TinyOnnx(TestModels.matrix(784, 512, 100 + i, 0.05f), new float[512]);
            m.inputName = "pixels";
            models.add(ModelDescriptor.load(TestModels.writeTiny(tmp.resolve("model-" + i), m, "multiclass")));
        }
        return models;
    }

    /** The resident memory each of {@code models} adds while all are open. */
    private static long perSession(List<ModelDescriptor> models, ModelOptions o) throws Exception {
        List<OnnxModel> open = new ArrayList<>();
        long base = rss();
        for (ModelDescriptor d : models) {
            open.add(OnnxModel.load(d, o));
        }
        long each = (rss() - base) / models.size();
        open.forEach(OnnxModel::close);
        return each;
    }

    private static void cycle(ModelDescriptor d, ModelOptions o, float[][] rows) {
        try (OnnxModel model = OnnxModel.load(d, o)) {
            InputBatch batch = model.newInputBatch();
            for (float[] r : rows) {
                batch.addRow(r);
            }
            assertEquals(rows.length, model.score(batch).rows());
        }
    }

    @Test
    void repeatedScoringDoesNotLeak() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        TinyOnnx m = new TinyOnnx(TestModels.matrix(16, 256, 9, 0.1f), new float[256]);
        ModelDescriptor d = ModelDescriptor.load(TestModels.writeTiny(tmp.resolve("wide"), m, "multiclass"));
        float[][] rows = TestModels.matrix(256, 16, 1, 1f);
        try (OnnxModel model = OnnxModel.load(d)) {
            InputBatch batch = model.newInputBatch();
            for (float[] r : rows) {
                batch.addRow(r);
            }
            for (int i = 0; i < 200; i++) {
                model.score(batch);
            }
            long before = rss();
            for (int i = 0; i < 2000; i++) {
                assertEquals(256, model.score(batch).rows());
            }
            long after = rss();
            System.out.printf("NativeMemoryTest: RSS %s -> %s after 2000 scores of 256 rows%n", mb(before), mb(after));
            assertTrue(after - before < BOUND_BYTES, "RSS grew " + mb(after - before));
        }
    }
}
