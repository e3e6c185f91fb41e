package io.shadowml.jobs.control;

import java.nio.file.Path;
import java.util.Objects;

import io.shadowml.models.ModelDescriptor;

/**
 * One candidate in one slot of the running job ({@code models.candidate_slots}) over an interval of event
 * time: it scores the requests in [{@link #from}, {@link #until}), and its evidence (labels up to the
 * horizon, matured outcomes) keeps arriving until {@link #releasedAt}, where its final verdict is emitted
 * and the slot may take another model. A Flink POJO: it is broadcast and kept in state.
 */
public class SlotAssignment {
    public static final long OPEN = Long.MAX_VALUE;

    public int slot;
    /** name:version. */
    public String modelId;
    /** The announced descriptor JSON and where it is on the TaskManagers; null for a model of the YAML. */
    public String descriptorJson;

    public String descriptorFile;
    /** Event time from which it scores requests (Long.MIN_VALUE for a model of the YAML). */
    public long from;
    /** Event time from which it scores none (retired); {@link #OPEN} while active. */
    public long until = OPEN;
    /** A window end from which none of its evidence can arrive any more; {@link #OPEN} while active. */
    public long releasedAt = OPEN;
    /**
     * The live generation whose view this is (for the report assembler; {@link ModelTable#logical}), or,
     * for a {@link #liveSwitch}, the generation it starts. 0 before any SWITCH_LIVE.
     */
    public int generation;
    /**
     * Not an assignment but a SWITCH_LIVE: the model in physical {@link #slot} is live from {@link #from},
     * starting {@link #generation}.
     */
    public boolean liveSwitch;
    /**
     * Not an assignment but row {@link #slot} of the YAML the table was last reconciled with: its model
     * ({@link #modelId}; null for a slot left to announced candidates) and the slot's binary threshold
     * ({@link #threshold}), so that a restore can tell what changed in the YAML since.
     */
    public boolean yamlRow;
    /** For a {@link #yamlRow}: the slot's binary threshold (NaN for other tasks, and in rows of older states). */
    public double threshold = Double.NaN;

    public SlotAssignment() {}

    SlotAssignment(int slot, String modelId, String descriptorJson, String descriptorFile, long from) {
        this.slot = slot;
        this.modelId = modelId;
        this.descriptorJson = descriptorJson;
        this.descriptorFile = descriptorFile;
        this.from = from;
    }

    /** A candidate of the YAML, in its slot from the start. */
    public static SlotAssignment configured(int slot, String modelId) {
        return new SlotAssignment(slot, modelId, null, null, Long.MIN_VALUE);
    }

    /** Row {@code slot} of the YAML: {@code modelId} there (null: none), deciding at {@code threshold}. */
    static SlotAssignment yamlRow(int slot, String modelId, double threshold) {
        SlotAssignment r = new SlotAssignment(slot, modelId, null, null, Long.MIN_VALUE);
        r.yamlRow = true;
        r.threshold = threshold;
        return r;
    }

    /** Identifies the assignment across its changes (a retirement changes until and releasedAt only). */
    public String key() {
        if (yamlRow) {
            return "yaml@" + slot;
        }
        return liveSwitch ? "live@" + generation : slot + "@" + from;
    }

    SlotAssignment copy() {
        SlotAssignment c = new SlotAssignment(slot, modelId, descriptorJson, descriptorFile, from);
        c.until = until;
        c.releasedAt = releasedAt;
        c.generation = generation;
        c.liveSwitch = liveSwitch;
        c.yamlRow = yamlRow;
        c.threshold = threshold;
        return c;
    }

    /** Whether it scores a request of event time {@code t}. */
    public boolean scores(long t) {
        return t >= from && t < until;
    }

    /** Whether it was announced on the control topic rather than configured in the YAML. */
    public boolean announced() {
        return descriptorJson != null;
    }

    public boolean retired() {
        return until != OPEN;
    }

    /** The announced descriptor, validated as at start (throws ModelConfigException). */
    public ModelDescriptor descriptor() {
        return ModelDescriptor.fromJson(descriptorJson, Path.of(descriptorFile));
    }

    /** Whether its evidence can fall in the window [start, end). */
    public boolean overlaps(long start, long end) {
        return from < end && releasedAt > start;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SlotAssignment)) {
            return false;
        }
        SlotAssignment a = (SlotAssignment) o;
        return slot == a.slot
                && from == a.from
                && until == a.until
                && releasedAt == a.releasedAt
                && generation == a.generation
                && liveSwitch == a.liveSwitch
                && yamlRow == a.yamlRow
                && Double.compare(threshold, a.threshold) == 0
                && Objects.equals(modelId, a.modelId)
                && Objects.equals(descriptorJson, a.descriptorJson)
                && Objects.equals(descriptorFile, a.descriptorFile);
    }

    @Override
    public int hashCode() {
        return Objects.hash(slot, modelId, from, until);
    }

    @Override
    public String toString() {
        if (yamlRow) {
            return "YAML slot " + slot + ": " + modelId;
        }
        if (liveSwitch) {
            return modelId + " live from " + from + " (generation " + generation + ", physical slot " + slot + ")";
        }
        return (generation == 0 ? "" : "generation " + generation + ": ") + modelId + " in slot " + slot + " [" + from
                + ", " + (until == OPEN ? "open" : until) + ")"
                + (releasedAt == OPEN ? "" : " released at " + releasedAt);
    }
}
