package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.report.ReportFactory;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * The on-disk format of {@link ExperimentAccumulator} (checkpoints, savepoints) must not change by
 * accident, and state of released versions must still be read. The resources
 * {@code experiment-accumulator-<case>.b64} hold the bytes the current format writes for the fixed
 * events below (regenerated, with a new format version, only when the format changes on purpose);
 * {@code experiment-accumulator-<case>-0.1.0.b64} hold what release 0.1.0 wrote for the same events.
 * Fewer than 200 events per accumulator keep the KLL sketches exact, hence deterministic.
 */
class ExperimentAccumulatorFormatTest {
    static final int EVENTS = 150;

    static ModelLayout layout(String name) {
        switch (name) {
            case "binary":
                return SegmentSlicesTest.binaryLayout();
            case "multiclass":
                return SegmentSlicesTest.multiclassLayout();
            default:
                return SegmentSlicesTest.regressionLayout();
        }
    }

    static SegmentSpec segments(String name) {
        switch (name) {
            case "binary":
                return new SegmentSpec(List.of("region", "channel"));
            case "multiclass":
                return new SegmentSpec(List.of("region"));
            default:
                return SegmentSpec.NONE; // also covers the format without slices
        }
    }

    /** Fixed events: SCORED and LABELLED, some errored, some probabilities at 0 and 1 (clipped in the loss). */
    static List<MetricEvent> events(ModelLayout layout, SegmentSpec spec) {
        Random rnd = new Random(20260503L);
        String[] regions = {"EU", "NA", "APAC", null};
        String[] channels = {"web", "app", null};
        int slots = layout.slotsPerModel();
        List<MetricEvent> out = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            float[] outputs = new float[layout.width()];
            for (int m = 0; m < layout.models(); m++) {
                if (layout.task() == Task.MULTICLASS) {
                    float sum = 0;
                    for (int k = 0; k < slots; k++) {
                        outputs[m * slots + k] = rnd.nextInt(5) == 0 ? 0f : rnd.nextFloat();
                        sum += outputs[m * slots + k];
                    }
                    for (int k = 0; k < slots; k++) {
                        outputs[m * slots + k] = sum == 0 ? (k == 0 ? 1f : 0f) : outputs[m * slots + k] / sum;
                    }
                } else if (layout.task() == Task.BINARY) {
                    int r = rnd.nextInt(20);
                    outputs[m] = r == 0 ? 0f : r == 1 ? 1f : rnd.nextFloat();
                } else {
                    outputs[m] = (float) (rnd.nextGaussian() * 5);
                }
            }
            long errorMask = 0;
            for (int m = 0; m < layout.models(); m++) {
                if (rnd.nextInt(12) == 0) {
                    errorMask |= 1L << m;
                }
            }
            String[] values = spec.isEmpty()
                    ? null
                    : spec.fields().size() == 1
                            ? new String[] {regions[rnd.nextInt(regions.length)]}
                            : new String[] {regions[rnd.nextInt(regions.length)], channels[rnd.nextInt(channels.length)]
                            };
            int[] latency = new int[layout.models()];
            for (int m = 0; m < latency.length; m++) {
                latency[m] = rnd.nextInt(1000);
            }
            String id = "r" + i;
            if (rnd.nextBoolean()) {
                out.add(MetricEvent.scored(id, 1_000 + i, outputs, errorMask, latency, values));
            } else {
                double label = layout.task() == Task.BINARY
                        ? rnd.nextInt(2)
                        : layout.task() == Task.MULTICLASS ? rnd.nextInt(layout.numClasses()) : rnd.nextGaussian() * 5;
                out.add(MetricEvent.labelled(id, 1_000 + i, outputs, errorMask, label, values));
            }
        }
        // A few other kinds, so that every counter is non-zero.
        out.add(MetricEvent.of(MetricEvent.EXPIRED, "x"));
        out.add(MetricEvent.of(MetricEvent.DEAD_LETTER, "d"));
        out.add(MetricEvent.of(MetricEvent.DUPLICATE_LABEL, "u"));
        out.add(MetricEvent.of(MetricEvent.UNKNOWN_LABEL, "k"));
        return out;
    }

    static ExperimentAccumulator accumulate(String name) {
        ModelLayout layout = layout(name);
        SegmentSpec spec = segments(name);
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, spec);
        for (MetricEvent e : events(layout, spec)) {
            acc.add(e, layout);
        }
        return acc;
    }

    static byte[] golden(String name) throws IOException {
        try (InputStream in =
                ExperimentAccumulatorFormatTest.class.getResourceAsStream("experiment-accumulator-" + name + ".b64")) {
            assertNotNull(in, "resource for " + name);
            return Base64.getMimeDecoder().decode(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void writesTheBytesThePreviousCodeWrote(String name) throws IOException {
        byte[] now = TestSupport.bytes(accumulate(name)::writeTo);
        if (Boolean.getBoolean("regenerate.golden")) {
            // After an intended format change: mvn test -Dtest=ExperimentAccumulatorFormatTest -Dregenerate.golden=true
            Files.writeString(
                    Path.of("src/test/resources/io/shadowml/jobs/metrics/experiment-accumulator-" + name + ".b64"),
                    Base64.getMimeEncoder().encodeToString(now) + "\n");
            return;
        }
        assertArrayEquals(golden(name), now);
    }

    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void readsTheBytesThePreviousCodeWrote(String name) throws IOException {
        byte[] golden = golden(name);
        ExperimentAccumulator read = TestSupport.read(golden, ExperimentAccumulator::readFrom);
        assertArrayEquals(golden, TestSupport.bytes(read::writeTo), "written again unchanged");
        ModelLayout layout = layout(name);
        assertEquals(
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, accumulate(name), layout),
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout),
                "the same report");
    }

    /**
     * 0.1.0 state is read: its counters are those of the same events now (their meaning did not
     * change), and it merges with and is written as the current format.
     */
    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void readsTheStateOfRelease010(String name) throws IOException {
        byte[] old = golden(name + "-0.1.0");
        ExperimentAccumulator read = TestSupport.read(old, ExperimentAccumulator::readFrom);
        ExperimentAccumulator now = accumulate(name);
        assertEquals(now.scored(), read.scored());
        assertEquals(now.labelled(), read.labelled());
        assertEquals(now.expired(), read.expired());
        for (int m = 0; m < now.models(); m++) {
            assertEquals(now.errors(m), read.errors(m), "errors of model " + m);
            assertEquals(now.quality(m).count(), read.quality(m).count(), "labelled of model " + m);
        }
        ExperimentAccumulator again =
                TestSupport.read(TestSupport.bytes(read::writeTo), ExperimentAccumulator::readFrom);
        assertArrayEquals(TestSupport.bytes(read::writeTo), TestSupport.bytes(again::writeTo), "rewritten stably");
        long pairsBefore = read.paired(1).count();
        read.merge(now);
        assertEquals(pairsBefore + now.paired(1).count(), read.paired(1).count(), "merges with current state");
    }
}
