package io.shadowml.jobs.report;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shadowml.avro.ArmReport;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Decision;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.LabelDelays;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.WindowPartial;

/**
 * Per experiment: merges the shards' partial accumulators of each window once the watermark passes the
 * window, emits the window's report, folds it into the cumulative accumulator, emits the cumulative
 * report and a verdict per candidate (on {@link #VERDICTS}), and publishes the figures as gauges.
 */
public class ReportAssembler extends KeyedCoProcessFunction<String, WindowPartial, SlotAssignment, ComparisonReport> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ReportAssembler.class);

    public static final OutputTag<Verdict> VERDICTS = new OutputTag<>("verdicts") {};

    private final ModelLayout layout;
    private final VerdictPolicy policy;
    /** Per model, the share of the traffic it scores (the live model's: sample_rate), shown in every report. */
    private final double[] sampleRates;
    /** Canary / A-B analysis of served_by, or null without a canary section. */
    private CanaryConfig canary;

    private CanaryPolicy canaryPolicy;

    private transient MapState<Long, ExperimentAccumulator> windows;
    private transient MapState<Long, Long> windowStarts;
    private transient ValueState<ExperimentAccumulator> cumulative;
    private transient ValueState<Long> firstWindowStart;
    private transient ValueState<VerdictMemory> verdictMemory;
    /** The control topic's changes of the model table, by {@link SlotAssignment#key}. */
    private transient MapState<String, SlotAssignment> slotChanges;
    /**
     * Generation 0's models of the YAML per slot as the job started with them: a restore with another YAML
     * announces its changes instead (ModelTable#reconcile), so the slots keep their first names.
     */
    private transient ValueState<String[]> startedWith;
    /** The keys of the models whose final verdict is out (YAML candidates among them, hence not a removal). */
    private transient MapState<String, Boolean> released;
    /** Latest figures for the gauges: "model/metric" -> value. */
    private transient Map<String, Double> gaugeValues;

    private transient MetricGroup metricGroup;

    public ReportAssembler(ModelLayout layout, VerdictPolicy policy) {
        this(layout, policy, null);
    }

    /** @param sampleRates per model in layout order, the share of the traffic it scores; null: all */
    public ReportAssembler(ModelLayout layout, VerdictPolicy policy, double[] sampleRates) {
        this.layout = layout;
        this.policy = policy;
        this.sampleRates = sampleRates == null ? null : sampleRates.clone();
    }

    /** Adds the canary sections to every report and a canary verdict per non-control arm; null: none. */
    public ReportAssembler withCanary(CanaryConfig canary) {
        this.canary = canary;
        this.canaryPolicy = canary == null ? null : new CanaryPolicy(canary, layout.task());
        return this;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<ExperimentAccumulator> accType = TypeInformation.of(ExperimentAccumulator.class);
        windows = getRuntimeContext().getMapState(new MapStateDescriptor<>("windows", Types.LONG, accType));
        windowStarts =
                getRuntimeContext().getMapState(new MapStateDescriptor<>("window-starts", Types.LONG, Types.LONG));
        cumulative = getRuntimeContext().getState(new ValueStateDescriptor<>("cumulative", accType));
        firstWindowStart = getRuntimeContext().getState(new ValueStateDescriptor<>("first-window-start", Types.LONG));
        verdictMemory = getRuntimeContext()
                .getState(new ValueStateDescriptor<>("verdict-memory", TypeInformation.of(VerdictMemory.class)));
        slotChanges = getRuntimeContext()
                .getMapState(new MapStateDescriptor<>(
                        "slot-changes", Types.STRING, TypeInformation.of(SlotAssignment.class)));
        released = getRuntimeContext()
                .getMapState(new MapStateDescriptor<>("released-models", Types.STRING, Types.BOOLEAN));
        startedWith = getRuntimeContext()
                .getState(new ValueStateDescriptor<>(
                        "yaml-models-started-with", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO));
        gaugeValues = new HashMap<>();
        metricGroup = getRuntimeContext().getMetricGroup();
    }

    @Override
    public void processElement1(WindowPartial partial, Context ctx, Collector<ComparisonReport> out) throws Exception {
        rememberYaml(ctx.getCurrentKey());
        if (released.contains(GENERATION_FINAL)) {
            // Cannot happen (the generation was final once all its evidence was in); never reopen it.
            LOG.warn(
                    "{}: evidence of a final live generation, window {}, ignored",
                    ctx.getCurrentKey(),
                    partial.windowEnd);
            return;
        }
        ExperimentAccumulator acc = windows.get(partial.windowEnd);
        if (acc == null) {
            windows.put(partial.windowEnd, partial.accumulator);
            windowStarts.put(partial.windowEnd, partial.windowStart);
            ctx.timerService().registerEventTimeTimer(partial.windowEnd - 1);
        } else {
            mergeInto(acc, partial.accumulator);
            windows.put(partial.windowEnd, acc);
        }
    }

    /** A change of the model table (a candidate announced or retired): which model each slot's evidence is. */
    @Override
    public void processElement2(SlotAssignment change, Context ctx, Collector<ComparisonReport> out) throws Exception {
        rememberYaml(ctx.getCurrentKey());
        slotChanges.put(change.key(), change);
        if (change.retired()) {
            // Its final verdict is due at its release even if no later window of this generation comes (a live
            // generation switched away from sees no traffic after its last labels).
            ctx.timerService().registerEventTimeTimer(change.releasedAt - 1);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ComparisonReport> out) throws Exception {
        long end = timestamp + 1;
        ExperimentAccumulator window = windows.get(end);
        String experimentId = GenerationKey.experimentOf(ctx.getCurrentKey());
        int generation = GenerationKey.generationOf(ctx.getCurrentKey());
        List<SlotAssignment> assignments = assignments(generation);

        ExperimentAccumulator total = cumulative.value();
        if (window == null && total == null) {
            // A release's timer before any evidence: nothing to finalize yet; the first window's report will.
            return;
        }
        Long first = firstWindowStart.value();
        VerdictMemory memory = verdictMemory.value();
        if (memory == null) {
            memory = new VerdictMemory();
        }
        // Retired models released before this window, where no window fired: their final verdict and report on
        // the evidence as it stands, before this window's (maybe their successor's in the same slot) joins it.
        // At a release's own timer, without a window, the models released by its time.
        List<SlotAssignment> overdue = releasedBy(assignments, window == null ? end : end - 1);
        if (!overdue.isEmpty() && total != null) {
            long releasedAt =
                    overdue.stream().mapToLong(a -> a.releasedAt).max().getAsLong();
            emitCumulative(experimentId, generation, total, first, releasedAt, memory, assignments, overdue, ctx, out);
        }
        if (releasesLive(overdue)) {
            finishGeneration(ctx.getCurrentKey());
            return;
        }
        release(overdue, total, memory, assignments);
        if (window == null) {
            if (!overdue.isEmpty()) {
                cumulative.update(total);
                verdictMemory.update(memory);
            }
            return;
        }
        long start = windowStarts.get(end);
        windows.remove(end);
        windowStarts.remove(end);

        ModelLayout windowView = view(assignments, start, end);
        List<VerdictPolicy.Assessment> windowTests = new ArrayList<>();
        for (int c = 1; c < layout.models(); c++) {
            windowTests.add(
                    windowView.modelId(c) == null
                            ? null
                            : policy.assess(VerdictPolicy.Evidence.of(window, c), null, end, Double.NaN));
        }
        ComparisonReport windowReport = withSampleRate(
                ReportFactory.report(
                        experimentId,
                        WindowKind.TUMBLING,
                        start,
                        end,
                        window,
                        windowView,
                        windowTests,
                        soFar(window, windowView, end)),
                windowView);
        markGeneration(windowReport, generation);
        if (canary != null) {
            canary(windowReport, window, null, end);
        }
        out.collect(windowReport);

        if (total == null) {
            total = window.copy();
        } else {
            mergeInto(total, window);
        }
        if (first == null) {
            first = start;
            firstWindowStart.update(first);
        }
        List<SlotAssignment> releasing = releasedBy(assignments, end);
        boolean live = isLive(assignments);
        ComparisonReport cumulativeReport =
                emitCumulative(experimentId, generation, total, first, end, memory, assignments, releasing, ctx, out);
        if (releasesLive(releasing)) {
            finishGeneration(ctx.getCurrentKey());
            return;
        }
        release(releasing, total, memory, assignments);
        cumulative.update(total);
        verdictMemory.update(memory);
        if (live) {
            // Only the generation now live publishes gauges: an old one's would overwrite them.
            publishGauges(experimentId, total, view(assignments, Long.MIN_VALUE, end));
            if (canary != null) {
                publishArmGauges(experimentId, total, cumulativeReport);
            }
        }
    }

    /** Marks a report of a live generation after a SWITCH_LIVE with its number. */
    private static void markGeneration(ComparisonReport report, int generation) {
        if (generation > 0) {
            report.getMetrics().put("live_generation", (double) generation);
        }
    }

    /** Whether this generation's live model is still live (it has not been switched away from). */
    private static boolean isLive(List<SlotAssignment> assignments) {
        for (SlotAssignment a : assignments) {
            if (a.slot == 0 && a.retired()) {
                return false;
            }
        }
        return true;
    }

    private static boolean releasesLive(List<SlotAssignment> releasing) {
        for (SlotAssignment a : releasing) {
            if (a.slot == 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * A switched-away generation whose evidence is all in: its final report and verdicts are out, so its
     * state goes, but for the mark that it is final.
     */
    private void finishGeneration(String key) throws Exception {
        windows.clear();
        windowStarts.clear();
        cumulative.clear();
        firstWindowStart.clear();
        verdictMemory.clear();
        slotChanges.clear();
        released.clear();
        released.put(GENERATION_FINAL, true);
        LOG.info(
                "{}: live generation {} final, its state released",
                GenerationKey.experimentOf(key),
                GenerationKey.generationOf(key));
    }

    /** In {@link #released}: the generation is final (all its evidence reported, its state released). */
    static final String GENERATION_FINAL = "generation-final";

    /**
     * The cumulative report at {@code end} and a verdict per candidate; the verdicts of {@code finals} (retired
     * models whose evidence is complete) say they are final.
     */
    private ComparisonReport emitCumulative(
            String experimentId,
            int generation,
            ExperimentAccumulator total,
            long first,
            long end,
            VerdictMemory memory,
            List<SlotAssignment> assignments,
            List<SlotAssignment> finals,
            OnTimerContext ctx,
            Collector<ComparisonReport> out) {
        ModelLayout view = view(assignments, Long.MIN_VALUE, end);
        List<VerdictPolicy.Assessment> assessments = new ArrayList<>();
        for (int c = 1; c < layout.models(); c++) {
            String id = view.modelId(c);
            if (id == null) {
                assessments.add(null);
                continue;
            }
            // Labelled pairs mature at the rate they arrive, once the first requests have matured; a candidate
            // announced later has had pairs only since its own start.
            long since = Math.max(first, startOf(assignments, c, end));
            double pairsPerHour = total.paired(c).count() / ((end - since) / 3_600_000.0);
            assessments.add(
                    policy.assess(VerdictPolicy.Evidence.of(total, c), memory.candidate(id), end, pairsPerHour));
        }
        ComparisonReport cumulativeReport = withSampleRate(
                ReportFactory.report(
                        experimentId,
                        WindowKind.CUMULATIVE,
                        first,
                        end,
                        total,
                        view,
                        assessments,
                        soFar(total, view, end)),
                view);
        markModelChanges(cumulativeReport, assignments, finals, end);
        markGeneration(cumulativeReport, generation);
        List<CanaryPolicy.Assessment> canaryVerdicts =
                canary == null ? List.of() : canary(cumulativeReport, total, memory, end);
        out.collect(cumulativeReport);
        for (int c = 1; c < layout.models(); c++) {
            String id = view.modelId(c);
            if (id == null) {
                continue;
            }
            VerdictPolicy.Assessment a = assessments.get(c - 1);
            Verdict verdict = policy.verdict(experimentId, id, end, a);
            for (SlotAssignment f : finals) {
                if (f.slot == c) {
                    List<String> reasons = new ArrayList<>(verdict.getReasons());
                    reasons.add((releasesLive(finals)
                                    ? "final: the live model " + view.modelId(0) + " was switched away from at "
                                    : "final: retired at ")
                            + Instant.ofEpochMilli(f.until)
                            + "; all its evidence is in, and its state is released");
                    verdict.setReasons(reasons);
                }
            }
            ctx.output(VERDICTS, verdict);
            publishVerdict(experimentId, id, a);
        }
        for (CanaryPolicy.Assessment a : canaryVerdicts) {
            ctx.output(VERDICTS, canaryPolicy.verdict(experimentId, end, a));
            publishCanaryVerdict(experimentId, a);
        }
        return cumulativeReport;
    }

    /** Announced and retired candidates, in the metrics of a cumulative report (jobs/README §4). */
    private static void markModelChanges(
            ComparisonReport report, List<SlotAssignment> assignments, List<SlotAssignment> finals, long end) {
        for (SlotAssignment a : assignments) {
            if (a.from >= end) {
                continue;
            }
            if (a.slot == 0) {
                // The live model of a generation after a switch, or one switched away from.
                if (a.from != Long.MIN_VALUE) {
                    report.getMetrics().put("live_from[" + a.modelId + "]", (double) a.from);
                }
                if (a.retired()) {
                    report.getMetrics().put("live_until[" + a.modelId + "]", (double) a.until);
                }
                if (finals.contains(a)) {
                    report.getMetrics().put("live_final[" + a.modelId + "]", 1.0);
                }
                continue;
            }
            if (a.announced()) {
                report.getMetrics().put("candidate_from[" + a.modelId + "]", (double) a.from);
            }
            if (a.retired()) {
                report.getMetrics().put("candidate_until[" + a.modelId + "]", (double) a.until);
            }
            if (finals.contains(a)) {
                report.getMetrics().put("candidate_final[" + a.modelId + "]", 1.0);
            }
        }
    }

    /**
     * The YAML's candidates (generation 0 only: a later generation's view comes whole from the control
     * topic's changes), with the control topic's changes, without the models already released.
     */
    private List<SlotAssignment> assignments(int generation) throws Exception {
        Map<String, SlotAssignment> all = new LinkedHashMap<>();
        String[] yaml = generation == 0 ? startedWith() : new String[0];
        for (int s = 1; s < yaml.length; s++) {
            if (yaml[s] != null) {
                SlotAssignment configured = SlotAssignment.configured(s, yaml[s]);
                all.put(configured.key(), configured);
            }
        }
        for (Map.Entry<String, SlotAssignment> e : slotChanges.entries()) {
            all.put(e.getKey(), e.getValue());
        }
        for (String key : released.keys()) {
            all.remove(key);
        }
        return new ArrayList<>(all.values());
    }

    /** Keeps generation 0's YAML models from its first input on, before a restore can change the YAML. */
    private void rememberYaml(String key) throws Exception {
        if (GenerationKey.generationOf(key) == 0) {
            startedWith();
        }
    }

    /** Generation 0's YAML models per slot, from the first time the generation is seen. */
    private String[] startedWith() throws Exception {
        String[] ids = startedWith.value();
        if (ids == null) {
            ids = layout.modelIds();
            startedWith.update(ids);
        }
        return ids;
    }

    /** The models in the slots whose evidence can fall in [start, end): a report's names for its slots. */
    private ModelLayout view(List<SlotAssignment> assignments, long start, long end) {
        String[] ids = new String[layout.models()];
        ids[0] = layout.modelId(0);
        for (SlotAssignment a : assignments) {
            // The live slot is never empty: its model is the generation's, whatever the window.
            if (a.overlaps(start, end) || a.slot == 0) {
                ids[a.slot] = a.modelId;
            }
        }
        return layout.withIds(ids);
    }

    private static long startOf(List<SlotAssignment> assignments, int slot, long end) {
        long start = Long.MIN_VALUE;
        for (SlotAssignment a : assignments) {
            if (a.slot == slot && a.from < end) {
                start = Math.max(start, a.from);
            }
        }
        return start;
    }

    private static List<SlotAssignment> releasedBy(List<SlotAssignment> assignments, long time) {
        List<SlotAssignment> out = new ArrayList<>();
        for (SlotAssignment a : assignments) {
            if (a.releasedAt <= time) {
                out.add(a);
            }
        }
        return out;
    }

    /** Forgets released models: their slot's cumulative evidence and verdict memory, then the models. */
    private void release(
            List<SlotAssignment> models,
            ExperimentAccumulator total,
            VerdictMemory memory,
            List<SlotAssignment> assignments)
            throws Exception {
        for (SlotAssignment a : models) {
            if (total != null) {
                total.clearModel(a.slot);
            }
            memory.forget(a.modelId);
            released.put(a.key(), true);
            slotChanges.remove(a.key());
            assignments.remove(a);
            LOG.info("released {}: final verdict emitted", a);
        }
    }

    /**
     * The canary sections of {@code report} from {@code acc}; with {@code memory} (cumulative reports) the
     * tests remember earlier windows and decide, and their assessments are returned.
     */
    private List<CanaryPolicy.Assessment> canary(
            ComparisonReport report, ExperimentAccumulator acc, VerdictMemory memory, long end) {
        ArmLayout arms = layout.arms();
        CanaryPolicy.SrmResult srm =
                canaryPolicy.sampleRatio(acc.arms(), arms, memory == null ? null : memory.candidate(CANARY_SRM_MEMORY));
        List<CanaryPolicy.Assessment> assessments = new ArrayList<>();
        for (int a = 1; a < arms.arms(); a++) {
            assessments.add(canaryPolicy.assess(
                    acc.arms(),
                    arms,
                    a,
                    srm,
                    memory == null ? null : memory.candidate(CANARY_MEMORY_PREFIX + arms.arm(a)),
                    end));
        }
        CanaryReports.addTo(report, acc.arms(), arms, canary, layout.task(), srm, assessments);
        return assessments;
    }

    /** Verdict memory keys of the canary tests; model ids (name:version) cannot start with them. */
    static final String CANARY_MEMORY_PREFIX = "canary/";

    static final String CANARY_SRM_MEMORY = "canary/:srm";

    /** A canary verdict and its quality interval as gauges of its arm (names in jobs/METRICS.md). */
    private void publishCanaryVerdict(String experimentId, CanaryPolicy.Assessment a) {
        Decision d = a.decision();
        // ROLLBACK = -1, CONTINUE = 0, PROCEED = 1: rollout analyses compare against these.
        publish(
                experimentId,
                "arm",
                a.arm(),
                "canary_verdict",
                d == Decision.ROLLBACK ? -1 : d == Decision.PROCEED ? 1 : 0);
        TestResult quality = a.tests().get(0);
        publish(experimentId, "arm", a.arm(), "canary_estimate", quality.getEstimate());
        publish(experimentId, "arm", a.arm(), "canary_cs_low", quality.getLow());
        publish(experimentId, "arm", a.arm(), "canary_cs_high", quality.getHigh());
    }

    /** Per arm and for the experiment, the canary figures of the cumulative report. */
    private void publishArmGauges(String experimentId, ExperimentAccumulator total, ComparisonReport report) {
        ArmLayout configured = layout.arms();
        for (ArmReport arm : report.getArms()) {
            String name = arm.getArm();
            if (configured.indexOf(arm.getArm(), arm.getModel()) < 0) {
                continue; // evidence of an arm served by another model before a restore: reported, no gauge
            }
            publish(experimentId, "arm", name, "scored", arm.getScored());
            publish(experimentId, "arm", name, "share", arm.getShare());
            publish(experimentId, "arm", name, "expected_share", arm.getExpectedShare());
            publish(experimentId, "arm", name, "labelled", arm.getLabelled());
            Map<String, Double> m = arm.getMetrics();
            publish(experimentId, "arm", name, "error_rate", m.getOrDefault("error_rate", Double.NaN));
            publish(experimentId, "arm", name, "accuracy", m.getOrDefault("accuracy", Double.NaN));
            publish(experimentId, "arm", name, "mean_loss", m.getOrDefault("mean_loss", Double.NaN));
            if (canary.business() != null) {
                publish(
                        experimentId,
                        "arm",
                        name,
                        "business_mean",
                        m.getOrDefault(canary.business().name(), Double.NaN));
            }
            publish(
                    experimentId,
                    "arm",
                    name,
                    "parity_flip_rate",
                    arm.getParity() == null ? Double.NaN : arm.getParity().getFlipRate());
        }
        publish(experimentId, null, "srm_e_value", report.getSampleRatio().getEValue());
        publish(experimentId, null, "srm_mismatch", report.getSampleRatio().getMismatch() ? 1 : 0);
        publish(experimentId, null, "sticky_violation_rate", CanaryReports.stickyViolationRate(total.arms()));
    }

    /** sample_rate, and sample_rate[<candidate>] for a candidate with a smaller sample of its own. */
    private ComparisonReport withSampleRate(ComparisonReport r, ModelLayout view) {
        double experiment = sampleRates == null ? 1.0 : sampleRates[0];
        r.getMetrics().put("sample_rate", experiment);
        for (int c = 1; sampleRates != null && c < sampleRates.length; c++) {
            if (sampleRates[c] < experiment && view.modelId(c) != null) {
                r.getMetrics().put("sample_rate[" + view.modelId(c) + "]", sampleRates[c]);
            }
        }
        return r;
    }

    /**
     * The tests on every labelled pair so far, matured or not, for the report's {@code paired_so_far}:
     * descriptive, without the verdict's memory, and never a verdict.
     */
    private List<VerdictPolicy.Assessment> soFar(ExperimentAccumulator acc, ModelLayout view, long end) {
        List<VerdictPolicy.Assessment> soFar = new ArrayList<>();
        for (int c = 1; c < layout.models(); c++) {
            soFar.add(
                    view.modelId(c) == null
                            ? null
                            : policy.assess(VerdictPolicy.Evidence.soFar(acc, c), null, end, Double.NaN));
        }
        return soFar;
    }

    /** The verdict and its evidence as gauges (names in jobs/README.md). */
    private void publishVerdict(String experimentId, String model, VerdictPolicy.Assessment a) {
        publish(experimentId, model, "verdict", verdictCode(a.decision()));
        publish(experimentId, model, "verdict_primary_estimate", a.primary().getEstimate());
        publish(experimentId, model, "verdict_primary_cs_low", a.primary().getLow());
        publish(experimentId, model, "verdict_primary_cs_high", a.primary().getHigh());
        publish(experimentId, model, "verdict_mcnemar_e_value", a.mcnemarEValue());
        publish(experimentId, model, "verdict_mcnemar_threshold", mcnemarThreshold(a));
        publish(experimentId, model, "verdict_min_detectable_effect", a.minDetectableEffect());
        publish(experimentId, model, "verdict_pairs_needed", a.pairsNeeded());
        publish(experimentId, model, "verdict_hours_needed", a.hoursNeeded());
        publish(experimentId, model, "verdict_first_decided_at", a.firstDecidedAt());
    }

    /**
     * Merges, tolerating accumulators sliced by different segment fields, which only happens when
     * segment_fields changed across a restore (unsupported, see jobs/README.md §10): the per-segment
     * figures then restart instead of the job failing on every restart.
     */
    private static void mergeInto(ExperimentAccumulator into, ExperimentAccumulator other) {
        if (into.mergeReplacingSegments(other)) {
            LOG.warn("segment fields changed across a restore: per-segment report figures restart from here");
        }
    }

    /** The e-value at which McNemar rejects, 1 / its share of alpha; NaN without the test (regression). */
    private static double mcnemarThreshold(VerdictPolicy.Assessment a) {
        for (TestResult t : a.tests()) {
            if (t.getTest().equals("mcnemar")) {
                return 1 / t.getAlpha();
            }
        }
        return Double.NaN;
    }

    private static double verdictCode(Decision d) {
        // REJECT = -1, CONTINUE = 0, PROMOTE = 1: alert rules compare against these.
        return d == Decision.REJECT ? -1 : d == Decision.PROMOTE ? 1 : 0;
    }

    private void publishGauges(String experimentId, ExperimentAccumulator total, ModelLayout layout) {
        publish(experimentId, null, "label_coverage", total.labelCoverage());
        publish(experimentId, null, "matured_requests", total.matured().requests());
        publish(experimentId, null, "matured_label_coverage", total.matured().labelCoverage());
        publish(experimentId, null, "unsampled_requests", total.unsampledRequests());
        LabelDelays delays = total.labelDelays();
        for (int k = 0; k < delays.classes(); k++) {
            String labelClass = delays.classes() == 1 ? "all" : Integer.toString(k);
            publish(experimentId, "class", labelClass, "label_delay_p50_seconds", delays.quantileSeconds(k, 0.5));
            publish(experimentId, "class", labelClass, "label_delay_p90_seconds", delays.quantileSeconds(k, 0.9));
        }
        publish(experimentId, null, "explicit_label_coverage", total.explicitLabelCoverage());
        // Parity of the ONNX live model with the logged outputs: NaN until a request carried one.
        publish(experimentId, null, "parity_compared", total.parity().count());
        publish(experimentId, null, "parity_flip_rate", total.parity().flipRate());
        publish(experimentId, null, "parity_abs_diff_p99", total.parity().absDifferenceQuantile(0.99));
        for (int m = 0; m < layout.models(); m++) {
            if (layout.modelId(m) == null) {
                continue;
            }
            for (Map.Entry<String, Double> q :
                    ReportFactory.qualityMetrics(total, m).entrySet()) {
                publish(experimentId, layout.modelId(m), "quality_" + q.getKey(), q.getValue());
            }
            if (m > 0) {
                publish(
                        experimentId,
                        layout.modelId(m),
                        "disagreement_flip_rate",
                        total.disagreement(m).flipRate());
                publish(
                        experimentId,
                        layout.modelId(m),
                        "disagreement_abs_diff_p99",
                        total.disagreement(m).absDifferenceQuantile(0.99));
                publish(
                        experimentId,
                        layout.modelId(m),
                        "paired_mcnemar_p_value",
                        total.matured().paired(m).mcnemarPValue());
                publish(
                        experimentId,
                        layout.modelId(m),
                        "paired_loss_diff_mean",
                        total.matured().paired(m).meanLossDifference());
            }
        }
    }

    /** Registers a gauge on first use; afterwards only its value changes. */
    private void publish(String experimentId, String model, String name, double value) {
        publish(experimentId, model == null ? null : "model", model, name, value);
    }

    /** A gauge under the experiment's group and, unless {@code group} is null, a group {@code group=value}. */
    private void publish(String experimentId, String group, String value, String name, double v) {
        String key = group + "=" + value + "/" + name;
        if (!gaugeValues.containsKey(key)) {
            MetricGroup g = metricGroup.addGroup("experiment", experimentId);
            if (group != null) {
                g = g.addGroup(group, value);
            }
            g.gauge(name, () -> gaugeValues.get(key));
        }
        gaugeValues.put(key, v);
    }
}
