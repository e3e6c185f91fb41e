package io.shadowml.jobs.control;

import java.util.ArrayList;
import java.util.Comparator;
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
    /** Per physical slot (0: the live model the job started with), its latest assignment; null: never used. */
    private final SlotAssignment[] latest;
    /** The switches so far, in order: generation g started with the (g-1)-th. */
    private final List<SlotAssignment> switches = new ArrayList<>();
    /** The current generation's physical slot of each logical slot. */
    private int[] physicalOf;

    private ModelTable(ModelLayout layout, long horizonMillis, long windowMillis) {
        this.layout = layout;
        this.horizonMillis = horizonMillis;
        this.windowMillis = windowMillis;
        this.latest = new SlotAssignment[layout.models()];
        this.physicalOf = LivePermutation.identity(layout.models());
    }

    /** The YAML's models in their slots, scoring from the start; the other slots empty. */
    public static ModelTable initial(ModelLayout slots, long horizonMillis, long windowMillis) {
        ModelTable t = new ModelTable(slots, horizonMillis, windowMillis);
        for (int s = 0; s < slots.models(); s++) {
            if (slots.modelId(s) != null) {
                t.latest[s] = SlotAssignment.configured(s, slots.modelId(s));
            }
        }
        return t;
    }

    /** The initial table with {@code changes} (as {@link #assignments} lists them) applied. */
    public static ModelTable restored(
            ModelLayout slots, long horizonMillis, long windowMillis, Iterable<SlotAssignment> changes) {
        ModelTable t = initial(slots, horizonMillis, windowMillis);
        List<SlotAssignment> switches = new ArrayList<>();
        for (SlotAssignment a : changes) {
            if (a.liveSwitch) {
                switches.add(a.copy());
            } else {
                t.latest[a.slot] = a.copy();
            }
        }
        switches.sort(Comparator.comparingInt(a -> a.generation));
        for (SlotAssignment s : switches) {
            t.applySwitch(s);
        }
        return t;
    }

    /** The latest assignment of every used physical slot, then the switches in order: the table's state. */
    public List<SlotAssignment> assignments() {
        List<SlotAssignment> all = new ArrayList<>();
        for (SlotAssignment a : latest) {
            if (a != null) {
                all.add(a.copy());
            }
        }
        for (SlotAssignment s : switches) {
            all.add(s.copy());
        }
        return all;
    }

    /** The current live generation: 0 until the first switch. */
    public int generation() {
        return switches.size();
    }

    /** Event time from which the current generation is live (Long.MIN_VALUE for generation 0). */
    public long generationStart() {
        return switches.isEmpty() ? Long.MIN_VALUE : switches.get(switches.size() - 1).from;
    }

    /** The live model now. */
    public String liveModel() {
        return latest[physicalOf[0]].modelId;
    }

    /**
     * Puts an announced candidate into a slot, from {@code effective} on or, when the freest slot is
     * still draining its previous model, from that model's release.
     *
     * @return the new (physical) assignment, or null when the model already scores in a slot (a repeated
     *     announcement)
     * @throws Rejected with the reason when it cannot be compared in this job
     */
    public SlotAssignment add(ModelDescriptor d, String json, String file, long effective) throws Rejected {
        String id = d.id();
        if (id.equals(liveModel())) {
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
        long generationStart = generationStart();
        int best = -1;
        long bestFree = SlotAssignment.OPEN;
        String thresholdProblem = null;
        for (int s = 0; s < latest.length; s++) {
            long free = freeFrom(s, generationStart);
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
        // Never before the current generation: earlier requests are reported with the previous live model.
        long from = Math.max(Math.max(effective, bestFree), generationStart);
        SlotAssignment a = new SlotAssignment(best, id, json, file, from);
        latest[best] = a;
        return a.copy();
    }

    /**
     * From when physical slot {@code s} can take a model: at once if never used, at the current
     * generation's start if its last model stopped scoring before it (its evidence is the previous
     * generation's), else at its last model's release; OPEN while a model is active in it.
     */
    private long freeFrom(int s, long generationStart) {
        SlotAssignment a = latest[s];
        if (a == null) {
            return Long.MIN_VALUE;
        }
        if (!a.retired()) {
            return SlotAssignment.OPEN;
        }
        return a.until <= generationStart ? generationStart : a.releasedAt;
    }

    /**
     * Retires an active candidate: it scores no request from {@code effective} (or its own start, or the
     * current generation's, if later) on, and is released once its last labels and matured outcomes are in.
     *
     * @return the (physical) assignment as retired
     * @throws Rejected when {@code modelId} is no active candidate
     */
    public SlotAssignment retire(String modelId, long effective) throws Rejected {
        if (modelId.equals(liveModel())) {
            throw new Rejected(modelId + " is the live model; only a candidate can be retired"
                    + " (switch the live model to another first)");
        }
        for (SlotAssignment a : latest) {
            if (a != null && a.modelId.equals(modelId) && !a.retired()) {
                a.until = Math.max(Math.max(effective, a.from), generationStart());
                a.releasedAt = releaseTime(a.until);
                return a.copy();
            }
        }
        throw new Rejected(modelId + " is not an active candidate of this job (never added, already retired,"
                + " or its announcement was compacted away)");
    }

    /**
     * Makes the active candidate {@code modelId} the live model from the first window start at or after
     * {@code effective}, so that no window holds two live models: a new live generation.
     *
     * @throws Rejected when it is no active candidate, does not score yet at that time, or the switch would
     *     not come after the current generation's start
     */
    public LiveSwitch switchLive(String modelId, long effective) throws Rejected {
        if (modelId.equals(liveModel())) {
            throw new Rejected(modelId + " is already the live model");
        }
        long at = Math.floorDiv(effective, windowMillis) * windowMillis;
        if (at < effective) {
            at += windowMillis;
        }
        long generationStart = generationStart();
        if (at <= generationStart) {
            throw new Rejected(
                    "a switch at " + at + " would not come after the current live model's start, " + generationStart);
        }
        int physical = -1;
        for (int s = 0; s < latest.length; s++) {
            SlotAssignment a = latest[s];
            if (a != null && a.modelId.equals(modelId) && !a.retired()) {
                physical = s;
            }
        }
        if (physical < 0) {
            throw new Rejected(modelId + " is not an active candidate of this job: only a candidate being"
                    + " compared can become the live model");
        }
        if (latest[physical].from > at) {
            throw new Rejected(modelId + " scores only from " + latest[physical].from + ", after the switch at " + at);
        }
        if (layout.task() == Task.BINARY && layout.threshold(physical) != layout.threshold(0)) {
            throw new Rejected(modelId + " decides at threshold " + layout.threshold(physical) + ", the live slot at "
                    + layout.threshold(0));
        }
        for (SlotAssignment a : latest) {
            if (a != null && a.from > at) {
                throw new Rejected(a.modelId + " is announced from " + a.from + ", after the switch at " + at
                        + ": switch after its start");
            }
        }
        int old = generation();
        List<SlotAssignment> logical = new ArrayList<>();
        // The old generation's models score no request from the switch on: retired there at the switch.
        for (int l = 0; l < physicalOf.length; l++) {
            SlotAssignment a = latest[physicalOf[l]];
            if (a != null && a.until > at) {
                SlotAssignment r = logical(a, l, old);
                r.until = at;
                r.releasedAt = releaseTime(at);
                logical.add(r);
            }
        }
        SlotAssignment marker = new SlotAssignment(physical, modelId, null, null, at);
        marker.liveSwitch = true;
        marker.generation = old + 1;
        applySwitch(marker);
        // The new generation's view: every model still scoring, from the switch.
        for (int l = 0; l < physicalOf.length; l++) {
            SlotAssignment a = latest[physicalOf[l]];
            if (a != null && a.until > at) {
                logical.add(logical(a, l, old + 1));
            }
        }
        return new LiveSwitch(marker.copy(), logical);
    }

    private void applySwitch(SlotAssignment marker) {
        physicalOf = LivePermutation.afterSwitch(physicalOf, marker.slot);
        switches.add(marker);
    }

    private int logicalOf(int physical) {
        return LivePermutation.logicalOf(physicalOf, physical);
    }

    /**
     * A (physical) assignment of the table as the current generation's report assembler sees it: in its
     * logical slot, and from the generation's start at the earliest.
     */
    public SlotAssignment logical(SlotAssignment physical) {
        return logical(physical, logicalOf(physical.slot), generation());
    }

    private SlotAssignment logical(SlotAssignment physical, int slot, int generation) {
        SlotAssignment l = physical.copy();
        l.slot = slot;
        l.generation = generation;
        long start = generation == 0 ? Long.MIN_VALUE : switches.get(generation - 1).from;
        l.from = Math.max(physical.from, start);
        return l;
    }

    /**
     * The end of the window after the last that can hold evidence of a request scored before {@code until}:
     * its label arrives by the horizon, and the join settles expired requests in buckets of one window.
     */
    long releaseTime(long until) {
        long settled = until + horizonMillis;
        return Math.floorDiv(settled, windowMillis) * windowMillis + 2 * windowMillis;
    }

    /**
     * A SWITCH_LIVE applied: the marker the scoring operator follows (the new live model's physical slot,
     * the switch time and the new generation), and the logical assignments of the old generation (all
     * retired at the switch) and of the new one, for the report assembler.
     */
    public static final class LiveSwitch {
        public final SlotAssignment marker;
        public final List<SlotAssignment> logical;

        LiveSwitch(SlotAssignment marker, List<SlotAssignment> logical) {
            this.marker = marker;
            this.logical = logical;
        }
    }

    /** Why an announcement cannot be applied. */
    public static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;

        public Rejected(String reason) {
            super(reason);
        }
    }
}
