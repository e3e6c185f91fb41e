package io.shadowml.jobs.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
