package io.shadowml.jobs.control;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * Which candidate holds which slot over event time: the YAML's candidates from the start, then what the
 * control topic announces. A slot takes a new model only once the previous one is released (none of its
 * evidence can still arrive), so every window's evidence in a slot belongs to one model and the report
 * assembler can name it. The rules are a function of the announcements alone, so every operator that
 * replays them reaches the same table.
 *
 * <p>The table also remembers the YAML it was last reconciled with ({@link SlotAssignment#yamlRow}s): a
 * job restored with another model set in its YAML applies the difference as announcements at one event
 * time ({@link #reconcile}), and refuses what it could not count correctly ({@link IncompatibleRestore}).
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
    /** Per slot, the model of the YAML the table was last reconciled with (null: none) and its threshold. */
    private String[] yamlIds;

    private double[] yamlThresholds;
    /** Per slot, the share of the traffic its model scores (candidate_sample_rates); null: all alike. */
    private double[] sampleRates;

    private ModelTable(ModelLayout layout, long horizonMillis, long windowMillis) {
        this.layout = layout;
        this.horizonMillis = horizonMillis;
        this.windowMillis = windowMillis;
        this.latest = new SlotAssignment[layout.models()];
        this.physicalOf = LivePermutation.identity(layout.models());
        this.yamlIds = layout.modelIds();
        this.yamlThresholds = layout.thresholds();
    }

    /**
     * Each slot's share of the traffic (per slot of the layout; the live model's is the experiment's): a
     * model takes only a slot that samples as it does. Null: all slots alike.
     */
    public ModelTable withSampleRates(double[] rates) {
        this.sampleRates = rates == null ? null : rates.clone();
        return this;
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

    /**
     * The table saved as {@link #assignments}, in this job's layout. Rows written before the table kept
     * its YAML (no {@link SlotAssignment#yamlRow}) are taken as of this layout's YAML.
     *
     * @throws IncompatibleRestore when the saved table cannot be continued with this layout: another live
     *     model or another number of slots in the YAML
     */
    public static ModelTable restored(
            ModelLayout slots, long horizonMillis, long windowMillis, Iterable<SlotAssignment> changes) {
        List<SlotAssignment> yaml = new ArrayList<>();
        List<SlotAssignment> rows = new ArrayList<>();
        List<SlotAssignment> switches = new ArrayList<>();
        for (SlotAssignment a : changes) {
            (a.yamlRow ? yaml : a.liveSwitch ? switches : rows).add(a.copy());
        }
        ModelTable t = yaml.isEmpty()
                ? initial(slots, horizonMillis, windowMillis)
                : new ModelTable(slots, horizonMillis, windowMillis);
        if (!yaml.isEmpty()) {
            t.restoreYaml(yaml);
        }
        for (SlotAssignment a : rows) {
            if (a.slot >= slots.models()) {
                throw new IncompatibleRestore(
                        "models.candidate_slots",
                        "the restored state has a model in slot " + a.slot
                                + ", this config " + (slots.models() - 1)
                                + " candidate slots; keep candidate_slots unchanged"
                                + " across a restore");
            }
            t.latest[a.slot] = a;
        }
        switches.sort(Comparator.comparingInt(a -> a.generation));
        for (SlotAssignment s : switches) {
            t.applySwitch(s);
        }
        return t;
    }

    private void restoreYaml(List<SlotAssignment> rows) {
        if (rows.size() != layout.models()) {
            throw new IncompatibleRestore(
                    "models.candidate_slots",
                    "the restored state has " + (rows.size() - 1)
                            + " candidate slots, this config " + (layout.models() - 1)
                            + ": keep candidate_slots unchanged"
                            + " across a restore (set it explicitly: its default grows with models.candidates)");
        }
        for (SlotAssignment r : rows) {
            yamlIds[r.slot] = r.modelId;
            yamlThresholds[r.slot] = r.threshold;
        }
        if (!yamlIds[0].equals(layout.modelId(0))) {
            throw new IncompatibleRestore(
                    "models.live",
                    "the restored state's live model is " + yamlIds[0]
                            + ", this config's " + layout.modelId(0) + ": switch the live model with SWITCH_LIVE on the"
                            + " control topic, or start without state");
        }
    }

    /** Whether this layout's YAML has other candidates than the YAML the table was last reconciled with. */
    public boolean yamlChanged() {
        return !candidates(yamlIds).equals(candidates(layout.modelIds()));
    }

    private static Set<String> candidates(String[] ids) {
        Set<String> set = new HashSet<>();
        for (int s = 1; s < ids.length; s++) {
            if (ids[s] != null) {
                set.add(ids[s]);
            }
        }
        return set;
    }

    /**
     * Brings the table to this layout's YAML, as announcements at event time {@code at}: a candidate the
     * YAML no longer has is retired, one it newly has is added (into a slot that decides and samples as it
     * does). A candidate in both keeps its slot, wherever it now stands in the YAML.
     *
     * @param yamlCandidates this layout's YAML candidates, in order
     * @return what changed, and the candidates that could not be added, with the reason
     * @throws IncompatibleRestore when a model whose evidence is still arriving would be counted at another
     *     threshold than its own, or the YAML dropped the model that is live now
     */
    public List<Reconciled> reconcile(List<YamlModel> yamlCandidates, long at) {
        checkThresholds(at);
        Set<String> before = candidates(yamlIds);
        Set<String> now = candidates(layout.modelIds());
        List<Reconciled> out = new ArrayList<>();
        for (int s = 1; s < yamlIds.length; s++) {
            String id = yamlIds[s];
            if (id == null || now.contains(id) || !isActive(id)) {
                continue;
            }
            try {
                SlotAssignment retired = retire(id, at);
                out.add(new Reconciled(id, retired, logical(retired), null));
            } catch (Rejected e) {
                throw new IncompatibleRestore(
                        "models.candidates", id + " is no longer in the YAML but cannot be retired: " + e.getMessage());
            }
        }
        for (YamlModel y : yamlCandidates) {
            if (before.contains(y.id)) {
                continue;
            }
            try {
                SlotAssignment added = add(y.descriptor(), y.descriptorJson, y.descriptorFile, at, y.sampleRate);
                if (added != null) {
                    out.add(new Reconciled(y.id, added, logical(added), null));
                }
            } catch (Rejected | RuntimeException e) {
                out.add(new Reconciled(y.id, null, null, "new in the YAML at a restore, rejected: " + e.getMessage()));
            }
        }
        yamlIds = layout.modelIds();
        yamlThresholds = layout.thresholds();
        return out;
    }

    /** A model whose evidence can still arrive at {@code at} decides at its slot's threshold in this layout too. */
    private void checkThresholds(long at) {
        for (SlotAssignment a : latest) {
            double before = a == null ? Double.NaN : yamlThresholds[a.slot];
            double now = a == null ? Double.NaN : layout.threshold(a.slot);
            if (a == null || a.releasedAt <= at || Double.isNaN(before) || Double.compare(before, now) == 0) {
                continue;
            }
            throw new IncompatibleRestore(
                    a.slot == 0 ? "models.live" : "models.candidates",
                    "slot " + a.slot
                            + " decides at threshold " + now + " in this config, but " + a.modelId + ", whose evidence"
                            + " is still arriving in it, was compared at " + before + ": keep the YAML's thresholds in"
                            + " their places (the extra slots take the live model's) until its release at "
                            + a.releasedAt);
        }
    }

    private boolean isActive(String modelId) {
        for (SlotAssignment a : latest) {
            if (a != null && a.modelId.equals(modelId) && !a.retired()) {
                return true;
            }
        }
        return false;
    }

    /** A change the validator made, applied by a replica of the table (the scoring operator's). */
    public void apply(SlotAssignment physical) {
        if (physical.liveSwitch) {
            if (physical.generation > generation()) {
                applySwitch(physical.copy());
            }
        } else {
            latest[physical.slot] = physical.copy();
        }
    }

    /** The latest assignment of physical slot {@code s}; null if it was never used. */
    public SlotAssignment slot(int s) {
        return latest[s] == null ? null : latest[s].copy();
    }

    /** The SWITCH_LIVE markers so far, in order. */
    public List<SlotAssignment> switchMarkers() {
        List<SlotAssignment> all = new ArrayList<>();
        for (SlotAssignment s : switches) {
            all.add(s.copy());
        }
        return all;
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
        for (int s = 0; s < yamlIds.length; s++) {
            all.add(SlotAssignment.yamlRow(s, yamlIds[s], yamlThresholds[s]));
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
        return add(d, json, file, effective, sampleRates == null ? Double.NaN : sampleRates[0]);
    }

    /** {@link #add}, of a model that scores {@code sampleRate} of the traffic (NaN: as every slot does). */
    private SlotAssignment add(ModelDescriptor d, String json, String file, long effective, double sampleRate)
            throws Rejected {
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
        String slotProblem = null;
        for (int s = 0; s < latest.length; s++) {
            long free = freeFrom(s, generationStart);
            if (free == SlotAssignment.OPEN) {
                continue;
            }
            if (d.task() == Task.BINARY && d.threshold() != layout.threshold(s)) {
                slotProblem = id + " decides at threshold " + d.threshold() + "; a free slot decides at "
                        + layout.threshold(s) + " (the threshold of the model the job started with in it)";
                continue;
            }
            if (sampleRates != null
                    && s < sampleRates.length
                    && !Double.isNaN(sampleRate)
                    && sampleRates[s] != sampleRate) {
                slotProblem = id + " scores " + sampleRate + " of the traffic; a free slot samples " + sampleRates[s]
                        + " (candidate_sample_rates)";
                continue;
            }
            if (best < 0 || free < bestFree) {
                best = s;
                bestFree = free;
            }
        }
        if (best < 0) {
            throw new Rejected(
                    slotProblem != null
                            ? slotProblem
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
     * @throws Rejected when it is no active candidate, scores only its own sample, does not score yet at
     *     that time, or the switch would not come after the current generation's start
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
        if (sampleRates != null && physical < sampleRates.length && sampleRates[physical] < sampleRates[0]) {
            throw new Rejected(modelId + " scores only its own sample of the traffic (candidate_sample_rates): the"
                    + " live model scores all of it");
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

    /** One model's change when the table was reconciled with a restored job's YAML. */
    public static final class Reconciled {
        public final String modelId;
        /** The physical assignment as added or retired; null when the model was rejected. */
        public final SlotAssignment physical;
        /** The same as the current generation's report assembler sees it. */
        public final SlotAssignment logical;
        /** Why the model could not be added; null when it was. */
        public final String rejection;

        Reconciled(String modelId, SlotAssignment physical, SlotAssignment logical, String rejection) {
            this.modelId = modelId;
            this.physical = physical;
            this.logical = logical;
            this.rejection = rejection;
        }
    }

    /**
     * A restored state this job's YAML cannot continue: the job fails at start with the field to change
     * (a data record never causes it).
     */
    public static final class IncompatibleRestore extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        public final String field;

        public IncompatibleRestore(String field, String problem) {
            super(field + ": " + problem);
            this.field = field;
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
