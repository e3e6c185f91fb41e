package io.shadowml.local.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReliabilityBin;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;

/**
 * What the dashboard shows, kept in memory and bounded: the last {@link #MAX_WINDOWS} TUMBLING reports and
 * CUMULATIVE reports (by window end; a re-emitted window replaces the earlier report), the latest verdict per
 * candidate (and per arm for canary verdicts), dead-letter counts with the last {@link #MAX_DEAD_LETTERS} reasons, and the latency of the last
 * {@link #MAX_LATENCIES} sampled scored events per model. Thread-safe: the feed adds, the HTTP server reads.
 */
public final class DashboardState {
    public static final int MAX_WINDOWS = 2_000;
    public static final int MAX_DEAD_LETTERS = 50;
    public static final int MAX_LATENCIES = 2_000;
    public static final int MAX_VERDICT_HISTORY = 200;

    /** Quality metrics charted over time, in display order, when the reports carry them. */
    static final List<String> QUALITY_METRICS = List.of(
            "accuracy",
            "roc_auc",
            "macro_f1",
            "f1",
            "precision",
            "recall",
            "log_loss",
            "brier",
            "mae",
            "rmse",
            "error_rate",
            "ece");

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final NavigableMap<Long, ComparisonReport> tumbling = new TreeMap<>();
    private final NavigableMap<Long, ComparisonReport> cumulative = new TreeMap<>();
    private final Map<String, Verdict> verdicts = new LinkedHashMap<>();
    private final Deque<Verdict> verdictHistory = new ArrayDeque<>();
    private final Deque<DeadLetter> deadLetters = new ArrayDeque<>();
    private final Map<String, Long> deadLettersBySource = new TreeMap<>();
    private final Map<String, LatencyRing> scoredLatency = new LinkedHashMap<>();
    private final Map<String, Long> scoredErrors = new LinkedHashMap<>();
    private long reportsReceived;
    private long verdictsReceived;
    private long deadLettersReceived;
    private long scoredEventsReceived;
    private long scoredEventDuplicates;
    /** request_ids of the last scored events: that topic is at-least-once, duplicates are skipped. */
    private final Set<String> recentRequestIds = java.util.Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 20_000;
        }
    });

    private long undecodable;
    private String experimentId;
    private long updatedAt;

    public synchronized void addReport(ComparisonReport r) {
        reportsReceived++;
        experimentId = r.getExperimentId();
        NavigableMap<Long, ComparisonReport> target =
                r.getWindowKind() == WindowKind.CUMULATIVE ? cumulative : tumbling;
        target.put(r.getWindowEnd().toEpochMilli(), r);
        while (target.size() > MAX_WINDOWS) {
            target.pollFirstEntry();
        }
        touch();
    }

    public synchronized void addVerdict(Verdict v) {
        verdictsReceived++;
        // A candidate's canary verdicts (arm set) are kept apart from its shadow verdict.
        String key = v.getArm() == null ? v.getCandidate() : v.getCandidate() + "/canary/" + v.getArm();
        Verdict current = verdicts.get(key);
        if (current == null || !v.getDecidedAt().isBefore(current.getDecidedAt())) {
            verdicts.put(key, v);
        }
        verdictHistory.addLast(v);
        while (verdictHistory.size() > MAX_VERDICT_HISTORY) {
            verdictHistory.removeFirst();
        }
        touch();
    }

    public synchronized void addDeadLetter(DeadLetter d) {
        deadLettersReceived++;
        deadLettersBySource.merge(d.getSourceTopic(), 1L, Long::sum);
        deadLetters.addLast(d);
        while (deadLetters.size() > MAX_DEAD_LETTERS) {
            deadLetters.removeFirst();
        }
        touch();
    }

    public synchronized void addScoredEvent(ScoredEvent e) {
        if (!recentRequestIds.add(e.getExperimentId() + "/" + e.getRequestId())) {
            scoredEventDuplicates++;
            return;
        }
        scoredEventsReceived++;
        for (ModelOutput o : e.getOutputs()) {
            String model = o.getModelName() + ":" + o.getModelVersion();
            scoredLatency
                    .computeIfAbsent(model, m -> new LatencyRing(MAX_LATENCIES))
                    .add(o.getLatencyMicros());
            if (o.getError() != null) {
                scoredErrors.merge(model, 1L, Long::sum);
            }
        }
        touch();
    }

    /** A record on one of the topics that could not be decoded (counted, not shown). */
    public synchronized void addUndecodable() {
        undecodable++;
    }

    public synchronized long reportsReceived() {
        return reportsReceived;
    }

    private void touch() {
        updatedAt = System.currentTimeMillis();
    }

    /** The JSON of {@code GET /api/summary}; NaN and infinities are written as null. */
    public String summaryJson() {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public synchronized ObjectNode summary() {
        ObjectNode root = MAPPER.createObjectNode();
        ComparisonReport latest = cumulative.isEmpty()
                ? (tumbling.isEmpty() ? null : tumbling.lastEntry().getValue())
                : cumulative.lastEntry().getValue();
        root.put("experiment_id", experimentId);
        root.put("updated_at", updatedAt == 0 ? null : updatedAt);
        root.put("live_model", latest == null ? null : latest.getLiveModel());
        List<String> models = models();
        List<String> candidates = new ArrayList<>(models.subList(Math.min(1, models.size()), models.size()));
        putStrings(root.putArray("models"), models);
        putStrings(root.putArray("candidates"), candidates);
        List<String> qualityMetrics = qualityMetrics();
        putStrings(root.putArray("quality_metrics"), qualityMetrics);

        ObjectNode received = root.putObject("received");
        received.put("reports", reportsReceived);
        received.put("tumbling_windows", tumbling.size());
        received.put("cumulative_windows", cumulative.size());
        received.put("verdicts", verdictsReceived);
        received.put("dead_letters", deadLettersReceived);
        received.put("scored_events", scoredEventsReceived);
        received.put("undecodable", undecodable);

        ObjectNode counts = root.putObject("counts");
        if (latest != null) {
            var c = latest.getCounts();
            counts.put("scored", c.getScored());
            counts.put("labelled", c.getLabelled());
            counts.put("expired_unlabeled", c.getExpiredUnlabeled());
            counts.put("errors", c.getErrors());
            counts.put("dead_lettered", c.getDeadLettered());
            counts.put("duplicate_labels", c.getDuplicateLabels());
            counts.put("unknown_labels", c.getUnknownLabels());
            num(counts, "label_coverage", latest.getMetrics().getOrDefault("label_coverage", Double.NaN));
            counts.put("window_start", latest.getWindowStart().toEpochMilli());
            counts.put("window_end", latest.getWindowEnd().toEpochMilli());
        }

        // Per TUMBLING window: disagreement, latency, traffic.
        ObjectNode t = root.putObject("tumbling");
        ArrayNode tEnd = t.putArray("window_end");
        ArrayNode tScored = t.putArray("scored");
        ArrayNode tLabelled = t.putArray("labelled");
        ArrayNode tDead = t.putArray("dead_lettered");
        ArrayNode tErrors = t.putArray("errors");
        ObjectNode flip = t.putObject("flip_rate");
        ObjectNode p50 = t.putObject("abs_diff_p50");
        ObjectNode p90 = t.putObject("abs_diff_p90");
        ObjectNode p99 = t.putObject("abs_diff_p99");
        ObjectNode mean = t.putObject("abs_diff_mean");
        ObjectNode latency = t.putObject("latency_mean_micros");
        for (String c : candidates) {
            flip.putArray(c);
            p50.putArray(c);
            p90.putArray(c);
            p99.putArray(c);
            mean.putArray(c);
        }
        for (String m : models) {
            latency.putArray(m);
        }
        for (ComparisonReport r : tumbling.values()) {
            tEnd.add(r.getWindowEnd().toEpochMilli());
            tScored.add(r.getCounts().getScored());
            tLabelled.add(r.getCounts().getLabelled());
            tDead.add(r.getCounts().getDeadLettered());
            tErrors.add(r.getCounts().getErrors());
            Map<String, Disagreement> byCandidate = new LinkedHashMap<>();
            for (Disagreement d : r.getDisagreement()) {
                byCandidate.put(d.getCandidate(), d);
            }
            for (String c : candidates) {
                Disagreement d = byCandidate.get(c);
                add((ArrayNode) flip.get(c), d == null ? Double.NaN : d.getFlipRate());
                add((ArrayNode) p50.get(c), d == null ? Double.NaN : d.getAbsDiffP50());
                add((ArrayNode) p90.get(c), d == null ? Double.NaN : d.getAbsDiffP90());
                add((ArrayNode) p99.get(c), d == null ? Double.NaN : d.getAbsDiffP99());
                add((ArrayNode) mean.get(c), d == null ? Double.NaN : d.getAbsDiffMean());
            }
            Map<String, ModelQuality> byModel = byModel(r);
            for (String m : models) {
                ModelQuality q = byModel.get(m);
                add(
                        (ArrayNode) latency.get(m),
                        q == null ? Double.NaN : q.getMetrics().getOrDefault("latency_mean_micros", Double.NaN));
            }
        }

        // Per CUMULATIVE report: quality since the start, label coverage.
        ObjectNode cu = root.putObject("cumulative");
        ArrayNode cEnd = cu.putArray("window_end");
        ArrayNode coverage = cu.putArray("label_coverage");
        ArrayNode cLabelled = cu.putArray("labelled");
        ArrayNode cScored = cu.putArray("scored");
        ArrayNode cDead = cu.putArray("dead_lettered");
        ObjectNode quality = cu.putObject("quality");
        ObjectNode primary = cu.putObject("primary");
        ObjectNode eValue = cu.putObject("mcnemar_e_value");
        for (String c : candidates) {
            ObjectNode o = primary.putObject(c);
            o.putArray("estimate");
            o.putArray("low");
            o.putArray("high");
            o.putArray("metric");
            eValue.putArray(c);
        }
        for (String k : qualityMetrics) {
            ObjectNode perModel = quality.putObject(k);
            for (String m : models) {
                perModel.putArray(m);
            }
        }
        for (ComparisonReport r : cumulative.values()) {
            cEnd.add(r.getWindowEnd().toEpochMilli());
            add(coverage, r.getMetrics().getOrDefault("label_coverage", Double.NaN));
            cLabelled.add(r.getCounts().getLabelled());
            cScored.add(r.getCounts().getScored());
            cDead.add(r.getCounts().getDeadLettered());
            Map<String, PairedTest> byCandidate = new LinkedHashMap<>();
            for (PairedTest p : r.getPaired()) {
                byCandidate.put(p.getCandidate(), p);
            }
            for (String c : candidates) {
                PairedTest p = byCandidate.get(c);
                ObjectNode o = (ObjectNode) primary.get(c);
                boolean has = p != null && primaryReported(p);
                add((ArrayNode) o.get("estimate"), has ? p.getPrimaryEstimate() : Double.NaN);
                add((ArrayNode) o.get("low"), has ? p.getPrimaryCsLow() : Double.NaN);
                add((ArrayNode) o.get("high"), has ? p.getPrimaryCsHigh() : Double.NaN);
                ((ArrayNode) o.get("metric")).add(p == null ? null : p.getPrimaryMetric());
                add((ArrayNode) eValue.get(c), p == null ? Double.NaN : p.getMcnemarEValue());
            }
            Map<String, ModelQuality> byModel = byModel(r);
            for (String k : qualityMetrics) {
                for (String m : models) {
                    ModelQuality q = byModel.get(m);
                    add(
                            (ArrayNode) quality.get(k).get(m),
                            q == null ? Double.NaN : q.getMetrics().getOrDefault(k, Double.NaN));
                }
            }
        }

        // The latest cumulative report in full (the numbers of the summary table).
        ObjectNode l = root.putObject("latest");
        if (latest != null) {
            l.put("window_kind", latest.getWindowKind().toString());
            l.put("window_start", latest.getWindowStart().toEpochMilli());
            l.put("window_end", latest.getWindowEnd().toEpochMilli());
            ArrayNode qs = l.putArray("quality");
            for (ModelQuality q : latest.getQuality()) {
                ObjectNode o = qs.addObject();
                o.put("model", q.getModel());
                o.put("role", q.getRole().toString());
                o.put("labelled", q.getLabelled());
                o.put("errors", q.getErrors());
                ObjectNode ms = o.putObject("metrics");
                new TreeMap<>(q.getMetrics()).forEach((k, v) -> num(ms, k, v));
                ArrayNode bins = o.putArray("calibration");
                for (ReliabilityBin b : q.getCalibration()) {
                    ObjectNode bo = bins.addObject();
                    num(bo, "lower", b.getLower());
                    num(bo, "upper", b.getUpper());
                    bo.put("count", b.getCount());
                    num(bo, "mean_predicted", b.getMeanPredicted());
                    num(bo, "observed", b.getObserved());
                }
            }
            ArrayNode ds = l.putArray("disagreement");
            for (Disagreement d : latest.getDisagreement()) {
                ObjectNode o = ds.addObject();
                o.put("candidate", d.getCandidate());
                o.put("compared", d.getCompared());
                o.put("flips", d.getFlips());
                num(o, "flip_rate", d.getFlipRate());
                num(o, "abs_diff_mean", d.getAbsDiffMean());
                num(o, "abs_diff_p50", d.getAbsDiffP50());
                num(o, "abs_diff_p90", d.getAbsDiffP90());
                num(o, "abs_diff_p99", d.getAbsDiffP99());
                num(o, "abs_diff_max", d.getAbsDiffMax());
            }
            ArrayNode ps = l.putArray("paired");
            for (PairedTest p : latest.getPaired()) {
                ObjectNode o = ps.addObject();
                o.put("candidate", p.getCandidate());
                o.put("pairs", p.getPairs());
                o.put("live_only_correct", p.getLiveOnlyCorrect());
                o.put("candidate_only_correct", p.getCandidateOnlyCorrect());
                num(o, "mcnemar_p_value", p.getMcnemarPValue());
                num(o, "loss_diff_mean", p.getLossDiffMean());
                num(o, "loss_diff_ci_low", p.getLossDiffCiLow());
                num(o, "loss_diff_ci_high", p.getLossDiffCiHigh());
                o.put("primary_metric", p.getPrimaryMetric());
                // Avro defaults (a job that does not fill the interval yet): [0, 0] is no interval at all.
                boolean has = primaryReported(p);
                num(o, "primary_estimate", has ? p.getPrimaryEstimate() : Double.NaN);
                bound(o, "primary_cs_low", has ? p.getPrimaryCsLow() : Double.NaN);
                bound(o, "primary_cs_high", has ? p.getPrimaryCsHigh() : Double.NaN);
                num(o, "min_detectable_effect", has ? p.getMinDetectableEffect() : Double.NaN);
                num(o, "mcnemar_e_value", p.getMcnemarEValue());
                num(o, "mcnemar_always_valid_p", p.getMcnemarAlwaysValidP());
                if (p.getPairsNeeded() < 0) {
                    o.putNull("pairs_needed");
                } else {
                    o.put("pairs_needed", p.getPairsNeeded());
                }
                num(o, "hours_needed", p.getHoursNeeded() < 0 ? Double.NaN : p.getHoursNeeded());
                tests(o.putArray("tests"), p.getTests());
            }
        }

        ArrayNode vs = root.putArray("verdicts");
        for (Verdict v : verdicts.values()) {
            ObjectNode o = vs.addObject();
            o.put("candidate", v.getCandidate());
            if (v.getArm() != null) {
                o.put("arm", v.getArm());
            }
            o.put("decision", v.getDecision().toString());
            o.put("decided_at", v.getDecidedAt().toEpochMilli());
            if (v.getFirstDecidedAt() == null) {
                o.putNull("first_decided_at");
            } else {
                o.put("first_decided_at", v.getFirstDecidedAt().toEpochMilli());
            }
            num(o, "alpha", v.getAlpha() > 0 ? v.getAlpha() : Double.NaN);
            putStrings(
                    o.putArray("reasons"),
                    v.getReasons().stream().map(CharSequence::toString).toList());
            tests(o.putArray("evidence"), v.getEvidence());
        }
        ArrayNode history = root.putArray("verdict_history");
        for (Verdict v : verdictHistory) {
            ObjectNode o = history.addObject();
            o.put("candidate", v.getCandidate());
            if (v.getArm() != null) {
                o.put("arm", v.getArm());
            }
            o.put("decision", v.getDecision().toString());
            o.put("decided_at", v.getDecidedAt().toEpochMilli());
        }

        ObjectNode dl = root.putObject("dead_letters");
        dl.put("count", deadLettersReceived);
        ObjectNode bySource = dl.putObject("by_source_topic");
        deadLettersBySource.forEach(bySource::put);
        ArrayNode recent = dl.putArray("recent");
        List<DeadLetter> newestFirst = new ArrayList<>(deadLetters);
        java.util.Collections.reverse(newestFirst);
        for (DeadLetter d : newestFirst) {
            ObjectNode o = recent.addObject();
            o.put("reason", d.getReason());
            o.put("source_topic", d.getSourceTopic());
            o.put("partition", d.getPartition());
            o.put("offset", d.getOffset());
            o.put("failed_at", d.getFailedAt().toEpochMilli());
        }

        ObjectNode se = root.putObject("scored_events");
        se.put("count", scoredEventsReceived);
        se.put("duplicates_skipped", scoredEventDuplicates);
        ObjectNode lat = se.putObject("latency_micros");
        for (Map.Entry<String, LatencyRing> e : scoredLatency.entrySet()) {
            ObjectNode o = lat.putObject(e.getKey());
            LatencyRing ring = e.getValue();
            o.put("samples", ring.size());
            num(o, "mean", ring.mean());
            num(o, "p50", ring.quantile(0.5));
            num(o, "p90", ring.quantile(0.9));
            num(o, "p99", ring.quantile(0.99));
            o.put("errors", scoredErrors.getOrDefault(e.getKey(), 0L));
        }
        return root;
    }

    /** Live model first, then the candidates, in the order the reports list them. */
    private List<String> models() {
        Set<String> models = new LinkedHashSet<>();
        ComparisonReport latest = !cumulative.isEmpty()
                ? cumulative.lastEntry().getValue()
                : !tumbling.isEmpty() ? tumbling.lastEntry().getValue() : null;
        if (latest != null) {
            models.add(latest.getLiveModel());
            for (ModelQuality q : latest.getQuality()) {
                models.add(q.getModel());
            }
            for (Disagreement d : latest.getDisagreement()) {
                models.add(d.getCandidate());
            }
        }
        for (String m : scoredLatency.keySet()) {
            models.add(m);
        }
        return new ArrayList<>(models);
    }

    private List<String> qualityMetrics() {
        Set<String> present = new LinkedHashSet<>();
        for (NavigableMap<Long, ComparisonReport> m : List.of(cumulative, tumbling)) {
            if (!m.isEmpty()) {
                for (ModelQuality q : m.lastEntry().getValue().getQuality()) {
                    present.addAll(q.getMetrics().keySet());
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String k : QUALITY_METRICS) {
            if (present.contains(k)) {
                out.add(k);
            }
        }
        return out;
    }

    private static Map<String, ModelQuality> byModel(ComparisonReport r) {
        Map<String, ModelQuality> byModel = new LinkedHashMap<>();
        for (ModelQuality q : r.getQuality()) {
            byModel.put(q.getModel(), q);
        }
        return byModel;
    }

    /**
     * Whether the job filled the primary interval: the Avro default is the degenerate [0, 0], which no
     * confidence sequence produces (before any evidence it is (-Infinity, +Infinity)).
     */
    static boolean primaryReported(PairedTest p) {
        return !(p.getPrimaryCsLow() == 0.0 && p.getPrimaryCsHigh() == 0.0);
    }

    private static void tests(ArrayNode a, List<TestResult> tests) {
        for (TestResult t : tests) {
            ObjectNode o = a.addObject();
            o.put("test", t.getTest());
            o.put("metric", t.getMetric());
            o.put("segment", t.getSegment() == null ? null : t.getSegment().toString());
            num(o, "estimate", t.getEstimate());
            bound(o, "low", t.getLow());
            bound(o, "high", t.getHigh());
            num(o, "margin", t.getMargin());
            num(o, "alpha", t.getAlpha());
            num(o, "e_value", t.getEValue());
            o.put("pairs", t.getPairs());
            o.put("outcome", t.getOutcome().toString());
        }
    }

    /** An interval end: infinities (no evidence yet) as the strings "Infinity" / "-Infinity", NaN as null. */
    static void bound(ObjectNode o, String key, double v) {
        if (Double.isInfinite(v)) {
            o.put(key, v > 0 ? "Infinity" : "-Infinity");
        } else {
            num(o, key, v);
        }
    }

    private static void putStrings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    static void num(ObjectNode o, String key, Double v) {
        if (v == null || !Double.isFinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    static void add(ArrayNode a, Double v) {
        if (v == null || !Double.isFinite(v)) {
            a.addNull();
        } else {
            a.add(v);
        }
    }

    /** The last {@code capacity} latencies of one model. */
    static final class LatencyRing {
        private final long[] values;
        private int next;
        private int size;

        LatencyRing(int capacity) {
            values = new long[capacity];
        }

        void add(long v) {
            values[next] = v;
            next = (next + 1) % values.length;
            size = Math.min(size + 1, values.length);
        }

        int size() {
            return size;
        }

        double mean() {
            if (size == 0) {
                return Double.NaN;
            }
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += values[i];
            }
            return sum / size;
        }

        /** Nearest-rank quantile. */
        double quantile(double q) {
            if (size == 0) {
                return Double.NaN;
            }
            long[] sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(q * size);
            return sorted[Math.max(0, Math.min(size - 1, rank - 1))];
        }
    }
}
