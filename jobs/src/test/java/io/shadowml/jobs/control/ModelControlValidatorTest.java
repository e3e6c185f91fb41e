package io.shadowml.jobs.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Decision;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.ModelControlAction;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.validate.DeadLetters;
import io.shadowml.models.ModelDescriptor;

class ModelControlValidatorTest {
    private static final Path SHIPPED = Path.of("../models/shipped/fraud");
    static final long HOUR = 3_600_000L;
    static final long T = 1_767_571_200_000L;

    @TempDir
    Path tmp;

    private static ModelLayout layout() {
        return new ModelLayout(List.of(
                        ModelDescriptor.load(SHIPPED.resolve("live/model.json")),
                        ModelDescriptor.load(SHIPPED.resolve("candidate/model.json"))))
                .withSlots(2);
    }

    private static OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> harness(
            ModelControlValidator validator) throws Exception {
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> h =
                new OneInputStreamOperatorTestHarness<>(validator);
        h.open();
        return h;
    }

    private static OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> harness() throws Exception {
        return harness(new ModelControlValidator("exp", layout(), 2 * HOUR, HOUR / 2));
    }

    /** The shipped candidate renamed, beside a copy of its model. */
    private Path renamed(String name) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve(name));
        Files.copy(SHIPPED.resolve("candidate/model.onnx"), folder.resolve("model.onnx"));
        ObjectNode json = (ObjectNode) new ObjectMapper()
                .readTree(SHIPPED.resolve("candidate/model.json").toFile());
        json.put("name", name);
        Path file = folder.resolve("model.json");
        Files.writeString(file, json.toString());
        return file;
    }

    private static Decoded<ModelControl> record(
            String experiment, ModelControlAction action, String id, Path descriptor, long effective, long offset)
            throws Exception {
        ModelControl c = ModelControl.newBuilder()
                .setExperimentId(experiment)
                .setAction(action)
                .setModelId(id)
                .setDescriptor(descriptor == null ? null : Files.readString(descriptor))
                .setDescriptorFile(descriptor == null ? null : descriptor.toString())
                .setEffectiveTime(Instant.ofEpochMilli(effective))
                .setIssuedAt(Instant.ofEpochMilli(effective))
                .build();
        return Decoded.ok(c, "control", 0, offset, effective, new byte[] {1});
    }

    @Test
    void announcementsChangeTheTableAndWhatCannotBeAppliedIsADeadLetter() throws Exception {
        Path b = renamed("fraud-mlp-b");
        OperatorSubtaskState saved;
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> h = harness();
        try {
            h.processElement(record("exp", ModelControlAction.ADD_CANDIDATE, "fraud-mlp-b:2.0.0", b, T, 0), T);
            h.processElement(record("exp", ModelControlAction.ADD_CANDIDATE, "fraud-mlp-b:2.0.0", b, T + HOUR, 1), T);
            h.processElement(record("other", ModelControlAction.ADD_CANDIDATE, "fraud-mlp-b:2.0.0", b, T, 2), T);
            h.processElement(record("exp", ModelControlAction.SWITCH_LIVE, "nobody:1.0.0", null, T, 3), T);
            h.processElement(record("exp", ModelControlAction.RETIRE_CANDIDATE, "nobody:1.0.0", null, T, 4), T);
            h.processElement(record("exp", ModelControlAction.ADD_CANDIDATE, "fraud-mlp-c:2.0.0", b, T, 5), T);
            h.processElement(Decoded.failed("undecodable", "control", 0, 6, T, null, new byte[] {9}), T);

            List<SlotAssignment> changes = h.extractOutputValues();
            assertEquals(1, changes.size(), "the repeated announcement changes nothing: " + changes);
            assertEquals(2, changes.get(0).slot);
            assertEquals(T, changes.get(0).from);
            List<DeadLetter> dead = h.getSideOutput(DeadLetters.TAG).stream()
                    .map(r -> r.getValue())
                    .toList();
            assertEquals(
                    List.of(2L, 3L, 4L, 5L, 6L),
                    dead.stream().map(DeadLetter::getOffset).toList());
            assertTrue(dead.stream().allMatch(d -> "exp".equals(d.getExperimentId())));
            assertTrue(
                    dead.get(0).getReason().contains("experiment 'other'"),
                    dead.get(0).getReason());
            assertTrue(
                    dead.get(1)
                            .getReason()
                            .contains(
                                    "SWITCH_LIVE nobody:1.0.0 rejected: nobody:1.0.0 is not an active" + " candidate"),
                    dead.get(1).getReason());
            assertTrue(
                    dead.get(2).getReason().contains("not an active candidate"),
                    dead.get(2).getReason());
            assertTrue(
                    dead.get(3).getReason().contains("not the descriptor's name:version"),
                    dead.get(3).getReason());
            // Only a rejected model gets a REJECT verdict, with the same reason.
            List<Verdict> rejected = h.getSideOutput(ModelControlValidator.REJECTED).stream()
                    .map(r -> r.getValue())
                    .toList();
            assertEquals(1, rejected.size());
            assertEquals("fraud-mlp-c:2.0.0", rejected.get(0).getCandidate());
            assertEquals(Decision.REJECT, rejected.get(0).getDecision());
            assertEquals(dead.get(3).getReason(), rejected.get(0).getReasons().get(0));
            saved = h.snapshot(1, T);
        } finally {
            h.close();
        }
        // Restored, the table still holds B: it can be retired, and its release follows the horizon.
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> restored =
                new OneInputStreamOperatorTestHarness<>(new ModelControlValidator("exp", layout(), 2 * HOUR, HOUR / 2));
        try {
            restored.initializeState(saved);
            restored.open();
            long retire = T + 3 * HOUR;
            restored.processElement(
                    record("exp", ModelControlAction.RETIRE_CANDIDATE, "fraud-mlp-b:2.0.0", null, retire, 7), retire);
            SlotAssignment retired = restored.extractOutputValues().get(0);
            assertEquals(2, retired.slot);
            assertEquals(retire, retired.until);
            // Labels until retire + 2 h; expiries settle a 30 min window later; released at that window's end.
            long settled = retire + 2 * HOUR;
            assertEquals(Math.floorDiv(settled, HOUR / 2) * (HOUR / 2) + HOUR, retired.releasedAt);
        } finally {
            restored.close();
        }
    }

    /**
     * A switch goes to the scoring operator as one marker and to the reports as each generation's view; a
     * config that rules switches out, or a candidate with its own sample, turns it into a dead letter.
     */
    @Test
    void aSwitchIsAMarkerForScoringAndAViewPerGenerationForTheReports() throws Exception {
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> h = harness();
        try {
            h.processElement(record("exp", ModelControlAction.SWITCH_LIVE, "fraud-mlp:2.0.0", null, T + 1, 0), T);
            List<SlotAssignment> out = h.extractOutputValues();
            assertEquals(1, out.size());
            assertTrue(out.get(0).liveSwitch);
            assertEquals(1, out.get(0).slot);
            assertEquals(T + HOUR / 2, out.get(0).from, "at the next window start");
            List<String> views = h.getSideOutput(ModelControlValidator.LOGICAL).stream()
                    .map(r -> r.getValue().generation + "/" + r.getValue().slot + " " + r.getValue().modelId)
                    .toList();
            assertEquals(
                    List.of(
                            "0/0 fraud-logreg:1.0.0",
                            "0/1 fraud-mlp:2.0.0",
                            "1/0 fraud-mlp:2.0.0",
                            "1/1 fraud-logreg:1.0.0"),
                    views);
        } finally {
            h.close();
        }
        for (ModelControlValidator ruledOut : List.of(
                new ModelControlValidator("exp", layout(), 2 * HOUR, HOUR / 2)
                        .withSwitchLimits("canary: arms name the models", null),
                new ModelControlValidator("exp", layout(), 2 * HOUR, HOUR / 2)
                        .withSwitchLimits(null, new double[] {1.0, 0.5}))) {
            OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> r = harness(ruledOut);
            try {
                r.processElement(record("exp", ModelControlAction.SWITCH_LIVE, "fraud-mlp:2.0.0", null, T, 0), T);
                assertEquals(List.of(), r.extractOutputValues());
                String reason =
                        r.getSideOutput(DeadLetters.TAG).poll().getValue().getReason();
                assertTrue(reason.contains("canary") || reason.contains("its own sample"), reason);
            } finally {
                r.close();
            }
        }
    }

    /**
     * Restored with b in the YAML in place of the shipped candidate: as soon as it runs, with no control
     * record, the validator retires the candidate and adds b at the effective time, for scoring (physical
     * slots) and for the reports (the generation's view).
     */
    @Test
    void aRestoreWithAnotherCandidateInTheYamlAnnouncesTheChangeWithoutAControlRecord() throws Exception {
        OperatorSubtaskState saved;
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> h = harness();
        try {
            saved = h.snapshot(1, T);
        } finally {
            h.close();
        }
        Path b = renamed("fraud-mlp-b");
        ModelDescriptor bDescriptor = ModelDescriptor.load(b);
        ModelLayout withB = new ModelLayout(
                        List.of(ModelDescriptor.load(SHIPPED.resolve("live/model.json")), bDescriptor))
                .withSlots(2);
        long effective = T + 3 * HOUR;
        OneInputStreamOperatorTestHarness<Decoded<ModelControl>, SlotAssignment> restored =
                new OneInputStreamOperatorTestHarness<>(new ModelControlValidator("exp", withB, 2 * HOUR, HOUR / 2)
                        .withYaml(
                                List.of(new YamlModel(bDescriptor.id(), Files.readString(b), b.toString(), 1.0)),
                                effective));
        try {
            restored.setProcessingTime(0);
            restored.initializeState(saved);
            restored.open();
            assertEquals(List.of(), restored.extractOutputValues(), "sent when the task runs, not before");
            restored.setProcessingTime(1);
            List<String> physical = restored.extractOutputValues().stream()
                    .map(a -> a.slot + " " + a.modelId + " [" + (a.from == Long.MIN_VALUE ? "start" : a.from - T) + ", "
                            + (a.until == SlotAssignment.OPEN ? "open" : a.until - T) + ")")
                    .toList();
            // Retired at +3 h: its labels by +5 h, settled a 30 min window later, released at +6 h.
            assertEquals(
                    List.of(
                            "1 fraud-mlp:2.0.0 [start, " + 3 * HOUR + ")",
                            "2 fraud-mlp-b:2.0.0 [" + 3 * HOUR + ", open)"),
                    physical);
            assertEquals(T + 6 * HOUR, restored.extractOutputValues().get(0).releasedAt);
            List<String> views = restored.getSideOutput(ModelControlValidator.LOGICAL).stream()
                    .map(r -> r.getValue().generation + "/" + r.getValue().slot + " " + r.getValue().modelId)
                    .toList();
            assertEquals(List.of("0/1 fraud-mlp:2.0.0", "0/2 fraud-mlp-b:2.0.0"), views);
            assertTrue(restored.getSideOutput(ModelControlValidator.REJECTED) == null
                    || restored.getSideOutput(ModelControlValidator.REJECTED).isEmpty());
            // Sent once: a checkpoint after it sends nothing again.
            restored.prepareSnapshotPreBarrier(2);
            assertEquals(2, restored.extractOutputValues().size());
        } finally {
            restored.close();
        }
    }
}
