package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * {@link ExperimentAccumulator#clearModel}: a candidate slot's evidence is forgotten, everything else is
 * kept. The expectations never call clearModel: the cleared state is checked against an accumulator given
 * the same events with the candidate absent from every one of them (the slot's next occupant scored none
 * of them), against a new accumulator for the slot's own figures, and against an uncleared copy for
 * everything else; and after clearing, the slot's figures must be those of a new accumulator given only
 * the events that followed.
 */
class ExperimentAccumulatorClearModelTest {
    private static final int CLEARED = 2;
    private static final String[] REGIONS = {"EU", "NA", "APAC", null};
    private static final SegmentSpec SPEC = new SegmentSpec(List.of("region"));

    /** bin0 (live, 0.5), bin1 (0.3), bin2 (0.7); arms prod (bin0) and canary (bin1), with a business metric. */
    private static final ModelLayout BINARY = ArmFixtures.binaryLayout(ArmFixtures.canary(
            1,
            0.05,
            0.01,
            200,
            new CanaryConfig.BusinessMetric("fraud_loss", "amount", CanaryConfig.When.MISSED_POSITIVE, 0)));

    private static final ModelLayout MULTICLASS =
            threeModels("mc", "multiclass", "{\"tensor\":\"p\",\"num_classes\":3}", "");
    private static final ModelLayout REGRESSION = threeModels("reg", "regression", "{\"tensor\":\"y\"}", "");

    private static ModelLayout threeModels(String prefix, String task, String output, String extra) {
        List<ModelDescriptor> d = new ArrayList<>();
        for (int m = 0; m < 3; m++) {
            d.add(TestLayouts.descriptor(prefix + m, task, output, extra));
        }
        return new ModelLayout(d);
    }

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("binary", BINARY),
                Arguments.of("multiclass", MULTICLASS),
                Arguments.of("regression", REGRESSION));
    }

    // ------------------------------------------------------------------ events

    /** One step of a window: an event for {@link ExperimentAccumulator#add}, or for addMatured. */
    private record Step(MetricEvent event, boolean matured) {}

    /**
     * Random events of every kind, with segment values, parity, latencies, failures, model 1 sometimes
     * outside its sample, canary arms when the layout has them, and matured requests and labels. The
     * same seed gives the same events whatever {@code alsoAbsent}, which is set in every event's
     * absent mask.
     */
    private static List<Step> steps(ModelLayout layout, String prefix, long seed, int n, long alsoAbsent) {
        Random rnd = new Random(seed);
        boolean arms = !layout.arms().isEmpty();
        List<Step> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = prefix + i;
            long time = 10_000L * i;
            float[] outputs = outputs(layout, rnd);
            long errorMask = 0;
            int[] latency = new int[layout.models()];
            for (int m = 0; m < layout.models(); m++) {
                if (rnd.nextInt(8) == 0) {
                    errorMask |= 1L << m;
                }
                latency[m] = 1 + rnd.nextInt(5_000);
            }
            long absentMask = (rnd.nextInt(6) == 0 ? 0b010 : 0) | alsoAbsent;
            String[] segments = rnd.nextInt(15) == 0 ? null : new String[] {REGIONS[rnd.nextInt(REGIONS.length)]};
            byte arm = arms ? (byte) (rnd.nextInt(4) - 1) : MetricEvent.NO_ARM; // NO_ARM, 0, 1, 2→unmapped
            if (arm == 2) {
                arm = MetricEvent.UNMAPPED_ARM;
            }
            int kind = rnd.nextInt(20);
            MetricEvent e;
            if (kind < 9) {
                e = MetricEvent.scored(id, time, outputs, errorMask, latency, segments);
                int parity = rnd.nextInt(3);
                e.parity = (byte) parity;
                e.parityDifference = parity == MetricEvent.PARITY_NONE ? 0 : rnd.nextDouble() * 0.2;
            } else if (kind < 17) {
                double label = label(layout, rnd);
                e = layout.task() == Task.BINARY && rnd.nextInt(5) == 0
                        ? MetricEvent.implicitNegative(id, time, outputs, errorMask, segments)
                        : MetricEvent.labelled(
                                id, time, outputs, errorMask, label, time + rnd.nextInt(100_000), segments);
                e.businessValue = arms && rnd.nextBoolean() ? rnd.nextInt(500) : Float.NaN;
            } else {
                byte[] counted = {
                    MetricEvent.EXPIRED,
                    MetricEvent.DEAD_LETTER,
                    MetricEvent.DUPLICATE_LABEL,
                    MetricEvent.UNKNOWN_LABEL,
                    MetricEvent.DUPLICATE_REQUEST,
                    MetricEvent.UNSAMPLED_REQUEST,
                    MetricEvent.UNSAMPLED_LABEL,
                    MetricEvent.ENTITY_SEEN,
                    MetricEvent.ENTITY_MULTI_ARM
                };
                e = MetricEvent.of(counted[rnd.nextInt(counted.length)], id);
            }
            e.absentMask = absentMask;
            e.arm = e.kind == MetricEvent.ENTITY_MULTI_ARM || arm == MetricEvent.UNMAPPED_ARM && !isRequest(e)
                    ? MetricEvent.NO_ARM
                    : arm;
            out.add(new Step(e, false));
            if (isRequest(e) && rnd.nextBoolean()) {
                out.add(new Step(e, true));
            }
        }
        return out;
    }

    private static boolean isRequest(MetricEvent e) {
        return e.kind == MetricEvent.SCORED || e.isLabelled();
    }

    private static float[] outputs(ModelLayout layout, Random rnd) {
        float[] o = new float[layout.width()];
        int slots = layout.slotsPerModel();
        for (int m = 0; m < layout.models(); m++) {
            switch (layout.task()) {
                case MULTICLASS:
                    float sum = 0;
                    for (int k = 0; k < slots; k++) {
                        o[m * slots + k] = rnd.nextFloat() + 0.01f;
                        sum += o[m * slots + k];
                    }
                    for (int k = 0; k < slots; k++) {
                        o[m * slots + k] /= sum;
                    }
                    break;
                case BINARY:
                    o[m] = rnd.nextFloat();
                    break;
                default:
                    o[m] = (float) (rnd.nextGaussian() * 10);
            }
        }
        return o;
    }

    private static double label(ModelLayout layout, Random rnd) {
        switch (layout.task()) {
            case BINARY:
                return rnd.nextInt(2);
            case MULTICLASS:
                return rnd.nextInt(layout.numClasses());
            default:
                return rnd.nextGaussian() * 10;
        }
    }

    private static ExperimentAccumulator accumulate(ExperimentAccumulator acc, ModelLayout layout, List<Step> steps) {
        for (Step s : steps) {
            if (s.matured()) {
                acc.addMatured(s.event(), layout);
            } else {
                acc.add(s.event(), layout);
            }
        }
        return acc;
    }

    private static ExperimentAccumulator accumulate(ModelLayout layout, List<Step> steps) {
        return accumulate(new ExperimentAccumulator(layout, SPEC), layout, steps);
    }

    // ------------------------------------------------------------------ tests

    /**
     * Cleared, the accumulator is byte for byte the one given the same events with candidate 2 absent
     * from all of them: nothing of it left anywhere, nothing else touched.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void clearedEqualsTheSameEventsWithTheCandidateAbsentFromAll(String name, ModelLayout layout) throws IOException {
        ExperimentAccumulator acc = accumulate(layout, steps(layout, "r", 7, 300, 0));
        ExperimentAccumulator neverThere = accumulate(layout, steps(layout, "r", 7, 300, 1L << CLEARED));
        assertHadEvidence(acc, layout.task(), CLEARED);

        acc.clearModel(CLEARED);

        assertArrayEquals(TestSupport.bytes(neverThere::writeTo), TestSupport.bytes(acc::writeTo));
        assertEquals(0, acc.scoredBy(CLEARED));
    }

    /**
     * The slot's figures are a new accumulator's, read through the getters the reports use; every other
     * figure is the uncleared accumulator's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void clearsTheSlotAndKeepsEverythingElse(String name, ModelLayout layout) throws IOException {
        ExperimentAccumulator acc = accumulate(layout, steps(layout, "r", 11, 300, 0));
        ExperimentAccumulator before = accumulate(layout, steps(layout, "r", 11, 300, 0));
        assertHadEvidence(before, layout.task(), CLEARED);

        acc.clearModel(CLEARED);

        assertSlotFresh(acc, new ExperimentAccumulator(layout, SPEC), CLEARED);
        assertAllElseEqual(before, acc, CLEARED);
        ExperimentAccumulator back = TestSupport.roundTrip(acc::writeTo, ExperimentAccumulator::readFrom);
        assertArrayEquals(TestSupport.bytes(acc::writeTo), TestSupport.bytes(back::writeTo));
    }

    /**
     * After clearing, the slot's figures are exactly those of a new accumulator given only the later
     * events, whether they are added to the cleared one or merged into it as a window; the other models'
     * figures are the uncleared ones plus the later events.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void afterClearingTheSlotCountsOnlyWhatFollows(String name, ModelLayout layout) {
        List<Step> earlier = steps(layout, "old", 13, 200, 0);
        List<Step> later = steps(layout, "new", 17, 150, 0);
        ExperimentAccumulator onlyLater = accumulate(layout, later);
        assertHadEvidence(onlyLater, layout.task(), CLEARED);

        // Later events added to the cleared accumulator, as a window's are.
        ExperimentAccumulator added = accumulate(layout, earlier);
        added.clearModel(CLEARED);
        accumulate(added, layout, later);
        assertSlotEqual(onlyLater, added, CLEARED);
        assertAllElseEqual(accumulate(accumulate(layout, earlier), layout, later), added, CLEARED);

        // Later events merged into the cleared accumulator as a window, as the cumulative figures are.
        ExperimentAccumulator merged = accumulate(layout, earlier);
        merged.clearModel(CLEARED);
        merged.merge(accumulate(layout, later));
        assertSlotEqual(onlyLater, merged, CLEARED);
        assertAllElseEqual(accumulate(layout, earlier).merge(accumulate(layout, later)), merged, CLEARED);
    }

    @Test
    void aBinarySlotKeepsItsThreshold() {
        ExperimentAccumulator acc = accumulate(BINARY, steps(BINARY, "r", 3, 100, 0));
        acc.clearModel(CLEARED);
        BinaryQualityAccumulator q = (BinaryQualityAccumulator) acc.quality(CLEARED);
        assertEquals(0, q.count());
        assertEquals(0.7, q.threshold());
        assertEquals(BINARY.threshold(CLEARED), q.threshold());
    }

    /** The canary arms are kept per served_by and model id, not per slot: clearing the slot leaves them. */
    @Test
    void leavesTheCanaryArmsOfTheSlotsModelAlone() {
        ModelLayout layout = ArmFixtures.binaryLayout(ArmFixtures.canary(2, 0.05, 0.01, 200, null));
        ExperimentAccumulator acc = accumulate(layout, steps(layout, "r", 5, 300, 0));
        ExperimentAccumulator before = accumulate(layout, steps(layout, "r", 5, 300, 0));
        ArmEvidence.Arm canary = before.arms().arm("canary", "bin2:1.0.0");
        assertNotNull(canary);
        assertTrue(canary.scored() > 0
                && canary.soFar().labelled() > 0
                && canary.matured().labelled() > 0);

        acc.clearModel(CLEARED);

        assertEquals(before.arms(), acc.arms());
        assertSlotFresh(acc, new ExperimentAccumulator(layout, SPEC), CLEARED);
    }

    @Test
    void onlyACandidateSlotCanBeCleared() {
        ExperimentAccumulator acc = accumulate(MULTICLASS, steps(MULTICLASS, "r", 1, 80, 0));
        ExperimentAccumulator before = accumulate(MULTICLASS, steps(MULTICLASS, "r", 1, 80, 0));
        assertThrows(IllegalArgumentException.class, () -> acc.clearModel(0));
        assertThrows(IllegalArgumentException.class, () -> acc.clearModel(-1));
        assertThrows(IllegalArgumentException.class, () -> acc.clearModel(3));
        assertAllElseEqual(before, acc, -1);
    }

    /** Candidate 1 this time (sometimes outside its sample already), and no segment fields. */
    @Test
    void clearsTheFirstCandidateWithoutSegmentFields() throws IOException {
        List<Step> steps = steps(MULTICLASS, "r", 19, 300, 0);
        List<Step> absent = steps(MULTICLASS, "r", 19, 300, 1L << 1);
        ExperimentAccumulator acc =
                accumulate(new ExperimentAccumulator(MULTICLASS, SegmentSpec.NONE), MULTICLASS, steps);
        ExperimentAccumulator neverThere =
                accumulate(new ExperimentAccumulator(MULTICLASS, SegmentSpec.NONE), MULTICLASS, absent);
        assertTrue(acc.paired(1).count() > 0 && acc.scoredBy(1) > 0 && acc.scoredBy(1) < acc.scored());
        acc.clearModel(1);
        assertArrayEquals(TestSupport.bytes(neverThere::writeTo), TestSupport.bytes(acc::writeTo));
    }

    // ------------------------------------------------------------------ checks

    /** The fixture gives model {@code m} something in every structure, so that clearing it shows. */
    private static void assertHadEvidence(ExperimentAccumulator acc, Task task, int m) {
        assertTrue(acc.errors(m) > 0, "errors");
        assertTrue(acc.scoredBy(m) > 0, "scored by");
        assertTrue(acc.quality(m).count() > 0, "quality");
        assertTrue(acc.disagreement(m).count() > 0, "disagreement");
        assertTrue(acc.paired(m).count() > 0, "paired");
        assertTrue(acc.matured().paired(m).count() > 0, "matured paired");
        long compared = 0;
        long labelled = 0;
        long pairs = 0;
        for (SegmentSlices.Slice s : acc.segments().slices(0).values()) {
            compared += s.compared(m);
            labelled += s.labelled(m);
        }
        for (SegmentSlices.Slice s : acc.matured().segments().slices(0).values()) {
            pairs += s.pairs(m);
        }
        assertTrue(compared > 0 && labelled > 0, "segment figures");
        if (task != Task.REGRESSION) {
            assertTrue(pairs > 0, "matured segment pairs");
        }
    }

    /** Model {@code m}'s figures in {@code acc} are those of the new accumulator {@code fresh}. */
    private static void assertSlotFresh(ExperimentAccumulator acc, ExperimentAccumulator fresh, int m) {
        assertEquals(0, acc.errors(m));
        assertEquals(0, acc.scoredBy(m));
        assertEquals(0, acc.quality(m).count());
        assertEquals(0, acc.disagreement(m).count());
        assertEquals(Double.NaN, acc.disagreement(m).flipRate());
        assertEquals(0, acc.paired(m).count());
        assertEquals(0, acc.matured().paired(m).count());
        assertEquals(fresh.paired(m).classes(), acc.paired(m).classes());
        assertSlotEqual(fresh, acc, m);
        for (SegmentSlices segs : List.of(acc.segments(), acc.matured().segments())) {
            for (SegmentSlices.Slice s : segs.slices(0).values()) {
                assertSliceModel(acc.task(), null, s, m, "slice");
            }
        }
    }

    /** Model {@code m}'s figures are the same in both, segment slices included (those {@code expected} lacks are empty). */
    private static void assertSlotEqual(ExperimentAccumulator expected, ExperimentAccumulator actual, int m) {
        assertEquals(expected.errors(m), actual.errors(m), "errors");
        assertEquals(expected.scoredBy(m), actual.scoredBy(m), "scored by");
        assertEquals(expected.latencyMeanMicros(m), actual.latencyMeanMicros(m), "latency");
        assertEquals(expected.quality(m), actual.quality(m), "quality");
        assertEquals(metrics(expected.quality(m)), metrics(actual.quality(m)), "quality metrics");
        assertEquals(expected.quality(m).reliability(), actual.quality(m).reliability(), "reliability");
        assertSameDisagreement(expected.disagreement(m), actual.disagreement(m));
        assertEquals(expected.paired(m), actual.paired(m), "paired");
        assertEquals(expected.matured().paired(m), actual.matured().paired(m), "matured paired");
        assertSegmentsModel(actual.task(), expected.segments(), actual.segments(), m);
        assertSegmentsModel(
                actual.task(), expected.matured().segments(), actual.matured().segments(), m);
    }

    private static void assertSegmentsModel(Task task, SegmentSlices expected, SegmentSlices actual, int m) {
        Map<String, SegmentSlices.Slice> want = expected.slices(0);
        for (Map.Entry<String, SegmentSlices.Slice> e : actual.slices(0).entrySet()) {
            assertSliceModel(task, want.get(e.getKey()), e.getValue(), m, e.getKey());
        }
        assertTrue(actual.slices(0).keySet().containsAll(want.keySet()), "slices");
    }

    /** Model {@code m}'s figures in slice {@code actual} are those of {@code expected}, or 0 / NaN when null. */
    private static void assertSliceModel(
            Task task, SegmentSlices.Slice expected, SegmentSlices.Slice actual, int m, String key) {
        String what = "slice " + key + " model " + m;
        assertEquals(expected == null ? 0 : expected.labelled(m), actual.labelled(m), what + " labelled");
        if (task == Task.REGRESSION) {
            assertEquals(expected == null ? Double.NaN : expected.mae(m), actual.mae(m), what + " mae");
        } else {
            assertEquals(expected == null ? Double.NaN : expected.accuracy(m), actual.accuracy(m), what + " accuracy");
        }
        if (m > 0) {
            assertEquals(expected == null ? 0 : expected.compared(m), actual.compared(m), what + " compared");
            assertEquals(expected == null ? 0 : expected.flips(m), actual.flips(m), what + " flips");
            assertEquals(
                    expected == null ? Double.NaN : expected.absDiffMean(m),
                    actual.absDiffMean(m),
                    what + " difference");
            assertEquals(expected == null ? 0 : expected.pairs(m), actual.pairs(m), what + " pairs");
            assertEquals(
                    expected == null ? 0 : expected.liveOnlyCorrect(m), actual.liveOnlyCorrect(m), what + " live only");
            assertEquals(
                    expected == null ? 0 : expected.candidateOnlyCorrect(m),
                    actual.candidateOnlyCorrect(m),
                    what + " candidate only");
        }
    }

    /** Everything but model {@code cleared}'s figures is the same in both. */
    private static void assertAllElseEqual(ExperimentAccumulator expected, ExperimentAccumulator actual, int cleared) {
        assertEquals(expected.events(), actual.events(), "events");
        assertEquals(expected.scored(), actual.scored(), "scored");
        assertEquals(expected.labelled(), actual.labelled(), "labelled");
        assertEquals(expected.implicitLabels(), actual.implicitLabels(), "implicit labels");
        assertEquals(expected.expired(), actual.expired(), "expired");
        assertEquals(expected.deadLettered(), actual.deadLettered(), "dead-lettered");
        assertEquals(expected.duplicateLabels(), actual.duplicateLabels(), "duplicate labels");
        assertEquals(expected.unknownLabels(), actual.unknownLabels(), "unknown labels");
        assertEquals(expected.duplicateRequests(), actual.duplicateRequests(), "duplicate requests");
        assertEquals(expected.unsampledRequests(), actual.unsampledRequests(), "unsampled requests");
        assertEquals(expected.unsampledLabels(), actual.unsampledLabels(), "unsampled labels");
        assertEquals(expected.labelCoverage(), actual.labelCoverage(), "label coverage");
        assertEquals(expected.labelDelays(), actual.labelDelays(), "label delays");
        assertEquals(expected.parity(), actual.parity(), "parity");
        assertEquals(expected.arms(), actual.arms(), "arms");
        assertEquals(expected.matured().requests(), actual.matured().requests(), "matured requests");
        assertEquals(expected.matured().labelled(), actual.matured().labelled(), "matured labelled");
        assertEquals(
                expected.segments().slices(0).keySet(),
                actual.segments().slices(0).keySet(),
                "segment values");
        assertEquals(
                expected.matured().segments().slices(0).keySet(),
                actual.matured().segments().slices(0).keySet(),
                "matured segment values");
        for (Map.Entry<String, SegmentSlices.Slice> e :
                expected.segments().slices(0).entrySet()) {
            assertEquals(
                    e.getValue().scored(),
                    actual.segments().slices(0).get(e.getKey()).scored(),
                    "slice scored");
        }
        for (int m = 0; m < expected.models(); m++) {
            if (m == cleared) {
                continue;
            }
            assertEquals(expected.errors(m), actual.errors(m), "errors " + m);
            assertEquals(expected.scoredBy(m), actual.scoredBy(m), "scored by " + m);
            assertEquals(expected.latencyMeanMicros(m), actual.latencyMeanMicros(m), "latency " + m);
            assertEquals(expected.quality(m), actual.quality(m), "quality " + m);
            if (m > 0) {
                assertEquals(expected.disagreement(m), actual.disagreement(m), "disagreement " + m);
                assertEquals(expected.paired(m), actual.paired(m), "paired " + m);
                assertEquals(expected.matured().paired(m), actual.matured().paired(m), "matured paired " + m);
            }
            assertSegmentsModel(actual.task(), expected.segments(), actual.segments(), m);
            assertSegmentsModel(
                    actual.task(),
                    expected.matured().segments(),
                    actual.matured().segments(),
                    m);
        }
    }

    /**
     * The same figures: a KLL sketch merged into an empty one holds the same values in other bytes, so
     * the quantiles are compared rather than the bytes.
     */
    private static void assertSameDisagreement(DisagreementAccumulator expected, DisagreementAccumulator actual) {
        assertEquals(expected.count(), actual.count(), "disagreement count");
        assertEquals(expected.flips(), actual.flips(), "flips");
        assertEquals(expected.flipRate(), actual.flipRate(), "flip rate");
        assertEquals(expected.meanAbsDifference(), actual.meanAbsDifference(), "mean difference");
        assertEquals(expected.maxAbsDifference(), actual.maxAbsDifference(), "max difference");
        assertEquals(expected.sketchN(), actual.sketchN(), "sketch n");
        for (double q = 0; q <= 1.0; q += 0.125) {
            assertEquals(expected.absDifferenceQuantile(q), actual.absDifferenceQuantile(q), "quantile " + q);
        }
    }

    private static Map<String, Double> metrics(QualityAccumulator q) {
        Map<String, Double> out = new HashMap<>();
        q.putMetrics(out);
        return out;
    }
}
