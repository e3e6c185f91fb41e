package io.shadowml.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What holding models costs in resident memory, and that loads of one model cost one session (issue 13:
 * models shared per TaskManager process). Each figure is measured in a fresh JVM ({@link Probe}): memory
 * freed by earlier tests in this JVM would be reused by malloc and hide what a session costs.
 *
 * <p>The models are 784 x 2048 float32 weights (6.4 MB each, each model its own weights). Without sharing,
 * ten loads of one model would cost what ten different models cost, ten times one.
 */
class SharedSessionMemoryTest {
    private static final int MODELS = 10;

    @TempDir
    Path tmp;

    @Test
    void tenLoadsOfOneModelCostOneSessionTenModelsTen() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        List<String> models = new ArrayList<>();
        for (int i = 0; i < MODELS; i++) {
            TinyOnnx m = new TinyOnnx(TestModels.matrix(784, 2048, 500 + i, 0.05f), new float[2048]);
            models.add(
                    TestModels.writeTiny(tmp.resolve("m" + i), m, "multiclass").toString());
        }
        long one = probe(models.subList(0, 1));
        long ten = probe(models);
        List<String> sameTenTimes = new ArrayList<>();
        for (int i = 0; i < MODELS; i++) {
            sameTenTimes.add(models.get(0));
        }
        long oneTenTimes = probe(sameTenTimes);
        System.out.printf(
                "SharedSessionMemoryTest: resident memory added by 1 model %.1f MB, by %d different models %.1f MB,"
                        + " by %d loads of one model %.1f MB%n",
                one / 1048576.0, MODELS, ten / 1048576.0, MODELS, oneTenTimes / 1048576.0);
        double weights = 784 * 2048 * 4;
        assertTrue(one > weights / 2, "one session holds its weights: " + one);
        assertTrue(ten > 0.8 * MODELS * one, "different models each cost a session: " + ten + " vs " + one);
        assertTrue(oneTenTimes < 1.5 * one, "ten loads of one model share its session: " + oneTenTimes);
    }

    /** Runs {@link Probe} in a fresh JVM over {@code descriptors}; returns the resident memory they added. */
    private static long probe(List<String> descriptors) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms128m",
                "-Xmx128m",
                "-XX:+AlwaysPreTouch",
                "-cp",
                System.getProperty("java.class.path"),
                Probe.class.getName()));
        cmd.addAll(descriptors);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "probe did not finish: " + out);
        assertEquals(0, p.exitValue(), out);
        for (String line : out.split("\n")) {
            if (line.startsWith("RSS_ADDED ")) {
                return Long.parseLong(line.substring("RSS_ADDED ".length()).trim());
            }
        }
        throw new AssertionError("no RSS_ADDED in the probe's output: " + out);
    }

    /** Loads every descriptor given (and keeps it open); prints the resident memory that added. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            // ORT's library, environment and first-session allocations, before the baseline.
            TinyOnnx warm = new TinyOnnx(TestModels.matrix(4, 2, 1, 1f), new float[2]);
            Path dir = Files.createTempDirectory("probe-warm-up");
            try (OnnxModel m = OnnxModel.load(ModelDescriptor.load(TestModels.writeTiny(dir, warm, "multiclass")))) {
                m.score(m.newInputBatch());
            }
            long base = rss();
            List<OnnxModel> open = new ArrayList<>();
            for (String d : args) {
                open.add(OnnxModel.load(ModelDescriptor.load(Path.of(d))));
            }
            System.out.println("RSS_ADDED " + (rss() - base));
            open.forEach(OnnxModel::close);
        }

        private static long rss() throws Exception {
            System.gc();
            Thread.sleep(100);
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            throw new IllegalStateException("no VmRSS");
        }
    }
}
