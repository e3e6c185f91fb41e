package io.shadowml.jobs.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.control.ModelTable;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.control.YamlModel;
import io.shadowml.jobs.metrics.ArmFixtures;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.sampling.DeterministicSample;
import io.shadowml.jobs.sampling.SamplingTest;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.OnnxModel;

class MicroBatchScoringOperatorTest {
    private static final Path SHIPPED = Path.of("../models/shipped/fraud");
    private static final Path HOLDOUT = Path.of("../models/data/fraud/holdout.csv");

    private static ModelDescriptor live;
    private static ModelDescriptor candidate;
    /** Reference models, used one row at a time, independently of the operator. */
    private static OnnxModel liveRef;

    private static OnnxModel candidateRef;
    private static List<Request> holdout;

    @BeforeAll
    static void load() throws IOException {
        live = ModelDescriptor.load(SHIPPED.resolve("live/model.json"));
        candidate = ModelDescriptor.load(SHIPPED.resolve("candidate/model.json"));
        liveRef = OnnxModel.load(live);
        candidateRef = OnnxModel.load(candidate);
        holdout = readHoldout(40);
    }

    @AfterAll
    static void closeModels() {
        liveRef.close();
        candidateRef.close();
    }

    private static List<Request> readHoldout(int n) throws IOException {
        List<String> lines = Files.readAllLines(HOLDOUT);
        String[] header = lines.get(0).split(",");
        Map<String, Integer> col = new HashMap<>();
        for (int i = 0; i < header.length; i++) {
            col.put(header[i], i);
        }
        List<Request> out = new ArrayList<>();
        for (int r = 1; r <= n; r++) {
            String[] v = lines.get(r).split(",");
            Map<String, Double> features = new LinkedHashMap<>();
            for (String f : live.featureNames()) {
                features.put(f, Double.parseDouble(v[col.get(f)]));
            }
            out.add(Request.newBuilder()
                    .setRequestId(v[col.get("request_id")])
                    .setEventTime(Instant.ofEpochMilli(Long.parseLong(v[col.get("event_time")])))
                    .setEntityId(v[col.get("entity_id")])
                    .setSegments(Map.of("region", v[col.get("region")], "channel", v[col.get("channel")]))
                    .setFeatures(features)
                    .build());
        }
        return out;
    }

    /** A request the logistic regression scores finitely but the MLP turns into NaN (checked below). */
    private static Request poison() {
        Map<String, Double> features = new LinkedHashMap<>();
        for (String f : live.featureNames()) {
            features.put(f, 3e38);
        }
        return Request.newBuilder()
                .setRequestId("poison")
                .setEventTime(Instant.ofEpochMilli(1_767_571_300_000L))
                .setFeatures(features)
                .build();
    }

    private static float reference(OnnxModel model, Request r) {
        return ReferenceScores.score(model, r);
    }

    private static TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> harness(
            List<ModelDescriptor> models, int maxSize, long maxWaitMillis, double sampleRate) throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                        "exp-1", models, maxSize, maxWaitMillis, 1, sampleRate, SegmentSpec.NONE));
        h.setProcessingTime(0);
        h.open();
        return h;
    }

    private static void feed(TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h, Request r)
            throws Exception {
        h.processElement1(new StreamRecord<>(r, r.getEventTime().toEpochMilli()));
    }

    /** A hold-out row at another event time. */
    private static Request at(Request row, long eventTime) {
        return Request.newBuilder(row)
                .setEventTime(Instant.ofEpochMilli(eventTime))
                .build();
    }

    private static List<MetricEvent> values(TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h) {
        return h.extractOutputValues();
    }

    // ------------------------------------------------------------------ announced candidates

    /** The shipped candidate announced into slot 2 for [from, until), as the control topic's validator emits it. */
    private static SlotAssignment announced(Path descriptorFile, long from, long until) throws IOException {
        SlotAssignment a = new SlotAssignment();
        a.slot = 2;
        a.modelId = "fraud-mlp:2.0.0";
        a.descriptorJson = Files.readString(descriptorFile);
        a.descriptorFile = descriptorFile.toAbsolutePath().toString();
        a.from = from;
        a.until = until;
        return a;
    }

    private static TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> slotHarness()
            throws Exception {
        // Live and one YAML candidate (slot 1), one slot (2) for announced candidates.
        return new TwoInputStreamOperatorTestHarness<>(
                new MicroBatchScoringOperator("exp-1", List.of(live, candidate), 2, 4, 10_000, 1, 0, SegmentSpec.NONE));
    }

    /**
     * A candidate announced for an interval of event time scores exactly the requests in it, with the
     * model's own outputs; on the others its slot is absent. The announcement survives a restore.
     */
    @Test
    void anAnnouncedCandidateScoresTheRequestsOfItsIntervalAndIsRestored() throws Exception {
        long from = holdout.get(3).getEventTime().toEpochMilli();
        long until = holdout.get(9).getEventTime().toEpochMilli();
        assertTrue(holdout.get(2).getEventTime().toEpochMilli() < from
                && holdout.get(8).getEventTime().toEpochMilli() < until);
        OperatorSubtaskState saved;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h = slotHarness();
        try {
            h.open();
            h.processElement2(new StreamRecord<>(announced(SHIPPED.resolve("candidate/model.json"), from, until)));
            for (int i = 0; i < 12; i++) {
                feed(h, holdout.get(i));
            }
            h.processWatermark1(new Watermark(holdout.get(11).getEventTime().toEpochMilli()));
            List<MetricEvent> out = values(h);
            assertEquals(12, out.size());
            for (int i = 0; i < 12; i++) {
                MetricEvent e = out.get(i);
                long t = holdout.get(i).getEventTime().toEpochMilli();
                boolean in = t >= from && t < until;
                assertEquals(in ? 0 : 1L << 2, e.absentMask, "row " + i);
                assertEquals(0, e.errorMask, "row " + i);
                assertEquals(reference(candidateRef, holdout.get(i)), e.outputs[1], 1e-6f, "YAML candidate, row " + i);
                if (in) {
                    assertEquals(reference(candidateRef, holdout.get(i)), e.outputs[2], 1e-6f, "announced, row " + i);
                }
            }
            saved = h.snapshot(1, 0);
        } finally {
            h.close();
        }
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> restored = slotHarness();
        try {
            restored.initializeState(saved);
            restored.open();
            Request inside = at(holdout.get(20), from);
            Request after = at(holdout.get(21), until);
            feed(restored, inside);
            feed(restored, after);
            restored.processWatermark1(new Watermark(until));
            List<MetricEvent> out = values(restored);
            assertEquals(0, out.get(0).absentMask);
            assertEquals(reference(candidateRef, inside), out.get(0).outputs[2], 1e-6f);
            assertEquals(1L << 2, out.get(1).absentMask);
        } finally {
            restored.close();
        }
    }

    private static TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> slotHarness(
            int parallelism, int subtask) throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(
                new MicroBatchScoringOperator("exp-1", List.of(live, candidate), 2, 4, 10_000, 1, 0, SegmentSpec.NONE),
                MAX_PARALLELISM,
                parallelism,
                subtask);
    }

    private static final int MAX_PARALLELISM = 128;

    /** Whether the snapshot holds a union list state (Flink refuses checkpoints of it while part of a vertex finished). */
    private static boolean hasUnionState(OperatorSubtaskState state) {
        return state.getManagedOperatorState().stream()
                .flatMap(h -> h.getStateNameToPartitionOffsets().values().stream())
                .anyMatch(m -> m.getDistributionMode() == OperatorStateHandle.Mode.UNION);
    }

    /** Scores one request at {@code t} on a restored subtask: whether the announced slot 2 scored it, rightly. */
    private static void assertAnnouncedScores(
            TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h, Request template, long t)
            throws Exception {
        Request r = at(template, t);
        feed(h, r);
        h.processWatermark1(new Watermark(t));
        MetricEvent e = values(h).get(0);
        assertEquals(0, e.absentMask);
        assertEquals(reference(candidateRef, r), e.outputs[2], 1e-6f);
    }

    /**
     * The model table is operator state that every subtask writes and every subtask gets back at another
     * parallelism (2 to 3 here), and no union list state: the scoring operator is chained to the requests'
     * source, where a union state makes a stop-with-savepoint without drain fail whenever one source subtask
     * ends its input before it snapshots and another after (Flink's PartialFinishingNotSupportedByStateException).
     */
    @Test
    void theModelTableComesBackToEverySubtaskAtAnotherParallelismWithoutUnionState() throws Exception {
        long from = holdout.get(3).getEventTime().toEpochMilli();
        SlotAssignment a = announced(SHIPPED.resolve("candidate/model.json"), from, SlotAssignment.OPEN);
        OperatorSubtaskState[] saved = new OperatorSubtaskState[2];
        for (int subtask = 0; subtask < 2; subtask++) {
            var h = slotHarness(2, subtask);
            try {
                h.open();
                h.processElement2(new StreamRecord<>(a)); // broadcast: every subtask gets it
                saved[subtask] = h.snapshot(1, 0);
            } finally {
                h.close();
            }
            assertFalse(hasUnionState(saved[subtask]), "subtask " + subtask + " snapshots a union list state");
        }
        OperatorSubtaskState both = AbstractStreamOperatorTestHarness.repackageState(saved);
        for (int subtask = 0; subtask < 3; subtask++) {
            var restored = slotHarness(3, subtask);
            try {
                restored.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(
                        both, MAX_PARALLELISM, 2, 3, subtask));
                restored.open();
                assertAnnouncedScores(restored, holdout.get(20), from);
            } finally {
                restored.close();
            }
        }
    }

    /** What a scoring operator up to 2026-12-03 snapshot: its model table as the union list state "announced-models". */
    private static final class LegacyModelTable extends AbstractStreamOperator<MetricEvent>
            implements OneInputStreamOperator<Request, MetricEvent> {
        private final SlotAssignment row;
        private transient ListState<SlotAssignment> table;

        LegacyModelTable(SlotAssignment row) {
            this.row = row;
        }

        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            table = context.getOperatorStateStore()
                    .getUnionListState(
                            new ListStateDescriptor<>("announced-models", TypeInformation.of(SlotAssignment.class)));
        }

        @Override
        public void snapshotState(StateSnapshotContext context) throws Exception {
            super.snapshotState(context);
            table.update(List.of(row));
        }

        @Override
        public void processElement(StreamRecord<Request> element) {}
    }

    /** A savepoint of the earlier layout (a union list state) still restores the announced models. */
    @Test
    void aModelTableSavedAsUnionStateByAnEarlierVersionIsRestored() throws Exception {
        long from = holdout.get(3).getEventTime().toEpochMilli();
        OperatorSubtaskState saved;
        try (var legacy = new OneInputStreamOperatorTestHarness<Request, MetricEvent>(
                new LegacyModelTable(announced(SHIPPED.resolve("candidate/model.json"), from, SlotAssignment.OPEN)))) {
            legacy.open();
            saved = legacy.snapshot(1, 0);
        }
        assertTrue(hasUnionState(saved), "the legacy snapshot is what it claims");
        var restored = slotHarness();
        try {
            restored.initializeState(saved);
            restored.open();
            assertAnnouncedScores(restored, holdout.get(20), from);
        } finally {
            restored.close();
        }
    }

    /** A SWITCH_LIVE marker as the validator emits it: the model in physical {@code slot} live from {@code from}. */
    private static SlotAssignment liveSwitch(int slot, String modelId, long from, int generation) {
        SlotAssignment a = new SlotAssignment();
        a.slot = slot;
        a.modelId = modelId;
        a.from = from;
        a.generation = generation;
        a.liveSwitch = true;
        return a;
    }

    /**
     * After a switch the new live model's outputs stand in slot 0 and the old live model's in the slot the
     * new one had, each request by the generation of its event time; switching back restores the order. The
     * scored events name the models in their new roles, and the switches survive a restore.
     */
    @Test
    void aSwitchOfTheLiveModelSwapsTheSlotsFromItsEventTime() throws Exception {
        long first = holdout.get(4).getEventTime().toEpochMilli();
        long back = holdout.get(9).getEventTime().toEpochMilli();
        java.util.function.Supplier<TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent>> make =
                () -> {
                    try {
                        return new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                                "exp-1", List.of(live, candidate), 2, 4, 10_000, 1, 1.0, SegmentSpec.NONE));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                };
        OperatorSubtaskState saved;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h = make.get();
        try {
            h.open();
            h.processElement2(new StreamRecord<>(liveSwitch(1, candidate.id(), first, 1)));
            h.processElement2(new StreamRecord<>(liveSwitch(0, live.id(), back, 2))); // its physical slot
            for (int i = 0; i < 12; i++) {
                feed(h, holdout.get(i));
            }
            h.processWatermark1(new Watermark(holdout.get(11).getEventTime().toEpochMilli()));
            List<MetricEvent> out = values(h);
            List<ScoredEvent> scored = h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS).stream()
                    .map(r -> r.getValue())
                    .toList();
            assertEquals(12, out.size());
            int switched = 0;
            for (int i = 0; i < 12; i++) {
                MetricEvent e = out.get(i);
                long t = holdout.get(i).getEventTime().toEpochMilli();
                int generation = t < first ? 0 : t < back ? 1 : 2;
                assertEquals(generation, e.liveGeneration, "row " + i);
                boolean swapped = generation == 1;
                switched += swapped ? 1 : 0;
                float liveScore = reference(liveRef, holdout.get(i));
                float candidateScore = reference(candidateRef, holdout.get(i));
                assertEquals(swapped ? candidateScore : liveScore, e.outputs[0], 1e-6f, "slot 0, row " + i);
                assertEquals(swapped ? liveScore : candidateScore, e.outputs[1], 1e-6f, "slot 1, row " + i);
                assertEquals(1L << 2, e.absentMask, "the empty slot stays absent, row " + i);
                ModelOutput liveOutput = scored.get(i).getOutputs().get(0);
                assertEquals(ModelRole.LIVE, liveOutput.getRole());
                assertEquals(swapped ? candidate.name() : live.name(), liveOutput.getModelName(), "row " + i);
                assertEquals(
                        swapped ? live.name() : candidate.name(),
                        scored.get(i).getOutputs().get(1).getModelName());
            }
            assertTrue(switched > 0 && switched < 12, "rows on both sides of the switches: " + switched);
            saved = h.snapshot(1, 0);
        } finally {
            h.close();
        }
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> restored = make.get();
        try {
            restored.initializeState(saved);
            restored.open();
            Request during = at(holdout.get(20), first);
            feed(restored, during);
            restored.processWatermark1(new Watermark(first));
            MetricEvent e = values(restored).get(0);
            assertEquals(1, e.liveGeneration);
            assertEquals(reference(candidateRef, during), e.outputs[0], 1e-6f);
            assertEquals(reference(liveRef, during), e.outputs[1], 1e-6f);
        } finally {
            restored.close();
        }
    }

    /**
     * Event time and idleness run on the requests alone: the control input, quiet for weeks, neither holds
     * the watermark back nor marks the operator idle.
     */
    @Test
    void theControlInputTakesNoPartInEventTime() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h = slotHarness();
        try {
            h.open();
            h.processWatermark1(new Watermark(1_000));
            h.processWatermarkStatus2(WatermarkStatus.IDLE);
            h.processWatermark2(new Watermark(5_000));
            h.processWatermarkStatus1(WatermarkStatus.IDLE);
            h.processWatermarkStatus1(WatermarkStatus.ACTIVE);
            List<Object> emitted = new ArrayList<>(h.getOutput());
            assertEquals(List.of(new Watermark(1_000), WatermarkStatus.IDLE, WatermarkStatus.ACTIVE), emitted);
        } finally {
            h.close();
        }
    }

    /** A scoring operator of a job whose YAML has {@code candidates}: one more slot, and a control topic. */
    private static TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> yamlHarness(
            List<ModelDescriptor> candidates, long effectiveTime, boolean controlled) throws Exception {
        List<ModelDescriptor> models = new ArrayList<>();
        models.add(live);
        models.addAll(candidates);
        List<YamlModel> yaml = new ArrayList<>();
        for (ModelDescriptor c : candidates) {
            yaml.add(new YamlModel(c.id(), Files.readString(Path.of(c.descriptorFile())), c.descriptorFile(), 1.0));
        }
        return new TwoInputStreamOperatorTestHarness<>(
                new MicroBatchScoringOperator("exp-1", models, 2, 4, 10_000, 1, 0, SegmentSpec.NONE)
                        .withModelTable(2 * 3_600_000L, 1_800_000L, null, yaml, effectiveTime, controlled));
    }

    /**
     * Restored with another candidate in the YAML (b, the shipped candidate's graph under another name, in
     * place of the shipped candidate a): a scores nothing after the restore, b scores exactly the requests
     * from the effective time on, in the first free slot (2), with its model's outputs.
     */
    @Test
    void aRestoreWithAnotherCandidateInTheYamlScoresTheNewOneFromTheEffectiveTimeAndNeverTheDroppedOne(
            @TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("b"));
        Files.copy(SHIPPED.resolve("candidate/model.onnx"), folder.resolve("model.onnx"));
        Files.writeString(
                folder.resolve("model.json"),
                Files.readString(SHIPPED.resolve("candidate/model.json"))
                        .replace("\"" + candidate.name() + "\"", "\"fraud-mlp-b\""));
        ModelDescriptor b = ModelDescriptor.load(folder.resolve("model.json"));
        assertEquals("fraud-mlp-b", b.name());
        long effective = holdout.get(25).getEventTime().toEpochMilli();

        OperatorSubtaskState saved;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> before =
                yamlHarness(List.of(candidate), Long.MIN_VALUE, true);
        try {
            before.open();
            feed(before, holdout.get(0));
            before.processWatermark1(new Watermark(holdout.get(0).getEventTime().toEpochMilli()));
            assertEquals(reference(candidateRef, holdout.get(0)), values(before).get(0).outputs[1], 1e-6f);
            saved = before.snapshot(1, 0);
        } finally {
            before.close();
        }

        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> after =
                yamlHarness(List.of(b), effective, true);
        try {
            after.initializeState(saved);
            after.open();
            for (int i = 20; i < 32; i++) {
                feed(after, holdout.get(i));
            }
            after.processWatermark1(new Watermark(holdout.get(31).getEventTime().toEpochMilli()));
            List<MetricEvent> out = values(after);
            assertEquals(12, out.size());
            for (int i = 0; i < 12; i++) {
                Request r = holdout.get(20 + i);
                MetricEvent e = out.get(i);
                boolean scoredByB = r.getEventTime().toEpochMilli() >= effective;
                assertEquals(scoredByB ? 1L << 1 : (1L << 1) | (1L << 2), e.absentMask, "row " + i);
                assertEquals(0, e.errorMask, "row " + i);
                assertEquals(reference(liveRef, r), e.outputs[0], 1e-6f, "live, row " + i);
                if (scoredByB) {
                    assertEquals(reference(candidateRef, r), e.outputs[2], 1e-6f, "b, row " + i);
                }
            }
            assertTrue(out.stream().anyMatch(e -> e.absentMask == 1L << 1), "b scored some rows");
        } finally {
            after.close();
        }

        // Without a control topic nothing would announce the change to the reports: the restore fails.
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> uncontrolled =
                yamlHarness(List.of(b), effective, false);
        try {
            Exception e = assertThrows(Exception.class, () -> uncontrolled.initializeState(saved));
            ModelTable.IncompatibleRestore cause = findCause(e, ModelTable.IncompatibleRestore.class);
            assertEquals("models.candidates", cause.field);
        } finally {
            uncontrolled.close();
        }
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t, t);
    }

    /** An announced model this TaskManager cannot load errs on the requests of its interval; the job runs on. */
    @Test
    void anAnnouncedModelThatCannotBeLoadedHereErrsOnItsRequestsOnly(@TempDir Path tmp) throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("broken"));
        Files.write(copy.resolve("model.onnx"), new byte[] {1, 2, 3}); // not the file the sha256 names
        Files.copy(SHIPPED.resolve("candidate/model.json"), copy.resolve("model.json"));
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h = slotHarness();
        try {
            h.open();
            h.processElement2(
                    new StreamRecord<>(announced(copy.resolve("model.json"), Long.MIN_VALUE, Long.MAX_VALUE)));
            for (int i = 0; i < 4; i++) {
                feed(h, holdout.get(i));
            }
            List<MetricEvent> out = values(h);
            assertEquals(4, out.size());
            for (int i = 0; i < 4; i++) {
                assertEquals(1L << 2, out.get(i).errorMask, "row " + i);
                assertEquals(0, out.get(i).absentMask);
                assertEquals(reference(liveRef, holdout.get(i)), out.get(i).outputs[0], 1e-6f);
            }
        } finally {
            h.close();
        }
    }

    // ------------------------------------------------------------------ logged outputs

    @Test
    void parityComparesTheOnnxLiveModelWithTheLoggedScore() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 8, 10_000, 0);
        try {
            float[] logged = new float[8];
            for (int i = 0; i < 8; i++) {
                Request r = Request.newBuilder(holdout.get(i)).build();
                float own = reference(liveRef, r);
                // The same score for some rows, slightly off for others, across the threshold for the rest.
                logged[i] = i % 3 == 0 ? own : i % 3 == 1 ? own + 0.001f : (own >= 0.5f ? 0.1f : 0.9f);
                if (i != 7) {
                    r.setProductionScore((double) logged[i]); // row 7 logged nothing: no parity
                }
                feed(h, r);
            }
            List<MetricEvent> out = values(h);
            assertEquals(8, out.size());
            for (int i = 0; i < 7; i++) {
                float own = reference(liveRef, holdout.get(i));
                boolean flipped = (own >= 0.5f) != (logged[i] >= 0.5f);
                MetricEvent e = out.get(i);
                assertEquals(
                        flipped ? MetricEvent.PARITY_FLIPPED : MetricEvent.PARITY_SAME_DECISION, e.parity, "row " + i);
                assertEquals(Math.abs((double) logged[i] - own), e.parityDifference, 1e-6, "row " + i);
                assertEquals(own, e.outputs[0], 1e-6f, "the live output stays the model's own");
            }
            assertEquals(MetricEvent.PARITY_NONE, out.get(7).parity);
        } finally {
            h.close();
        }
    }

    /**
     * With canary arms: each event names the arm its served_by maps to, its logged score is compared with
     * that arm's model (the candidate for the canary), and it carries the business feature's value when
     * finite.
     */
    @Test
    void aCanaryArmsLoggedScoreIsComparedWithTheArmsModel() throws Exception {
        CanaryConfig canary = ArmFixtures.canary(
                1,
                0.05,
                0.01,
                200,
                new CanaryConfig.BusinessMetric("fraud_loss", "loss_amount", CanaryConfig.When.MISSED_POSITIVE, 0));
        ArmLayout arms = ArmLayout.of(canary, new ModelLayout(List.of(live, candidate)));
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                                "exp-1", List.of(live, candidate), 4, 10_000, 1, 0, SegmentSpec.NONE)
                        .withArms(arms));
        h.setProcessingTime(0);
        h.open();
        try {
            String[] servedBy = {"canary", "prod", "elsewhere", null};
            for (int i = 0; i < 4; i++) {
                Request r = Request.newBuilder(holdout.get(i)).build();
                r.setServedBy(servedBy[i]);
                r.setProductionScore((double) reference(candidateRef, r)); // what the candidate answers
                // A feature no model reads; beyond float32 on row 0: left out of the business metric.
                Map<String, Double> features = new HashMap<>(r.getFeatures());
                features.put("loss_amount", i == 0 ? 1e300 : 12.5 * i);
                r.setFeatures(features);
                feed(h, r);
            }
            List<MetricEvent> out = values(h);
            assertEquals(
                    List.of((byte) 1, (byte) 0, MetricEvent.UNMAPPED_ARM, MetricEvent.NO_ARM),
                    out.stream().map(e -> e.arm).toList());
            // Served by the canary: its logged score is the candidate's own, no flip, no difference.
            assertEquals(MetricEvent.PARITY_SAME_DECISION, out.get(0).parity);
            assertEquals(0.0, out.get(0).parityDifference, 1e-6);
            assertTrue(Float.isNaN(out.get(0).businessValue));
            // Served by prod (and with no arm named): the candidate's score against the live model.
            for (int i : new int[] {1, 3}) {
                float liveScore = reference(liveRef, holdout.get(i));
                float candidateScore = reference(candidateRef, holdout.get(i));
                assertEquals(Math.abs(candidateScore - liveScore), out.get(i).parityDifference, 1e-6, "row " + i);
            }
            assertEquals(12.5f, out.get(1).businessValue);
            assertEquals(MetricEvent.PARITY_NONE, out.get(2).parity, "an unknown arm: nothing to compare with");
        } finally {
            h.close();
        }
    }

    @Test
    void aLoggedLiveModelTakesItsOutputsFromTheRequests() throws Exception {
        ModelDescriptor loggedLive = candidate.loggedAs("fraud-gbm", "7.1", 0.4);
        assertTrue(loggedLive.isLogged());
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(loggedLive, candidate), 4, 10_000, 0);
        try {
            double[] scores = {0.05, 0.41, 0.39, Double.NaN};
            for (int i = 0; i < 4; i++) {
                Request r = Request.newBuilder(holdout.get(i)).build();
                if (i < 3) {
                    r.setProductionScore(scores[i]);
                }
                feed(h, r); // row 3: nothing logged
            }
            List<MetricEvent> out = values(h);
            assertEquals(4, out.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(
                        (float) scores[i], out.get(i).outputs[0], "row " + i + ": the logged score is the live output");
                assertEquals(reference(candidateRef, holdout.get(i)), out.get(i).outputs[1], 1e-6f);
                assertEquals(0L, out.get(i).errorMask);
                assertEquals(MetricEvent.PARITY_NONE, out.get(i).parity, "nothing to compare a logged model with");
            }
            assertEquals(1L, out.get(3).errorMask, "no logged score: an error of the live model only");
        } finally {
            h.close();
        }
    }

    // ------------------------------------------------------------------ flushing

    @Test
    void fullBatchFlushesImmediately() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 4, 10_000, 0);
        try {
            for (int i = 0; i < 3; i++) {
                feed(h, holdout.get(i));
            }
            assertEquals(0, values(h).size(), "3 of 4 rows: still buffered");
            feed(h, holdout.get(3));
            List<MetricEvent> out = values(h);
            assertEquals(4, out.size(), "the 4th row fills the batch");
            for (int i = 0; i < 4; i++) {
                assertEquals(holdout.get(i).getRequestId(), out.get(i).requestId, "input order kept");
            }
            feed(h, holdout.get(4));
            assertEquals(4, values(h).size(), "a new batch starts");
        } finally {
            h.close();
        }
    }

    @Test
    void partialBatchFlushesAfterMaxWait() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 64, 50, 0);
        try {
            h.setProcessingTime(1_000);
            feed(h, holdout.get(0));
            h.setProcessingTime(1_020);
            feed(h, holdout.get(1));
            feed(h, holdout.get(2));
            h.setProcessingTime(1_049);
            assertEquals(0, values(h).size(), "the oldest row has waited 49 ms < 50 ms");
            h.setProcessingTime(1_050);
            assertEquals(3, values(h).size(), "the oldest row has waited 50 ms");
            h.setProcessingTime(5_000);
            assertEquals(3, values(h).size(), "each row is emitted once");
        } finally {
            h.close();
        }
    }

    @Test
    void timerOfABatchFlushedWhenFullDoesNotCutTheNextBatchShort() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 2, 100, 0);
        try {
            feed(h, holdout.get(0)); // t = 0: timer at 100
            feed(h, holdout.get(1)); // full: flushed
            assertEquals(2, values(h).size());
            h.setProcessingTime(60);
            feed(h, holdout.get(2)); // new batch: timer at 160
            h.setProcessingTime(100); // the first batch's timer
            assertEquals(2, values(h).size(), "the new batch has waited only 40 ms");
            h.setProcessingTime(160);
            assertEquals(3, values(h).size());
        } finally {
            h.close();
        }
    }

    @Test
    void watermarkFlushesBeforeItIsForwarded() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 64, 10_000, 0);
        try {
            feed(h, holdout.get(0));
            feed(h, holdout.get(1));
            assertTrue(h.getOutput().isEmpty());
            long wm = holdout.get(1).getEventTime().toEpochMilli() + 1;
            h.processWatermark1(new Watermark(wm));
            List<Object> out = new ArrayList<>(h.getOutput());
            assertEquals(3, out.size());
            assertInstanceOf(StreamRecord.class, out.get(0));
            assertInstanceOf(StreamRecord.class, out.get(1));
            assertEquals(new Watermark(wm), out.get(2), "the watermark comes after the buffered records");
            // the records keep their own timestamps, which are not late for that watermark
            assertEquals(holdout.get(0).getEventTime().toEpochMilli(), ((StreamRecord<?>) out.get(0)).getTimestamp());
            assertEquals(holdout.get(1).getEventTime().toEpochMilli(), ((StreamRecord<?>) out.get(1)).getTimestamp());
        } finally {
            h.close();
        }
    }

    @Test
    void checkpointBarrierFlushes() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 64, 10_000, 0);
        try {
            feed(h, holdout.get(0));
            feed(h, holdout.get(1));
            assertEquals(0, values(h).size());
            h.prepareSnapshotPreBarrier(1);
            assertEquals(2, values(h).size());
        } finally {
            h.close();
        }
    }

    @Test
    void endOfInputFlushes() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 64, 10_000, 0);
        feed(h, holdout.get(0));
        feed(h, holdout.get(1));
        feed(h, holdout.get(2));
        assertEquals(0, values(h).size());
        h.endInput1();
        // The operator is not a BoundedMultiInput: the end-of-input flush is finish(), which close() runs
        // (as the task does after the end of input).
        h.close();
        List<MetricEvent> out = values(h);
        assertEquals(3, out.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(holdout.get(i).getRequestId(), out.get(i).requestId);
        }
    }

    // ------------------------------------------------------------------ outputs

    @Test
    void batchedOutputsEqualScoringEachRowAloneAndSampledEventsAreComplete() throws Exception {
        int n = 37; // 4 full batches of 8 and a partial one of 5
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 8, 10_000, 1.0);
        List<StreamRecord<? extends MetricEvent>> records;
        List<StreamRecord<ScoredEvent>> sampled;
        try {
            for (int i = 0; i < n; i++) {
                feed(h, holdout.get(i));
            }
            h.prepareSnapshotPreBarrier(1);
            records = h.extractOutputStreamRecords();
            sampled = new ArrayList<>(h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS));
        } finally {
            h.close();
        }
        assertEquals(n, records.size());
        assertEquals(n, sampled.size(), "sample rate 1.0: one scored event per request");
        int positives = 0;
        for (int i = 0; i < n; i++) {
            Request r = holdout.get(i);
            MetricEvent e = records.get(i).getValue();
            assertEquals(MetricEvent.SCORED, e.kind);
            assertEquals(r.getRequestId(), e.requestId);
            assertEquals(r.getEventTime().toEpochMilli(), e.eventTime);
            assertEquals(r.getEventTime().toEpochMilli(), records.get(i).getTimestamp());
            assertEquals(0L, e.errorMask);
            assertEquals(2, e.outputs.length);
            assertEquals(2, e.latencyMicros.length);
            float l = reference(liveRef, r);
            float c = reference(candidateRef, r);
            assertEquals(l, e.outputs[0], 1e-6, "live output of " + r.getRequestId());
            assertEquals(c, e.outputs[1], 1e-6, "candidate output of " + r.getRequestId());
            positives += l >= 0.5 ? 1 : 0;

            ScoredEvent s = sampled.get(i).getValue();
            assertEquals("exp-1", s.getExperimentId());
            assertEquals(r.getRequestId(), s.getRequestId());
            assertEquals(r.getEventTime(), s.getEventTime());
            assertEquals(r.getEntityId(), s.getEntityId());
            assertEquals(r.getSegments(), s.getSegments());
            assertEquals(2, s.getOutputs().size());
            ModelOutput lo = s.getOutputs().get(0);
            ModelOutput co = s.getOutputs().get(1);
            assertEquals(ModelRole.LIVE, lo.getRole());
            assertEquals("fraud-logreg", lo.getModelName());
            assertEquals("1.0.0", lo.getModelVersion());
            assertEquals(ModelRole.CANDIDATE, co.getRole());
            assertEquals("fraud-mlp", co.getModelName());
            assertEquals("2.0.0", co.getModelVersion());
            assertEquals(l, lo.getScore(), 1e-6);
            assertEquals(c, co.getScore(), 1e-6);
            assertEquals(l >= 0.5 ? 1 : 0, lo.getPredictedClass());
            assertEquals(c >= 0.5 ? 1 : 0, co.getPredictedClass());
            assertNull(lo.getError());
            assertNull(co.getError());
        }
        System.out.println("scoring test: " + positives + " of " + n + " holdout rows are live positives");
    }

    /**
     * A candidate with a sample of its own scores only the requests in it, each as it would alone; the
     * others are absent for it (no output, no error, no disagreement) and the live model scores them all.
     */
    @Test
    void aCandidateWithItsOwnSampleScoresOnlyItsRequests() throws Exception {
        int n = 40;
        double rate = 0.4;
        DeterministicSample own = new DeterministicSample(rate, DeterministicSample.EXPERIMENT_SALT);
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                                "exp-1", List.of(live, candidate), 8, 10_000, 1, 1.0, SegmentSpec.NONE)
                        .withModelSamples(new DeterministicSample[] {null, own}, false));
        List<MetricEvent> events;
        List<StreamRecord<ScoredEvent>> scoredEvents;
        try {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < n; i++) {
                feed(h, holdout.get(i));
            }
            h.prepareSnapshotPreBarrier(1);
            events = values(h);
            scoredEvents = new ArrayList<>(h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS));
        } finally {
            h.close();
        }
        assertEquals(n, events.size());
        int in = 0;
        for (int i = 0; i < n; i++) {
            Request r = holdout.get(i);
            MetricEvent e = events.get(i);
            boolean sampled = SamplingTest.documentedRule(r.getRequestId(), rate, DeterministicSample.EXPERIMENT_SALT);
            assertEquals(0L, e.errorMask, r.getRequestId());
            assertEquals(reference(liveRef, r), e.outputs[0], 1e-6, "live scores every request");
            assertEquals(sampled, !e.absent(1), r.getRequestId());
            ScoredEvent s = scoredEvents.get(i).getValue();
            if (sampled) {
                in++;
                assertEquals(reference(candidateRef, r), e.outputs[1], 1e-6, "candidate output of " + r.getRequestId());
                assertEquals(2, s.getOutputs().size());
                assertEquals(1, s.getDisagreement().size());
            } else {
                assertEquals(1, s.getOutputs().size(), "the absent candidate is left out of the scored event");
                assertEquals(0, s.getDisagreement().size());
            }
        }
        assertTrue(in > 0 && in < n, "some requests in the candidate's sample, some out: " + in);
    }

    @Test
    void sampleRateZeroWritesNoScoredEvents() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 4, 10_000, 0.0);
        try {
            for (int i = 0; i < 4; i++) {
                feed(h, holdout.get(i));
            }
            assertEquals(4, values(h).size());
            assertTrue(h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS) == null
                    || h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS).isEmpty());
        } finally {
            h.close();
        }
    }

    @Test
    void candidateReturningNaNIsIsolated() throws Exception {
        Request poison = poison();
        // Precondition, checked independently of the operator: the MLP gives NaN for this row, the logreg not.
        assertTrue(Float.isNaN(reference(candidateRef, poison)), "the candidate must fail on the poison row");
        float livePoison = reference(liveRef, poison);
        assertTrue(Float.isFinite(livePoison));

        List<Request> inputs = new ArrayList<>(holdout.subList(0, 5));
        inputs.add(2, poison); // in the middle of one batch of 6

        List<MetricEvent> both;
        List<StreamRecord<ScoredEvent>> sampled;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 6, 10_000, 1.0);
        try {
            for (Request r : inputs) {
                feed(h, r);
            }
            both = values(h);
            sampled = new ArrayList<>(h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS));
        } finally {
            h.close();
        }
        List<MetricEvent> liveOnly;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h1 =
                harness(List.of(live), 6, 10_000, 0.0);
        try {
            for (Request r : inputs) {
                feed(h1, r);
            }
            liveOnly = values(h1);
        } finally {
            h1.close();
        }

        assertEquals(6, both.size());
        assertEquals(6, liveOnly.size());
        for (int i = 0; i < 6; i++) {
            MetricEvent e = both.get(i);
            boolean isPoison = inputs.get(i) == poison;
            assertEquals(
                    Float.floatToIntBits(liveOnly.get(i).outputs[0]),
                    Float.floatToIntBits(e.outputs[0]),
                    "live output identical with and without the failing candidate, row " + i);
            assertFalse(e.failed(0), "live never fails");
            assertEquals(isPoison, e.failed(1), "candidate fails exactly on the poison row, row " + i);
            assertEquals(isPoison ? 2L : 0L, e.errorMask);
            if (!isPoison) {
                assertEquals(
                        reference(candidateRef, inputs.get(i)),
                        e.outputs[1],
                        1e-6,
                        "other rows of the same batch keep their candidate output");
            }
        }
        assertEquals(livePoison, both.get(2).outputs[0], 1e-6);

        ScoredEvent s = sampled.get(2).getValue();
        assertEquals("poison", s.getRequestId());
        assertNotNull(s.getOutputs().get(0).getScore());
        assertNull(s.getOutputs().get(0).getError());
        assertNull(s.getOutputs().get(1).getScore());
        assertNull(s.getOutputs().get(1).getPredictedClass());
        assertNotNull(s.getOutputs().get(1).getError());
        assertTrue(
                s.getOutputs().get(1).getError().contains("non-finite"),
                s.getOutputs().get(1).getError());
    }

    // ------------------------------------------------------------------ time budget

    /**
     * A candidate about 10x as expensive as the live model (models/shipped/fraud/slow-candidate) over a
     * 1 ms budget: one batch of 16,384 requests takes it about 25 ms, so the budget stops it. Its rows of
     * that batch are errors with the budget as the reason, and it sits out the next batch; the live
     * model's outputs are exactly those it gives alone.
     */
    @Test
    void aCandidateOverItsTimeBudgetFailsOnlyItsOwnRows() throws Exception {
        ModelDescriptor slow = ModelDescriptor.load(SHIPPED.resolve("slow-candidate/model.json"));
        int rows = 16_384;
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                                "exp-1", List.of(live, slow), rows, 10_000, 1, 1.0, SegmentSpec.NONE)
                        .withCandidateTimeBudget(Duration.ofMillis(1)));
        h.setProcessingTime(0);
        h.open();
        List<Request> inputs = new ArrayList<>();
        try {
            for (int i = 0; i < rows + 3; i++) {
                Request r = Request.newBuilder(holdout.get(i % holdout.size()))
                        .setRequestId("budget-" + i)
                        .build();
                inputs.add(r);
                feed(h, r); // the 16,384th flushes the full batch; 3 more wait for the next flush
            }
            h.processWatermark1(new Watermark(Long.MAX_VALUE - 1));
            List<MetricEvent> out = values(h);
            assertEquals(rows + 3, out.size());
            for (int i = 0; i < out.size(); i++) {
                MetricEvent e = out.get(i);
                assertFalse(e.failed(0), "live never fails");
                assertTrue(e.failed(1), "row " + i + ": the candidate was stopped, then sat out a batch");
                if (i % 1000 == 0 || i >= rows) {
                    assertEquals(reference(liveRef, inputs.get(i)), e.outputs[0], 1e-6, "live output, row " + i);
                }
            }
            List<ScoredEvent> scored = new ArrayList<>();
            h.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS).forEach(r -> scored.add(r.getValue()));
            assertEquals(rows + 3, scored.size());
            String first = scored.get(0).getOutputs().get(1).getError();
            assertTrue(first.startsWith("over its time budget of 1.0 ms"), first);
            String later = scored.get(rows).getOutputs().get(1).getError();
            assertTrue(later.startsWith("skipped: over its time budget"), later);
            assertNull(scored.get(rows).getOutputs().get(0).getError());
        } finally {
            h.close();
        }
    }

    // ------------------------------------------------------------------ segments

    @Test
    void scoredEventsCarryTheConfiguredSegmentValuesInConfigOrder() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                new TwoInputStreamOperatorTestHarness<>(new MicroBatchScoringOperator(
                        "exp-1",
                        List.of(live, candidate),
                        8,
                        10_000,
                        1,
                        0,
                        new SegmentSpec(List.of("channel", "tier", "region"))));
        h.setProcessingTime(0);
        h.open();
        try {
            Request noSegments = Request.newBuilder(holdout.get(1))
                    .setRequestId("no-segments")
                    .setSegments(Map.of())
                    .build();
            feed(h, holdout.get(0));
            feed(h, noSegments);
            h.processWatermark1(new Watermark(Long.MAX_VALUE - 1));
            List<MetricEvent> out = values(h);
            assertEquals(2, out.size());
            Map<String, String> first = holdout.get(0).getSegments();
            assertArrayEquals(new String[] {first.get("channel"), null, first.get("region")}, out.get(0).segments);
            assertArrayEquals(new String[] {null, null, null}, out.get(1).segments);
        } finally {
            h.close();
        }
    }

    @Test
    void withoutSegmentFieldsEventsCarryNoSegments() throws Exception {
        TwoInputStreamOperatorTestHarness<Request, SlotAssignment, MetricEvent> h =
                harness(List.of(live, candidate), 1, 10_000, 0);
        try {
            feed(h, holdout.get(0));
            assertNull(values(h).get(0).segments);
        } finally {
            h.close();
        }
    }
}
