package io.shadowml.jobs.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.TestLayouts;
import io.shadowml.models.ModelDescriptor;

class ModelTableTest {
    static final long MIN = 60_000;
    static final long HOUR = 60 * MIN;
    static final long WINDOW = 10 * MIN;
    static final long HORIZON = 2 * HOUR;

    /** Live bin0 and candidate bin1 (both at 0.5), two more slots. */
    private static ModelTable table() {
        ModelLayout layout = TestLayouts.binary(0.5, 0.5).withSlots(3);
        return ModelTable.initial(layout, HORIZON, WINDOW);
    }

    private static ModelDescriptor binary(String name, double threshold) {
        return TestLayouts.descriptor(name, "binary", "{\"tensor\":\"p\"}", ",\"threshold\":" + threshold);
    }

    @Test
    void anAnnouncedCandidateTakesTheFirstFreeSlotFromItsEffectiveTime() throws Exception {
        ModelTable t = table();
        SlotAssignment a = t.add(binary("new", 0.5), "{json}", "/models/new/model.json", 5 * HOUR);
        assertEquals(2, a.slot);
        assertEquals(5 * HOUR, a.from);
        assertEquals(SlotAssignment.OPEN, a.until);
        assertTrue(a.scores(5 * HOUR) && !a.scores(5 * HOUR - 1));
        assertEquals(3, t.add(binary("other", 0.5), "{json}", "/f", HOUR).slot);
        // All three slots hold active candidates now.
        ModelTable.Rejected full =
                assertThrows(ModelTable.Rejected.class, () -> t.add(binary("fourth", 0.5), "{json}", "/f", HOUR));
        assertTrue(full.getMessage().contains("no free candidate slot"), full.getMessage());
        // The same model announced again (compaction replay, a retried write): nothing changes.
        assertNull(t.add(binary("new", 0.5), "{json}", "/f", 9 * HOUR));
    }

    @Test
    void aRetiredCandidatesSlotIsFreeOnlyOnceItsLastEvidenceIsIn() throws Exception {
        ModelTable t = table();
        t.add(binary("x", 0.5), "{json}", "/f", HOUR);
        t.add(binary("y", 0.5), "{json}", "/f", HOUR);
        // Retired at 3:05: its last labels by 5:05, its last expiries settle a window later (before 5:15),
        // in the window ending 5:20: released then.
        SlotAssignment retired = t.retire("x:1.0.0", 3 * HOUR + 5 * MIN);
        assertEquals(3 * HOUR + 5 * MIN, retired.until);
        assertEquals(5 * HOUR + 20 * MIN, retired.releasedAt);
        // Announced before the release: it waits for it, in that slot.
        SlotAssignment z = t.add(binary("z", 0.5), "{json}", "/f", 4 * HOUR);
        assertEquals(retired.slot, z.slot);
        assertEquals(5 * HOUR + 20 * MIN, z.from);
        assertThrows(ModelTable.Rejected.class, () -> t.retire("x:1.0.0", 6 * HOUR));
    }

    @Test
    void aCandidateOfTheYamlCanBeRetiredAndAnnouncementsThatCannotBeComparedAreRejected() throws Exception {
        ModelTable t = table();
        SlotAssignment yaml = t.retire("bin1:1.0.0", 2 * HOUR);
        assertEquals(1, yaml.slot);
        assertEquals(Long.MIN_VALUE, yaml.from);
        assertThrows(ModelTable.Rejected.class, () -> t.retire("bin0:1.0.0", HOUR)); // the live model
        assertThrows(ModelTable.Rejected.class, () -> t.add(binary("bin0", 0.5), "{j}", "/f", HOUR));
        ModelTable.Rejected threshold =
                assertThrows(ModelTable.Rejected.class, () -> t.add(binary("t", 0.7), "{j}", "/f", HOUR));
        assertTrue(threshold.getMessage().contains("threshold 0.7"), threshold.getMessage());
        ModelDescriptor multiclass =
                TestLayouts.descriptor("mc", "multiclass", "{\"tensor\":\"p\",\"num_classes\":3}", "");
        assertThrows(ModelTable.Rejected.class, () -> t.add(multiclass, "{j}", "/f", HOUR));
    }

    @Test
    void aRestoredTableIsTheTableItWasSavedFrom() throws Exception {
        ModelTable t = table();
        t.add(binary("x", 0.5), "{json}", "/f", HOUR);
        t.retire("bin1:1.0.0", 2 * HOUR);
        List<SlotAssignment> saved = t.assignments();
        ModelTable restored = ModelTable.restored(TestLayouts.binary(0.5, 0.5).withSlots(3), HORIZON, WINDOW, saved);
        assertEquals(saved, restored.assignments());
        // Both go on the same way.
        assertEquals(
                t.add(binary("y", 0.5), "{j}", "/f", 3 * HOUR), restored.add(binary("y", 0.5), "{j}", "/f", 3 * HOUR));
    }

    /** A binary model "name:1.0.0" of a YAML, at {@code threshold}, scoring {@code rate} of the traffic. */
    private static YamlModel yaml(String name, double threshold, double rate) {
        return new YamlModel(
                name + ":1.0.0",
                TestLayouts.json(name, "binary", "{\"tensor\":\"p\"}", ",\"threshold\":" + threshold),
                TestLayouts.file(name).toString(),
                rate);
    }

    /** The layout of a YAML: the live model "live" at 0.5, then {@code candidates}, with {@code slots} slots. */
    private static ModelLayout layoutOf(int slots, YamlModel... candidates) {
        List<ModelDescriptor> models = new ArrayList<>();
        models.add(binary("live", 0.5));
        for (YamlModel c : candidates) {
            models.add(c.descriptor());
        }
        return new ModelLayout(models).withSlots(slots);
    }

    @Test
    void aRestoreWithAnotherYamlRetiresTheCandidatesItDroppedAndAddsItsNewOnesAtItsEffectiveTime() throws Exception {
        YamlModel a = yaml("a", 0.5, 1);
        YamlModel b = yaml("b", 0.5, 1);
        YamlModel c = yaml("c", 0.5, 1);
        ModelTable before = ModelTable.initial(layoutOf(4, a, b), HORIZON, WINDOW);
        SlotAssignment x = before.add(binary("x", 0.5), "{json}", "/f", HOUR); // announced: the first free slot, 3

        // Restored with the YAML [b, c]: b moved up one place, a is gone, c is new.
        ModelTable t = ModelTable.restored(layoutOf(4, b, c), HORIZON, WINDOW, before.assignments());
        assertTrue(t.yamlChanged());
        List<ModelTable.Reconciled> changes = t.reconcile(List.of(b, c), 5 * HOUR);
        assertEquals(2, changes.size(), changes.toString());
        // a retired at 5:00 in the slot it always had: labels by 7:00, settled before 7:10, released 7:20.
        SlotAssignment retiredA = changes.get(0).physical;
        assertEquals("a:1.0.0", retiredA.modelId);
        assertEquals(1, retiredA.slot);
        assertEquals(5 * HOUR, retiredA.until);
        assertEquals(7 * HOUR + 20 * MIN, retiredA.releasedAt);
        // c: slot 1 drains a, 2 holds b, 3 holds x; 4 was never used.
        SlotAssignment addedC = changes.get(1).physical;
        assertEquals("c:1.0.0", addedC.modelId);
        assertEquals(4, addedC.slot);
        assertEquals(5 * HOUR, addedC.from);
        assertEquals(
                TestLayouts.json("c", "binary", "{\"tensor\":\"p\"}", ",\"threshold\":0.5"), addedC.descriptorJson);
        // b and x keep their slots.
        assertEquals("b:1.0.0", t.slot(2).modelId);
        assertEquals(SlotAssignment.OPEN, t.slot(2).until);
        assertEquals(x, t.slot(3));

        // Restored once more with the same YAML: nothing more changes, even after c was retired on the topic.
        t.retire("c:1.0.0", 6 * HOUR);
        ModelTable again = ModelTable.restored(layoutOf(4, b, c), HORIZON, WINDOW, t.assignments());
        assertFalse(again.yamlChanged());
        assertEquals(List.of(), again.reconcile(List.of(b, c), 8 * HOUR));
        assertEquals(t.assignments(), again.assignments());
    }

    @Test
    void aNewCandidateOfTheYamlTakesOnlyASlotThatDecidesAndSamplesAsItDoes() throws Exception {
        YamlModel a = yaml("a", 0.5, 1);
        ModelTable before = ModelTable.initial(layoutOf(3, a), HORIZON, WINDOW);

        // d decides at 0.7: in this YAML its place, slot 2, does; slot 3 decides at the live model's 0.5.
        YamlModel d = yaml("d", 0.7, 1);
        ModelTable t = ModelTable.restored(layoutOf(3, a, d), HORIZON, WINDOW, before.assignments());
        SlotAssignment addedD = t.reconcile(List.of(a, d), 2 * HOUR).get(0).physical;
        assertEquals(2, addedD.slot);

        // e scores a sample of 0.3, first in the YAML: its place, slot 1, still holds a; 2 and 3 sample all.
        YamlModel e = yaml("e", 0.5, 0.3);
        ModelTable sampled = ModelTable.restored(layoutOf(3, e, a), HORIZON, WINDOW, before.assignments())
                .withSampleRates(new double[] {1, 0.3, 1, 1});
        List<ModelTable.Reconciled> refused = sampled.reconcile(List.of(e, a), 2 * HOUR);
        assertEquals(1, refused.size());
        assertEquals("e:1.0.0", refused.get(0).modelId);
        assertNull(refused.get(0).physical);
        assertTrue(refused.get(0).rejection.contains("candidate_sample_rates"), refused.get(0).rejection);
        assertEquals("a:1.0.0", sampled.slot(1).modelId);
    }

    @Test
    void aRestoreThatCouldNotCountTheSavedEvidenceCorrectlyFailsWithTheField() throws Exception {
        YamlModel a = yaml("a", 0.5, 1);
        List<SlotAssignment> saved =
                ModelTable.initial(layoutOf(2, a), HORIZON, WINDOW).assignments();

        ModelDescriptor otherLive = binary("other", 0.5);
        ModelLayout newLive = new ModelLayout(List.of(otherLive, a.descriptor())).withSlots(2);
        ModelTable.IncompatibleRestore live = assertThrows(
                ModelTable.IncompatibleRestore.class, () -> ModelTable.restored(newLive, HORIZON, WINDOW, saved));
        assertEquals("models.live", live.field);

        ModelTable.IncompatibleRestore slots = assertThrows(
                ModelTable.IncompatibleRestore.class,
                () -> ModelTable.restored(layoutOf(3, a), HORIZON, WINDOW, saved));
        assertEquals("models.candidate_slots", slots.field);

        // f at 0.7 put first: slot 1, where a is still compared at 0.5, would decide at 0.7.
        YamlModel f = yaml("f", 0.7, 1);
        ModelTable moved = ModelTable.restored(layoutOf(2, f, a), HORIZON, WINDOW, saved);
        ModelTable.IncompatibleRestore threshold =
                assertThrows(ModelTable.IncompatibleRestore.class, () -> moved.reconcile(List.of(f, a), 2 * HOUR));
        assertEquals("models.candidates", threshold.field);
        assertTrue(threshold.getMessage().contains("a:1.0.0"), threshold.getMessage());

        // Once a is released (retired at 1:00, released 3:20), the slot may decide at another threshold.
        ModelTable retired = ModelTable.initial(layoutOf(2, a), HORIZON, WINDOW);
        retired.retire("a:1.0.0", HOUR);
        ModelTable later = ModelTable.restored(layoutOf(2, f), HORIZON, WINDOW, retired.assignments());
        SlotAssignment addedF = later.reconcile(List.of(f), 3 * HOUR + 20 * MIN).get(0).physical;
        assertEquals(1, addedF.slot);
        assertEquals(3 * HOUR + 20 * MIN, addedF.from);
    }

    @Test
    void aTableSavedBeforeItKeptItsYamlIsTakenAsOfTheYamlItIsRestoredWith() throws Exception {
        YamlModel a = yaml("a", 0.5, 1);
        YamlModel b = yaml("b", 0.5, 1);
        List<SlotAssignment> legacy = new ArrayList<>();
        for (SlotAssignment row :
                ModelTable.initial(layoutOf(2, a), HORIZON, WINDOW).assignments()) {
            if (!row.yamlRow) {
                legacy.add(row);
            }
        }
        ModelTable t = ModelTable.restored(layoutOf(2, b), HORIZON, WINDOW, legacy);
        assertFalse(t.yamlChanged());
        assertEquals(List.of(), t.reconcile(List.of(b), HOUR));
    }

    /** Logical assignments by generation and slot, "model [from, until) released": what an assembler sees. */
    private static String describe(List<SlotAssignment> logical) {
        StringBuilder b = new StringBuilder();
        for (SlotAssignment a : logical) {
            b.append(a.generation)
                    .append('/')
                    .append(a.slot)
                    .append(' ')
                    .append(a.modelId)
                    .append(" [")
                    .append(a.from / MIN)
                    .append(',')
                    .append(a.until == SlotAssignment.OPEN ? "open" : Long.toString(a.until / MIN))
                    .append(")")
                    .append(a.releasedAt == SlotAssignment.OPEN ? "" : " released " + a.releasedAt / MIN)
                    .append('\n');
        }
        return b.toString();
    }

    @Test
    void aSwitchStartsALiveGenerationAndSwappingBackIsTheSameSwap() throws Exception {
        ModelTable t = table();
        assertEquals(2, t.add(binary("x", 0.5), "{json}", "/f", HOUR).slot);

        // At the first window start at or after 3h05: 3h10. Released: labels by 5h10, settled by 5h20, so 5h30.
        ModelTable.LiveSwitch s = t.switchLive("x:1.0.0", 3 * HOUR + 5 * MIN);
        assertEquals(2, s.marker.slot);
        assertEquals(1, s.marker.generation);
        assertEquals(190 * MIN, s.marker.from);
        assertTrue(s.marker.liveSwitch);
        assertEquals(
                "0/0 bin0:1.0.0 [-153722867280912,190) released 330\n"
                        + "0/1 bin1:1.0.0 [-153722867280912,190) released 330\n"
                        + "0/2 x:1.0.0 [60,190) released 330\n"
                        // Generation 1: x live, the old live bin0 a candidate in x's slot.
                        + "1/0 x:1.0.0 [190,open)\n"
                        + "1/1 bin1:1.0.0 [190,open)\n"
                        + "1/2 bin0:1.0.0 [190,open)\n",
                describe(s.logical));
        assertEquals(1, t.generation());
        assertEquals("x:1.0.0", t.liveModel());

        assertThrows(ModelTable.Rejected.class, () -> t.retire("x:1.0.0", 4 * HOUR));
        SlotAssignment old = t.retire("bin0:1.0.0", 4 * HOUR);
        assertEquals(0, old.slot); // physically where it always was
        assertEquals("1/2 bin0:1.0.0 [190,240) released 380\n", describe(List.of(t.logical(old))));

        // A slot never used is free at once; bin0's is still draining its generation-1 evidence.
        SlotAssignment y = t.add(binary("y", 0.5), "{json}", "/f", 4 * HOUR);
        assertEquals(3, y.slot);
        assertEquals("1/3 y:1.0.0 [240,open)\n", describe(List.of(t.logical(y))));

        // Back to a model the job started with: generation 2.
        ModelTable.LiveSwitch back = t.switchLive("bin1:1.0.0", 5 * HOUR);
        assertEquals(1, back.marker.slot);
        assertEquals(
                "1/0 x:1.0.0 [190,300) released 440\n"
                        + "1/1 bin1:1.0.0 [190,300) released 440\n"
                        + "1/3 y:1.0.0 [240,300) released 440\n"
                        + "2/0 bin1:1.0.0 [300,open)\n"
                        + "2/1 x:1.0.0 [300,open)\n"
                        + "2/3 y:1.0.0 [300,open)\n",
                describe(back.logical));

        // bin0 stopped scoring before generation 2 began: its slot is free from the generation's start.
        SlotAssignment z = t.add(binary("z", 0.5), "{json}", "/f", 4 * HOUR);
        assertEquals(0, z.slot);
        assertEquals(300 * MIN, z.from);
        assertEquals("2/2 z:1.0.0 [300,open)\n", describe(List.of(t.logical(z))));

        // The table's state brings all of it back.
        ModelTable restored =
                ModelTable.restored(TestLayouts.binary(0.5, 0.5).withSlots(3), HORIZON, WINDOW, t.assignments());
        assertEquals(2, restored.generation());
        assertEquals("bin1:1.0.0", restored.liveModel());
        assertEquals(300 * MIN, restored.generationStart());
        assertEquals(
                describe(t.switchLive("y:1.0.0", 6 * HOUR).logical),
                describe(restored.switchLive("y:1.0.0", 6 * HOUR).logical));
    }

    @Test
    void aSwitchThatCannotBeReportedApartIsRejected() throws Exception {
        ModelTable t = table();
        t.add(binary("later", 0.5), "{json}", "/f", 5 * HOUR);
        ModelTable.Rejected notYet =
                assertThrows(ModelTable.Rejected.class, () -> t.switchLive("later:1.0.0", 4 * HOUR));
        assertTrue(notYet.getMessage().contains("scores only from"), notYet.getMessage());
        ModelTable.Rejected pending =
                assertThrows(ModelTable.Rejected.class, () -> t.switchLive("bin1:1.0.0", 4 * HOUR));
        assertTrue(pending.getMessage().contains("later:1.0.0 is announced from"), pending.getMessage());
        t.switchLive("bin1:1.0.0", 6 * HOUR);
        ModelTable.Rejected early =
                assertThrows(ModelTable.Rejected.class, () -> t.switchLive("bin0:1.0.0", 6 * HOUR - MIN));
        assertTrue(early.getMessage().contains("would not come after"), early.getMessage());
        assertThrows(ModelTable.Rejected.class, () -> t.switchLive("bin1:1.0.0", 7 * HOUR)); // already live
        assertThrows(ModelTable.Rejected.class, () -> t.switchLive("nobody:1.0.0", 7 * HOUR));
        // Candidates of another threshold never take the live slot.
        ModelTable other = ModelTable.initial(TestLayouts.binary(0.5, 0.7).withSlots(2), HORIZON, WINDOW);
        ModelTable.Rejected threshold =
                assertThrows(ModelTable.Rejected.class, () -> other.switchLive("bin1:1.0.0", HOUR));
        assertTrue(threshold.getMessage().contains("threshold"), threshold.getMessage());
    }
}
