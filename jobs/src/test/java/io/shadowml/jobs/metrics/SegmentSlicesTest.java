package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.report.ReportFactory;
import io.shadowml.jobs.testing.Allocations;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * Per-segment slices of {@link ExperimentAccumulator}: checked against a brute-force count over the raw
 * events (decisions, differences and errors recomputed here from their definitions in jobs/README.md,
 * not with {@link ModelLayout}), through the report keys the job publishes.
 */
class SegmentSlicesTest {
    private static final String[] REGIONS = {"EU", "NA", "APAC", "LATAM", null};
    private static final String[] CHANNELS = {"web", "app", "pos", null};
    private static final double[] BINARY_THRESHOLDS = {0.5, 0.3, 0.7};

    // ------------------------------------------------------------------ fixtures

    private static ModelDescriptor descriptor(String name, String task, String output, String extra) {
        return TestLayouts.descriptor(name, task, output, extra);
    }

    static ModelLayout binaryLayout() {
        List<ModelDescriptor> d = new ArrayList<>();
        for (int m = 0; m < BINARY_THRESHOLDS.length; m++) {
            d.add(descriptor("bin" + m, "binary", "{\"tensor\":\"p\"}", ",\"threshold\":" + BINARY_THRESHOLDS[m]));
        }
        return new ModelLayout(d);
    }

    static ModelLayout multiclassLayout() {
        return new ModelLayout(List.of(
                descriptor("mc0", "multiclass", "{\"tensor\":\"p\",\"num_classes\":3}", ""),
                descriptor("mc1", "multiclass", "{\"tensor\":\"p\",\"num_classes\":3}", "")));
    }

    static ModelLayout regressionLayout() {
        return new ModelLayout(List.of(
                descriptor("reg0", "regression", "{\"tensor\":\"y\"}", ""),
                descriptor("reg1", "regression", "{\"tensor\":\"y\"}", "")));
    }

    /** Random SCORED and LABELLED events with random segment values (some missing, some with no array at all). */
    static List<MetricEvent> randomEvents(ModelLayout layout, int n, Random rnd) {
        List<MetricEvent> out = new ArrayList<>();
        int slots = layout.slotsPerModel();
        for (int i = 0; i < n; i++) {
            float[] outputs = new float[layout.width()];
            for (int m = 0; m < layout.models(); m++) {
                if (layout.task() == Task.MULTICLASS) {
                    float sum = 0;
                    for (int k = 0; k < slots; k++) {
                        outputs[m * slots + k] = rnd.nextFloat() + 0.01f;
                        sum += outputs[m * slots + k];
                    }
                    for (int k = 0; k < slots; k++) {
                        outputs[m * slots + k] /= sum;
                    }
                } else if (layout.task() == Task.BINARY) {
                    // Some scores exactly at a threshold: they count as positive.
                    outputs[m] = rnd.nextInt(10) == 0 ? (float) BINARY_THRESHOLDS[rnd.nextInt(3)] : rnd.nextFloat();
                } else {
                    outputs[m] = (float) (rnd.nextGaussian() * 10);
                }
            }
            long errorMask = 0;
            for (int m = 0; m < layout.models(); m++) {
                if (rnd.nextInt(10) == 0) {
                    errorMask |= 1L << m;
                }
            }
            String[] segments = rnd.nextInt(20) == 0
                    ? null
                    : new String[] {REGIONS[rnd.nextInt(REGIONS.length)], CHANNELS[rnd.nextInt(CHANNELS.length)]};
            int[] latency = new int[layout.models()];
            MetricEvent scored = MetricEvent.scored("r" + i, 1_000 + i, outputs, errorMask, latency, segments);
            if (rnd.nextBoolean()) {
                out.add(scored);
            } else {
                double label = layout.task() == Task.BINARY
                        ? rnd.nextInt(2)
                        : layout.task() == Task.MULTICLASS ? rnd.nextInt(layout.numClasses()) : rnd.nextGaussian() * 10;
                out.add(MetricEvent.labelled(
                        scored.requestId, scored.eventTime, outputs, errorMask, label, scored.eventTime, segments));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ brute force

    /** The expected figures of one (field, value) slice, as plain sums. */
    static final class Expected {
        long scored;
        final long[] compared;
        final long[] flips;
        final double[] absDiff;
        final long[] labelled;
        final long[] correct;
        final double[] absError;
        /** Paired counts per candidate: a failed model is wrong; a pair needs one model that answered. */
        final long[] pairs;

        final long[] liveOnly;
        final long[] candidateOnly;

        Expected(int models) {
            pairs = new long[models];
            liveOnly = new long[models];
            candidateOnly = new long[models];
            compared = new long[models];
            flips = new long[models];
            absDiff = new double[models];
            labelled = new long[models];
            correct = new long[models];
            absError = new double[models];
        }
    }

    private static int decision(ModelLayout layout, float[] o, int m) {
        if (layout.task() == Task.BINARY) {
            return o[m] >= (float) BINARY_THRESHOLDS[m] ? 1 : 0;
        }
        int k = layout.numClasses();
        int best = 0;
        for (int j = 1; j < k; j++) {
            if (o[m * k + j] > o[m * k + best]) {
                best = j;
            }
        }
        return best;
    }

    private static double difference(ModelLayout layout, float[] o, int c) {
        if (layout.task() != Task.MULTICLASS) {
            return Math.abs((double) o[c] - o[0]);
        }
        int k = layout.numClasses();
        double l1 = 0;
        for (int j = 0; j < k; j++) {
            l1 += Math.abs((double) o[c * k + j] - o[j]);
        }
        return l1 / 2;
    }

    /** field -> value ("(none)" for missing) -> expected figures, with no cap. */
    static Map<String, Map<String, Expected>> bruteForce(
            ModelLayout layout, List<String> fields, List<MetricEvent> events) {
        Map<String, Map<String, Expected>> out = new HashMap<>();
        for (String f : fields) {
            out.put(f, new TreeMap<>());
        }
        int models = layout.models();
        for (MetricEvent e : events) {
            for (int f = 0; f < fields.size(); f++) {
                String v = e.segments == null || e.segments[f] == null ? "(none)" : e.segments[f];
                Expected x = out.get(fields.get(f)).computeIfAbsent(v, k -> new Expected(models));
                boolean liveOk = (e.errorMask & 1) == 0;
                if (e.kind == MetricEvent.SCORED) {
                    x.scored++;
                    for (int c = 1; c < models; c++) {
                        if (liveOk && (e.errorMask & (1L << c)) == 0) {
                            x.compared[c]++;
                            if (layout.task() != Task.REGRESSION
                                    && decision(layout, e.outputs, 0) != decision(layout, e.outputs, c)) {
                                x.flips[c]++;
                            }
                            x.absDiff[c] += difference(layout, e.outputs, c);
                        }
                    }
                } else {
                    for (int m = 0; m < models; m++) {
                        if ((e.errorMask & (1L << m)) != 0) {
                            continue;
                        }
                        x.labelled[m]++;
                        if (layout.task() == Task.REGRESSION) {
                            x.absError[m] += Math.abs((double) e.outputs[m] - e.label);
                        } else if (decision(layout, e.outputs, m) == (int) e.label) {
                            x.correct[m]++;
                        }
                    }
                    for (int c = 1; c < models && layout.task() != Task.REGRESSION; c++) {
                        boolean candidateOk = (e.errorMask & (1L << c)) == 0;
                        if (!liveOk && !candidateOk) {
                            continue;
                        }
                        boolean liveRight = liveOk && decision(layout, e.outputs, 0) == (int) e.label;
                        boolean candidateRight = candidateOk && decision(layout, e.outputs, c) == (int) e.label;
                        x.pairs[c]++;
                        x.liveOnly[c] += liveRight && !candidateRight ? 1 : 0;
                        x.candidateOnly[c] += candidateRight && !liveRight ? 1 : 0;
                    }
                }
            }
        }
        return out;
    }

    static double ratio(double num, long den) {
        return den == 0 ? Double.NaN : num / den;
    }

    /** The report's per-segment keys must be exactly the expected ones, with the expected values. */
    static void assertReportMatches(
            ModelLayout layout, Map<String, Map<String, Expected>> expected, ExperimentAccumulator acc) {
        ComparisonReport r = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, acc, layout);
        for (int f = 0; f < acc.segments().fields(); f++) {
            Map<String, Expected> values = expected.get(acc.segments().field(f));
            for (Map.Entry<String, SegmentSlices.Slice> e :
                    acc.segments().slices(f).entrySet()) {
                Expected x = values.get(e.getKey());
                for (int c = 1; c < layout.models(); c++) {
                    String what = e.getKey() + " candidate " + c;
                    assertEquals(x.pairs[c], e.getValue().pairs(c), "pairs " + what);
                    assertEquals(x.liveOnly[c], e.getValue().liveOnlyCorrect(c), "b " + what);
                    assertEquals(x.candidateOnly[c], e.getValue().candidateOnlyCorrect(c), "c " + what);
                }
            }
        }
        Set<String> reportKeys = new HashSet<>();
        for (Map.Entry<String, Map<String, Expected>> f : expected.entrySet()) {
            for (Map.Entry<String, Expected> v : f.getValue().entrySet()) {
                String s = "[" + f.getKey() + "=" + v.getKey() + "]";
                Expected x = v.getValue();
                assertEquals((double) x.scored, r.getMetrics().get("scored" + s), "scored" + s);
                reportKeys.add("scored" + s);
                for (int c = 1; c < layout.models(); c++) {
                    Map<String, Double> d = r.getDisagreement().get(c - 1).getMetrics();
                    assertEquals((double) x.compared[c], d.get("compared" + s), "compared" + s + " candidate " + c);
                    assertEquals(ratio(x.flips[c], x.compared[c]), d.get("flip_rate" + s), 1e-12, "flip_rate" + s);
                    assertEquals(
                            ratio(x.absDiff[c], x.compared[c]), d.get("abs_diff_mean" + s), 1e-9, "abs_diff_mean" + s);
                }
                for (int m = 0; m < layout.models(); m++) {
                    Map<String, Double> q = r.getQuality().get(m).getMetrics();
                    assertEquals((double) x.labelled[m], q.get("labelled" + s), "labelled" + s + " model " + m);
                    if (layout.task() == Task.REGRESSION) {
                        assertEquals(ratio(x.absError[m], x.labelled[m]), q.get("mae" + s), 1e-9, "mae" + s);
                        assertNull(q.get("accuracy" + s));
                    } else {
                        assertEquals(ratio(x.correct[m], x.labelled[m]), q.get("accuracy" + s), 1e-12, "accuracy" + s);
                        assertNull(q.get("mae" + s));
                    }
                }
            }
        }
        // Nothing else is sliced: exactly the expected segment keys, in every map.
        Set<String> scoredKeys = new HashSet<>();
        for (String k : r.getMetrics().keySet()) {
            if (k.contains("[")) {
                scoredKeys.add(k);
            }
        }
        assertEquals(reportKeys, scoredKeys);
        for (int c = 1; c < layout.models(); c++) {
            assertEquals(
                    3 * reportKeys.size(),
                    r.getDisagreement().get(c - 1).getMetrics().size());
        }
        for (int m = 0; m < layout.models(); m++) {
            long sliced = r.getQuality().get(m).getMetrics().keySet().stream()
                    .filter(k -> k.contains("["))
                    .count();
            assertEquals(2 * reportKeys.size(), sliced);
        }
    }

    private static ExperimentAccumulator accumulate(ModelLayout layout, SegmentSpec spec, List<MetricEvent> events) {
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, spec);
        for (MetricEvent e : events) {
            acc.add(e, layout);
        }
        return acc;
    }

    /** Same slices (names and counts exactly, double sums to {@code tol} relative). */
    static void assertSameSlices(SegmentSlices a, SegmentSlices b, double tol) {
        assertEquals(a.fields(), b.fields());
        for (int f = 0; f < a.fields(); f++) {
            assertEquals(a.field(f), b.field(f));
            Map<String, SegmentSlices.Slice> x = a.slices(f);
            Map<String, SegmentSlices.Slice> y = b.slices(f);
            assertEquals(new ArrayList<>(x.keySet()), new ArrayList<>(y.keySet()), "slices of " + a.field(f));
            for (String v : x.keySet()) {
                SegmentSlices.Slice s = x.get(v);
                SegmentSlices.Slice t = y.get(v);
                assertEquals(s.scored, t.scored);
                assertEquals(Arrays.toString(s.compared), Arrays.toString(t.compared));
                assertEquals(Arrays.toString(s.flips), Arrays.toString(t.flips));
                assertEquals(Arrays.toString(s.labelled), Arrays.toString(t.labelled));
                if (s.correct != null) {
                    assertEquals(Arrays.toString(s.correct), Arrays.toString(t.correct));
                } else {
                    for (int m = 0; m < s.absErrorSum.length; m++) {
                        TestSupport.assertClose(s.absErrorSum[m], t.absErrorSum[m], tol, "abs error sum " + v);
                    }
                }
                for (int m = 0; m < s.absDiffSum.length; m++) {
                    TestSupport.assertClose(s.absDiffSum[m], t.absDiffSum[m], tol, "abs diff sum " + v);
                }
            }
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void slicesMatchBruteForceForEveryTask() {
        List<String> fields = List.of("region", "channel");
        SegmentSpec spec = new SegmentSpec(fields);
        for (ModelLayout layout : List.of(binaryLayout(), multiclassLayout(), regressionLayout())) {
            for (int seed = 0; seed < 5; seed++) {
                List<MetricEvent> events = randomEvents(layout, 3_000, new Random(seed));
                ExperimentAccumulator acc = accumulate(layout, spec, events);
                Map<String, Map<String, Expected>> expected = bruteForce(layout, fields, events);
                assertTrue(expected.get("region").containsKey("(none)"), "the data has missing values");
                assertReportMatches(layout, expected, acc);
                // The unsliced figures are untouched by slicing.
                ExperimentAccumulator plain = accumulate(layout, SegmentSpec.NONE, events);
                assertEquals(plain.scored(), acc.scored());
                assertEquals(plain.disagreement(1).flips(), acc.disagreement(1).flips());
                assertNull(plain.segments());
            }
        }
    }

    @Test
    void withoutSegmentFieldsTheReportHasNoSegmentKeys() {
        ModelLayout layout = binaryLayout();
        ExperimentAccumulator acc = accumulate(layout, SegmentSpec.NONE, randomEvents(layout, 200, new Random(1)));
        ComparisonReport r = ReportFactory.report("exp", WindowKind.TUMBLING, 0, 1, acc, layout);
        assertEquals(
                Set.of("label_coverage", "explicit_label_coverage", "matured_label_coverage"),
                r.getMetrics().keySet());
        assertTrue(r.getDisagreement().get(0).getMetrics().isEmpty());
        assertTrue(r.getQuality().get(0).getMetrics().keySet().stream().noneMatch(k -> k.contains("[")));
    }

    @Test
    void mergeEqualsAccumulatingTheUnion() {
        List<String> fields = List.of("region", "channel");
        SegmentSpec spec = new SegmentSpec(fields);
        for (ModelLayout layout : List.of(binaryLayout(), multiclassLayout(), regressionLayout())) {
            Random rnd = new Random(42);
            for (int trial = 0; trial < 5; trial++) {
                List<MetricEvent> events = randomEvents(layout, 2_000, rnd);
                ExperimentAccumulator whole = accumulate(layout, spec, events);
                int parts = 1 + rnd.nextInt(6);
                int[] cuts = TestSupport.randomCuts(events.size(), parts, rnd);
                List<ExperimentAccumulator> partials = new ArrayList<>();
                for (int p = 0; p < parts; p++) {
                    partials.add(accumulate(layout, spec, events.subList(cuts[p], cuts[p + 1])));
                }
                ExperimentAccumulator merged = new ExperimentAccumulator(layout, spec);
                for (int p : TestSupport.shuffledIndexes(parts, rnd)) {
                    merged.merge(partials.get(p));
                }
                assertSameSlices(whole.segments(), merged.segments(), 1e-12);
                assertReportMatches(layout, bruteForce(layout, fields, events), merged);
            }
        }
    }

    @Test
    void mergeRefusesDifferentSegmentFields() {
        ModelLayout layout = binaryLayout();
        ExperimentAccumulator a = new ExperimentAccumulator(layout, new SegmentSpec(List.of("region")));
        assertThrows(
                IllegalArgumentException.class,
                () -> a.merge(new ExperimentAccumulator(layout, new SegmentSpec(List.of("channel")))));
        assertThrows(
                IllegalArgumentException.class, () -> a.merge(new ExperimentAccumulator(layout, SegmentSpec.NONE)));
        assertThrows(
                IllegalArgumentException.class, () -> new ExperimentAccumulator(layout, SegmentSpec.NONE).merge(a));
    }

    @Test
    void mergeReplacingSegmentsRestartsTheSlicesWhenTheFieldsChanged() {
        ModelLayout layout = binaryLayout();
        List<MetricEvent> events = randomEvents(layout, 400, new Random(4));
        SegmentSpec oldSpec = new SegmentSpec(List.of("region", "channel"));
        SegmentSpec newSpec = new SegmentSpec(List.of("channel"));
        ExperimentAccumulator total = accumulate(layout, oldSpec, events.subList(0, 200));
        ExperimentAccumulator window = accumulate(layout, newSpec, events.subList(200, 400));
        assertTrue(total.mergeReplacingSegments(window));
        assertEquals(accumulate(layout, oldSpec, events).scored(), total.scored(), "the unsliced figures still merge");
        assertEquals(window.segments(), total.segments(), "the slices restart from the newer accumulator");
        assertEquals(1, window.segments().fields(), "the argument is left as it was");
        // Same fields: an ordinary merge.
        ExperimentAccumulator a = accumulate(layout, newSpec, events.subList(0, 200));
        assertFalse(a.mergeReplacingSegments(accumulate(layout, newSpec, events.subList(200, 400))));
        assertSameSlices(accumulate(layout, newSpec, events).segments(), a.segments(), 1e-12);
    }

    @Test
    void copyIsIndependent() {
        ModelLayout layout = binaryLayout();
        SegmentSpec spec = new SegmentSpec(List.of("region", "channel"));
        List<MetricEvent> events = randomEvents(layout, 500, new Random(3));
        ExperimentAccumulator a = accumulate(layout, spec, events.subList(0, 250));
        ExperimentAccumulator copy = a.copy();
        assertEquals(a.segments(), copy.segments());
        for (MetricEvent e : events.subList(250, 500)) {
            a.add(e, layout);
        }
        assertSameSlices(accumulate(layout, spec, events.subList(0, 250)).segments(), copy.segments(), 0);
    }

    @Test
    void serialisationRoundTrips() throws IOException {
        SegmentSpec spec = new SegmentSpec(List.of("region", "channel"));
        for (ModelLayout layout : List.of(binaryLayout(), multiclassLayout(), regressionLayout())) {
            List<MetricEvent> events = randomEvents(layout, 1_500, new Random(7));
            // Plus a value beyond ASCII and an empty string, and a capped field.
            events.add(MetricEvent.scored("u", 1, new float[layout.width()], 0, new int[layout.models()], new String[] {
                "Zürich ☃ \uD83D\uDE00", ""
            }));
            ExperimentAccumulator acc = accumulate(layout, spec, events);
            ExperimentAccumulator back = TestSupport.roundTrip(acc::writeTo, ExperimentAccumulator::readFrom);
            assertNotNull(back.segments());
            assertEquals(acc.segments(), back.segments(), "exact state after a round trip");
            assertEquals(acc.segments().hashCode(), back.segments().hashCode());
            assertEquals(acc.scored(), back.scored());
            assertTrue(back.segments().slices(0).containsKey("Zürich ☃ \uD83D\uDE00"));
            assertTrue(back.segments().slices(1).containsKey(""));

            // The same through the Flink serializer the window and report state use.
            DataOutputSerializer out = new DataOutputSerializer(256);
            ExperimentAccumulatorSerializer.INSTANCE.serialize(acc, out);
            ExperimentAccumulator viaFlink = ExperimentAccumulatorSerializer.INSTANCE.deserialize(
                    new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(acc.segments(), viaFlink.segments());

            // And a round-tripped accumulator keeps accumulating like the original.
            MetricEvent more = randomEvents(layout, 1, new Random(8)).get(0);
            acc.add(more, layout);
            back.add(more, layout);
            assertEquals(acc.segments(), back.segments());
        }
        ModelLayout layout = binaryLayout();
        ExperimentAccumulator plain = accumulate(layout, SegmentSpec.NONE, randomEvents(layout, 100, new Random(9)));
        assertNull(TestSupport.roundTrip(plain::writeTo, ExperimentAccumulator::readFrom)
                .segments());
    }

    @Test
    void corruptOrTruncatedInputIsAnIOException() throws IOException {
        ModelLayout layout = binaryLayout();
        ExperimentAccumulator acc = accumulate(
                layout, new SegmentSpec(List.of("region", "channel")), randomEvents(layout, 300, new Random(11)));
        SegmentSlices s = acc.segments();
        byte[] b = TestSupport.bytes(s::writeTo);
        TestSupport.Reader<SegmentSlices> reader = in -> SegmentSlices.readFrom(in, Task.BINARY, 3);
        assertEquals(s, TestSupport.read(b, reader));
        for (int len = 0; len < b.length; len++) {
            byte[] cut = Arrays.copyOf(b, len);
            assertThrows(IOException.class, () -> TestSupport.read(cut, reader), "truncated at " + len);
        }
        byte[] version = b.clone();
        version[0] = 9;
        assertThrows(IOException.class, () -> TestSupport.read(version, reader));
        byte[] accBytes = TestSupport.bytes(acc::writeTo);
        byte[] oldVersion = accBytes.clone();
        oldVersion[0] = 1;
        assertThrows(IOException.class, () -> TestSupport.read(oldVersion, ExperimentAccumulator::readFrom));
    }

    /** Values beyond the cap go to (other); the named ones are the smallest, whatever the order. */
    @Test
    void capKeepsTheSmallestValuesAndSumsTheRestIntoOther() {
        ModelLayout layout = binaryLayout();
        Random rnd = new Random(5);
        List<String> merchants = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            merchants.add(String.format("m%03d", i));
        }
        List<MetricEvent> events = randomEvents(layout, 6_000, rnd);
        for (MetricEvent e : events) {
            String m = rnd.nextInt(30) == 0 ? null : merchants.get(rnd.nextInt(merchants.size()));
            e.segments = new String[] {m};
        }
        List<String> fields = List.of("merchant");
        SegmentSpec spec = new SegmentSpec(fields); // default cap: 50
        assertEquals(50, spec.maxValues());

        // Brute force without the cap, then fold every value after the 50 smallest into (other).
        Map<String, Expected> all = bruteForce(layout, fields, events).get("merchant");
        TreeSet<String> seen = new TreeSet<>(all.keySet());
        seen.remove("(none)");
        assertEquals(120, seen.size());
        List<String> kept = new ArrayList<>(seen).subList(0, 50);
        Map<String, Expected> capped = new TreeMap<>();
        Expected other = new Expected(layout.models());
        for (Map.Entry<String, Expected> e : all.entrySet()) {
            if (e.getKey().equals("(none)") || kept.contains(e.getKey())) {
                capped.put(e.getKey(), e.getValue());
            } else {
                Expected x = e.getValue();
                other.scored += x.scored;
                for (int m = 0; m < layout.models(); m++) {
                    other.compared[m] += x.compared[m];
                    other.flips[m] += x.flips[m];
                    other.absDiff[m] += x.absDiff[m];
                    other.labelled[m] += x.labelled[m];
                    other.correct[m] += x.correct[m];
                    other.pairs[m] += x.pairs[m];
                    other.liveOnly[m] += x.liveOnly[m];
                    other.candidateOnly[m] += x.candidateOnly[m];
                }
            }
        }
        capped.put("(other)", other);
        Map<String, Map<String, Expected>> expected = Map.of("merchant", capped);

        ExperimentAccumulator inOrder = accumulate(layout, spec, events);
        assertEquals(52, inOrder.segments().slices(0).size(), "50 named + (none) + (other)");
        assertReportMatches(layout, expected, inOrder);

        // Any arrival order and any split into merged partials gives the same slices.
        for (int trial = 0; trial < 4; trial++) {
            List<MetricEvent> shuffled = new ArrayList<>(events);
            Collections.shuffle(shuffled, rnd);
            if (trial == 0) {
                shuffled.sort((a, b) -> {
                    String x = a.segments[0] == null ? "" : a.segments[0];
                    String y = b.segments[0] == null ? "" : b.segments[0];
                    return y.compareTo(x); // largest values first: the most evictions
                });
            }
            int parts = 1 + rnd.nextInt(5);
            int[] cuts = TestSupport.randomCuts(shuffled.size(), parts, rnd);
            ExperimentAccumulator merged = new ExperimentAccumulator(layout, spec);
            for (int p = 0; p < parts; p++) {
                merged.merge(accumulate(layout, spec, shuffled.subList(cuts[p], cuts[p + 1])));
            }
            assertSameSlices(inOrder.segments(), merged.segments(), 1e-12);
            assertReportMatches(layout, expected, merged);
        }
    }

    @Test
    void aSmallCapEvictsIntoOther() {
        ModelLayout layout = binaryLayout();
        SegmentSpec spec = new SegmentSpec(List.of("f"), 2);
        ExperimentAccumulator acc = new ExperimentAccumulator(layout, spec);
        float[] o = {0.9f, 0.1f, 0.9f};
        for (String v : new String[] {"d", "c", "d", "b", "a", "(other)", "c", "(none)"}) {
            acc.add(MetricEvent.scored("r", 1, o, 0, new int[3], new String[] {v}), layout);
        }
        Map<String, SegmentSlices.Slice> s = acc.segments().slices(0);
        assertEquals(List.of("a", "b", "(none)", "(other)"), new ArrayList<>(s.keySet()));
        assertEquals(1, s.get("a").scored());
        assertEquals(1, s.get("b").scored());
        assertEquals(1, s.get("(none)").scored());
        assertEquals(5, s.get("(other)").scored(), "d, c, d, literal (other), c");
        assertEquals(5, s.get("(other)").compared(1));
        assertEquals(5, s.get("(other)").flips(1));
        assertEquals(0, s.get("(other)").flips(2));
    }

    @Test
    void specDropsDuplicateFieldsAndExtractsInConfigOrder() {
        SegmentSpec spec = new SegmentSpec(List.of("channel", "region", "channel"));
        assertEquals(List.of("channel", "region"), spec.fields());
        assertEquals(Arrays.asList("web", null), Arrays.asList(spec.extract(Map.of("channel", "web", "x", "y"))));
        assertEquals(Arrays.asList(null, null), Arrays.asList(spec.extract(null)));
        assertNull(SegmentSpec.NONE.extract(Map.of("channel", "web")));
        assertThrows(IllegalArgumentException.class, () -> new SegmentSpec(List.of("a"), 0));
        assertThrows(IllegalArgumentException.class, () -> new SegmentSpec(List.of("")));
    }

    @Test
    void addingToKnownSlicesDoesNotAllocate() {
        SegmentSlices slices = new SegmentSlices(new SegmentSpec(List.of("region", "channel")), Task.BINARY, 3);
        String[][] values = new String[64][];
        Random rnd = new Random(2);
        for (int i = 0; i < values.length; i++) {
            // Fresh String objects, as events deserialized from the network carry.
            String r = REGIONS[rnd.nextInt(REGIONS.length)];
            values[i] = new String[] {r == null ? null : new String(r), CHANNELS[rnd.nextInt(CHANNELS.length)]};
        }
        Runnable run = () -> {
            for (int i = 0; i < 200_000; i++) {
                SegmentSlices.Slice[] s = slices.slicesOf(values[i & 63]);
                for (SegmentSlices.Slice x : s) {
                    x.scored++;
                    x.addCompared(1, (i & 1) == 0, 0.25);
                    x.addLabelled(2, (i & 2) == 0, 0);
                }
            }
        };
        long bytes = Allocations.allocatedBy(run); // the first, warm-up run creates the slices
        assertTrue(bytes < 16_384, "allocated " + bytes + " bytes for 200000 sliced events");
    }
}
