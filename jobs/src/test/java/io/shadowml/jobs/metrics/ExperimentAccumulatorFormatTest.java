package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.report.ReportFactory;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * The on-disk format of {@link ExperimentAccumulator} (checkpoints, savepoints) must not change by
 * accident, and state of release 0.1.0 must stay readable.
 *
 * <ul>
 *   <li>{@code experiment-accumulator-<case>.b64}: the bytes the code of commit cb25a60 (release 0.1.0
 *       format) wrote for the fixed events below. The current code must read them; what it reports from
 *       them is checked against the events themselves (figures whose definition changed since: against
 *       the old definition, computed here).
 *   <li>{@code experiment-accumulator-<case>-v3.b64}: the same events in format 3 (issue 11), still read.
 *   <li>{@code experiment-accumulator-<case>-v5.b64}: the same events in format 5 (issue 15), still read.
 *   <li>{@code experiment-accumulator-<case>-current.b64}: the bytes the current format writes for the
 *       same events, a pin, not a correctness check: a deliberate format change regenerates them with
 *       {@code -Dgolden.write=src/test/resources/io/shadowml/jobs/metrics} (and bumps a version byte and
 *       keeps reading the old one).
 * </ul>
 *
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
                out.add(MetricEvent.labelled(id, 1_000 + i, outputs, errorMask, label, 2_000 + i, values));
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
    void writesThePinnedBytes(String name) throws IOException {
        byte[] written = TestSupport.bytes(accumulate(name)::writeTo);
        String dir = System.getProperty("golden.write");
        if (dir != null) {
            Files.writeString(
                    Path.of(dir, "experiment-accumulator-" + name + "-current.b64"),
                    Base64.getMimeEncoder().encodeToString(written) + "\n");
            return;
        }
        assertArrayEquals(golden(name + "-current"), written);
        ExperimentAccumulator read = TestSupport.read(written, ExperimentAccumulator::readFrom);
        assertArrayEquals(written, TestSupport.bytes(read::writeTo), "written again unchanged");
        ModelLayout layout = layout(name);
        assertEquals(
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, accumulate(name), layout),
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout),
                "the same report");
    }

    /** Parity and implicit labels (format 4) survive a write and a read, and reach the report. */
    @Test
    void parityAndImplicitLabelsRoundTrip() throws IOException {
        ModelLayout layout = layout("binary");
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, SegmentSpec.NONE);
        float[] outputs = new float[layout.width()];
        java.util.Arrays.fill(outputs, 0.3f);
        for (int i = 0; i < 50; i++) {
            MetricEvent e = MetricEvent.scored("p" + i, 1_000 + i, outputs, 0L, new int[layout.models()], null);
            e.parity = i % 10 == 0 ? MetricEvent.PARITY_FLIPPED : MetricEvent.PARITY_SAME_DECISION;
            e.parityDifference = i / 1000.0;
            acc.add(e, layout);
            acc.add(MetricEvent.implicitNegative("p" + i, 1_000 + i, outputs, 0L, null), layout);
        }
        ExperimentAccumulator read = TestSupport.read(TestSupport.bytes(acc::writeTo), ExperimentAccumulator::readFrom);
        ComparisonReport r = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout);
        assertEquals(ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, acc, layout), r);
        assertEquals(50, r.getParity().getCompared());
        assertEquals(5, r.getParity().getFlips());
        assertEquals(0.049, r.getParity().getAbsDiffMax(), 1e-12);
        assertEquals(50, r.getCounts().getImplicitLabels());
        assertEquals(50, r.getCounts().getLabelled());
    }

    /**
     * Label delays and matured evidence (format 5) survive a write and a read and reach the report: the
     * paired section holds the matured pairs only, paired_so_far every pair, counted here by hand.
     */
    @Test
    void labelDelaysAndMaturedEvidenceRoundTrip() throws IOException {
        ModelLayout layout = layout("binary");
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, segments("binary"));
        float[] outputs = new float[layout.width()];
        java.util.Arrays.fill(outputs, 0.8f); // every model says positive
        outputs[1] = 0.2f; // but the first candidate
        long maturedPairs = 0;
        long positivesMatured = 0;
        for (int i = 0; i < 40; i++) {
            double label = i % 4 == 0 ? 1 : 0; // 10 positives, 30 negatives
            long delaySeconds = label == 1 ? 100 + i : i; // positives labelled later
            MetricEvent e = MetricEvent.labelled(
                    "m" + i, 1_000, outputs, 0L, label, 1_000 + delaySeconds * 1000, new String[] {"EU", "web"});
            acc.add(e, layout);
            if (i < 20) {
                acc.addMatured(e, layout);
                maturedPairs++;
                positivesMatured += (long) label;
            }
            acc.addMatured(MetricEvent.scored("m" + i, 1_000, outputs, 0L, new int[layout.models()], null), layout);
        }
        ExperimentAccumulator read = TestSupport.read(TestSupport.bytes(acc::writeTo), ExperimentAccumulator::readFrom);
        ComparisonReport r = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout);
        assertEquals(ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, acc, layout), r);
        assertEquals(40, r.getCounts().getMaturedRequests());
        assertEquals(maturedPairs, r.getCounts().getMaturedLabelled());
        assertEquals(0.5, r.getMetrics().get("matured_label_coverage"));
        PairedTest matured = r.getPaired().get(0);
        assertEquals(maturedPairs, matured.getPairs());
        // Candidate 1 says negative: right on the matured negatives, where live (positive) is wrong.
        assertEquals(maturedPairs - positivesMatured, matured.getCandidateOnlyCorrect());
        assertEquals(positivesMatured, matured.getLiveOnlyCorrect());
        assertEquals(40, r.getPairedSoFar().get(0).getPairs());
        assertEquals(30, r.getPairedSoFar().get(0).getCandidateOnlyCorrect());
        // Delays by class (fewer than 200 values: the KLL sketch is exact). Negatives: 1..39 except
        // multiples of 4, 30 values; positives: 100 + {0, 4, ..., 36}.
        assertEquals(2, r.getLabelDelays().size());
        assertEquals("0", r.getLabelDelays().get(0).getLabelClass());
        assertEquals(30, r.getLabelDelays().get(0).getLabels());
        assertEquals(39.0, r.getLabelDelays().get(0).getP99Seconds());
        assertEquals(10, r.getLabelDelays().get(1).getLabels());
        assertEquals(116.0, r.getLabelDelays().get(1).getP50Seconds()); // 5th of 10: 100 + 16
        assertEquals(136.0, r.getLabelDelays().get(1).getP99Seconds());
    }

    /** Format 3 (before the implicit-label count) reads as the same accumulator, with no implicit labels. */
    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void readsFormat3(String name) throws IOException {
        ExperimentAccumulator read = TestSupport.read(golden(name + "-v3"), ExperimentAccumulator::readFrom);
        assertEquals(0, read.implicitLabels());
        ModelLayout layout = layout(name);
        ComparisonReport fresh = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, accumulate(name), layout);
        // Label delays came with format 5: none in older state.
        assertTrue(fresh.getLabelDelays().size() > 0);
        fresh.setLabelDelays(List.of());
        assertEquals(fresh, ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout));
    }

    /** Format 5 (before the canary arms) reads as the same accumulator, without arm evidence. */
    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void readsFormat5(String name) throws IOException {
        ExperimentAccumulator read = TestSupport.read(golden(name + "-v5"), ExperimentAccumulator::readFrom);
        assertTrue(read.arms().arms().isEmpty());
        assertEquals(0, read.arms().entities());
        ModelLayout layout = layout(name);
        assertEquals(
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, accumulate(name), layout),
                ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout));
    }

    @ParameterizedTest
    @ValueSource(strings = {"binary", "multiclass", "regression"})
    void readsTheBytesOfRelease010(String name) throws IOException {
        ExperimentAccumulator read = TestSupport.read(golden(name), ExperimentAccumulator::readFrom);
        ModelLayout layout = layout(name);
        ComparisonReport fresh = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, accumulate(name), layout);
        ComparisonReport restored = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, read, layout);
        // Figures whose definition did not change are the same.
        assertEquals(withoutChangedFigures(fresh), withoutChangedFigures(restored));
        // The restored sums keep the loss of the events already counted, clipped at 1e-15 then.
        List<MetricEvent> events = events(layout, segments(name));
        for (int m = 0; m < layout.models(); m++) {
            double expected = layout.task() == Task.REGRESSION ? Double.NaN : meanOldLoss(events, layout, m, -1);
            Double got = restored.getQuality().get(m).getMetrics().get("log_loss");
            if (got != null) {
                assertEquals(expected, got, 1e-12 * Math.abs(expected), "log loss, model " + m);
            }
        }
        for (int c = 1; c < layout.models(); c++) {
            // 0.1.0 paired only the requests both models answered.
            long pairs = 0;
            long b = 0;
            long cc = 0;
            for (MetricEvent e : events) {
                if (e.kind == MetricEvent.LABELLED && !e.failed(0) && !e.failed(c)) {
                    pairs++;
                    boolean live = layout.correct(e.outputs, 0, e.label);
                    boolean cand = layout.correct(e.outputs, c, e.label);
                    b += live && !cand ? 1 : 0;
                    cc += cand && !live ? 1 : 0;
                }
            }
            PairedTest restoredPair = restored.getPairedSoFar().get(c - 1);
            assertEquals(pairs, restoredPair.getPairs(), "0.1.0 pairs, candidate " + c);
            assertEquals(b, restoredPair.getLiveOnlyCorrect());
            assertEquals(cc, restoredPair.getCandidateOnlyCorrect());
            double expected = meanOldLoss(events, layout, c, 0);
            assertEquals(
                    expected,
                    restored.getPairedSoFar().get(c - 1).getLossDiffMean(),
                    1e-12 * Math.max(1, Math.abs(expected)),
                    "paired loss difference, candidate " + c);
        }
        if (layout.task() == Task.BINARY) {
            for (int m = 0; m < layout.models(); m++) {
                checkOldBinnedAuc(
                        events, layout, m, restored.getQuality().get(m).getMetrics());
            }
        }
        for (int m = 0; m < layout.models(); m++) {
            assertEquals(List.of(), restored.getQuality().get(m).getCalibration(), "no calibration in 0.1.0 state");
            Double ece = restored.getQuality().get(m).getMetrics().get("ece");
            assertTrue(ece == null || ece.isNaN(), "ece unknown for 0.1.0 state: " + ece);
        }
    }

    /** The 0.1.0 per-event loss: log loss with p clipped to [1e-15, 1 - 1e-15], squared error (unchanged). */
    private static double oldLoss(ModelLayout layout, float[] o, int m, double label) {
        int off = layout.offset(m);
        switch (layout.task()) {
            case BINARY:
                double s = Math.min(Math.max(o[off], 1e-15), 1 - 1e-15);
                return label == 1.0 ? -Math.log(s) : -Math.log(1 - s);
            case MULTICLASS:
                return -Math.log(Math.min(Math.max(o[off + (int) label], 1e-15), 1 - 1e-15));
            default:
                double e = o[off] - label;
                return e * e;
        }
    }

    /**
     * Mean over labelled events of model m's old-clip loss (live < 0), or of m's minus live's over the
     * events both scored (live = 0): what 0.1.0 summed into the quality and paired accumulators.
     */
    private static double meanOldLoss(List<MetricEvent> events, ModelLayout layout, int m, int live) {
        double sum = 0;
        long n = 0;
        for (MetricEvent e : events) {
            if (e.kind != MetricEvent.LABELLED || e.failed(m) || (live >= 0 && e.failed(live))) {
                continue;
            }
            sum += oldLoss(layout, e.outputs, m, e.label) - (live >= 0 ? oldLoss(layout, e.outputs, live, e.label) : 0);
            n++;
        }
        return sum / n;
    }

    /**
     * 0.1.0 kept 1000 equal-width bins; restored, each bin's counts sit at its midpoint, so the AUC and
     * its bound are the old binned ones, and the exact AUC is within that bound.
     */
    private static void checkOldBinnedAuc(List<MetricEvent> events, ModelLayout layout, int m, Map<String, Double> q) {
        List<double[]> pos = new ArrayList<>();
        List<double[]> neg = new ArrayList<>();
        for (MetricEvent e : events) {
            if (e.kind == MetricEvent.LABELLED && !e.failed(m)) {
                double s = e.outputs[m];
                double[] row = {s, Math.min(999, (int) Math.floor(s * 1000))};
                (e.label == 1.0 ? pos : neg).add(row);
            }
        }
        double binnedWins = 0, exactWins = 0, shared = 0;
        for (double[] p : pos) {
            for (double[] n : neg) {
                binnedWins += p[1] > n[1] ? 1 : p[1] == n[1] ? 0.5 : 0;
                exactWins += p[0] > n[0] ? 1 : p[0] == n[0] ? 0.5 : 0;
                shared += p[1] == n[1] ? 1 : 0;
            }
        }
        double pairs = (double) pos.size() * neg.size();
        assertEquals(binnedWins / pairs, q.get("roc_auc"), 1e-12, "old binned AUC, model " + m);
        if (q.containsKey("roc_auc_max_error")) {
            assertEquals(0.5 * shared / pairs, q.get("roc_auc_max_error"), 1e-12, "old bound, model " + m);
            assertTrue(Math.abs(q.get("roc_auc") - exactWins / pairs) <= q.get("roc_auc_max_error") + 1e-12);
        }
    }

    /**
     * The report without the figures whose definition changed since 0.1.0 (loss clip, AUC bins,
     * calibration, pairs with a failed model).
     */
    private static ComparisonReport withoutChangedFigures(ComparisonReport r) {
        ComparisonReport c = ComparisonReport.newBuilder(r).build();
        List<ModelQuality> quality = new ArrayList<>();
        for (ModelQuality q : c.getQuality()) {
            Map<String, Double> metrics = new TreeMap<>(q.getMetrics());
            for (String k :
                    List.of("log_loss", "roc_auc", "roc_auc_max_error", "roc_auc_ci_low", "roc_auc_ci_high", "ece")) {
                metrics.remove(k);
            }
            quality.add(ModelQuality.newBuilder(q)
                    .setMetrics(metrics)
                    .setCalibration(List.of())
                    .build());
        }
        List<PairedTest> paired = new ArrayList<>();
        for (PairedTest p : c.getPairedSoFar()) {
            // Since 0.1.0 a pair is a labelled request either model answered (a failed one is wrong).
            paired.add(PairedTest.newBuilder(p)
                    .setPairs(0)
                    .setLiveOnlyCorrect(0)
                    .setCandidateOnlyCorrect(0)
                    .setMcnemarPValue(0)
                    .setLossDiffMean(0)
                    .setLossDiffCiLow(0)
                    .setLossDiffCiHigh(0)
                    .build());
        }
        c.setQuality(quality);
        c.setPairedSoFar(paired);
        // Label delays came with format 5.
        c.setLabelDelays(List.of());
        return c;
    }
}
