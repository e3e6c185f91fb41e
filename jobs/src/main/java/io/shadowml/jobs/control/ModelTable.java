package io.shadowml.jobs.control;

import java.util.ArrayList;
import java.util.List;

import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * Which candidate holds which slot over event time: the YAML's candidates from the start, then what the
 * control topic announces. A slot takes a new model only once the previous one is released (none of its
 * evidence can still arrive), so every window's evidence in a slot belongs to one model and the report
 * assembler can name it. The rules are a function of the announcements alone, so every operator that
 * replays them reaches the same table.
 */
public final class ModelTable {
    private final ModelLayout layout;
    private final long horizonMillis;
    private final long windowMillis;
    /** Per slot (index 0, the live model, unused), its latest assignment; null: never used. */
    private final SlotAssignment[] latest;

    private ModelTable(ModelLayout layout, long horizonMillis, long windowMillis) {
        this.layout = layout;
        this.horizonMillis = horizonMillis;
        this.windowMillis = windowMillis;
        this.latest = new SlotAssignment[layout.models()];
    }

    /** The YAML's candidates in their slots, scoring from the start; the other slots empty. */
    public static ModelTable initial(ModelLayout slots, long horizonMillis, long windowMillis) {
        ModelTable t = new ModelTable(slots, horizonMillis, windowMillis);
        for (int s = 1; s < slots.models(); s++) {
            if (slots.modelId(s) != null) {
                t.latest[s] = SlotAssignment.configured(s, slots.modelId(s));
            }
        }
        return t;
    }

    /** The initial table with {@code changes} (in the order they were made) applied. */
    public static ModelTable restored(
            ModelLayout slots, long horizonMillis, long windowMillis, Iterable<SlotAssignment> changes) {
        ModelTable t = initial(slots, horizonMillis, windowMillis);
        for (SlotAssignment a : changes) {
            t.latest[a.slot] = a.copy();
        }
        return t;
    }

    /** The latest assignment of every used slot. */
    public List<SlotAssignment> assignments() {
        List<SlotAssignment> all = new ArrayList<>();
        for (SlotAssignment a : latest) {
            if (a != null) {
                all.add(a.copy());
            }
        }
        return all;
    }

    /**
     * Puts an announced candidate into a slot, from {@code effective} on or, when the freest slot is
     * still draining its previous model, from that model's release.
     *
     * @return the new assignment, or null when the model already scores in a slot (a repeated announcement)
     * @throws Rejected with the reason when it cannot be compared in this job
     */
    public SlotAssignment add(ModelDescriptor d, String json, String file, long effective) throws Rejected {
        String id = d.id();
        if (id.equals(layout.modelId(0))) {
            throw new Rejected(id + " is the live model");
        }
        if (d.task() != layout.task()) {
            throw new Rejected(id + " answers task " + d.task() + ", the live model " + layout.task());
        }
        if (d.task() != Task.REGRESSION && d.numClasses() != layout.numClasses()) {
            throw new Rejected(id + " has " + d.numClasses() + " classes, the live model " + layout.numClasses());
        }
        if (d.isLogged()) {
            throw new Rejected(id + " is not an ONNX model");
        }
        for (SlotAssignment a : latest) {
            if (a != null && a.modelId.equals(id) && !a.retired()) {
                return null;
            }
        }
        int best = -1;
        long bestFree = SlotAssignment.OPEN;
        String thresholdProblem = null;
        for (int s = 1; s < latest.length; s++) {
            long free = latest[s] == null ? Long.MIN_VALUE : latest[s].releasedAt;
            if (free == SlotAssignment.OPEN) {
                continue;
            }
            if (d.task() == Task.BINARY && d.threshold() != layout.threshold(s)) {
                thresholdProblem = id + " decides at threshold " + d.threshold() + "; a free slot decides at "
                        + layout.threshold(s) + " (the threshold of the model the job started with in it)";
                continue;
            }
            if (best < 0 || free < bestFree) {
                best = s;
                bestFree = free;
            }
        }
        if (best < 0) {
            throw new Rejected(
                    thresholdProblem != null
                            ? thresholdProblem
                            : "no free candidate slot: all " + (latest.length - 1)
                                    + " hold candidates that are active or whose evidence is still arriving"
                                    + " (models.candidate_slots)");
        }
        SlotAssignment a = new SlotAssignment(best, id, json, file, Math.max(effective, bestFree));
        latest[best] = a;
        return a.copy();
    }

    /**
     * Retires an active candidate: it scores no request from {@code effective} (or its own start, if later)
     * on, and is released once its last labels and matured outcomes are in.
     *
     * @throws Rejected when {@code modelId} is no active candidate
     */
    public SlotAssignment retire(String modelId, long effective) throws Rejected {
        if (modelId.equals(layout.modelId(0))) {
            throw new Rejected(modelId + " is the live model; only a candidate can be retired");
        }
        for (SlotAssignment a : latest) {
            if (a != null && a.modelId.equals(modelId) && !a.retired()) {
                a.until = Math.max(effective, a.from);
                a.releasedAt = releaseTime(a.until);
                return a.copy();
            }
        }
        throw new Rejected(modelId + " is not an active candidate of this job (never added, already retired,"
                + " or its announcement was compacted away)");
    }

    /**
     * The end of the window after the last that can hold evidence of a request scored before {@code until}:
     * its label arrives by the horizon, and the join settles expired requests in buckets of one window.
     */
    long releaseTime(long until) {
        long settled = until + horizonMillis;
        return Math.floorDiv(settled, windowMillis) * windowMillis + 2 * windowMillis;
    }

    /** Why an announcement cannot be applied. */
    public static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;

        public Rejected(String reason) {
            super(reason);
        }
    }
}
