package io.shadowml.local;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.shadowml.avro.ArmReport;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.LabelDelay;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.SampleRatioTest;
import io.shadowml.avro.StickyAssignment;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;

/**
 * The end-of-scenario summary: per-model quality, disagreement, paired test with its anytime-valid evidence,
 * coverage, verdict; with a canary (the report's arms, canary verdicts) also the arms, the sample ratio and
 * stickiness, and the shadow and canary verdicts side by side. ASCII only (the console's charset is not known); "n/a" for what the reports do not carry
 * yet (Avro defaults).
 */
final class SummaryTable {
    private SummaryTable() {}

    static String progressLine(
            double seconds, TimelineReplayer replay, ComparisonReport r, Map<String, Verdict> verdicts) {
        StringBuilder b = new StringBuilder(String.format(
                Locale.ROOT,
                "[%5.1fs] sent %d/%d requests, %d labels",
                seconds,
                replay.sentRequests.get(),
                replay.requestCount,
                replay.sentLabels.get()));
        if (r != null) {
            b.append(String.format(
                    Locale.ROOT,
                    " | scored %d, labelled %d, expired %d, dead-lettered %d, matured %d",
                    r.getCounts().getScored(),
                    r.getCounts().getLabelled(),
                    r.getCounts().getExpiredUnlabeled(),
                    r.getCounts().getDeadLettered(),
                    r.getCounts().getMaturedRequests()));
            for (Disagreement d : r.getDisagreement()) {
                b.append(String.format(Locale.ROOT, " | flips %.2f%%", 100 * d.getFlipRate()));
            }
        } else {
            b.append(" | waiting for the first report");
        }
        for (Verdict v : verdicts.values()) {
            b.append(v.getArm() == null ? " | verdict " : " | canary ").append(v.getDecision());
        }
        return b.toString();
    }

    static String render(ComparisonReport r, Map<String, Verdict> verdicts) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(
                Locale.ROOT,
                "Experiment %s, cumulative %s .. %s",
                r.getExperimentId(),
                r.getWindowStart(),
                r.getWindowEnd()));
        var c = r.getCounts();
        lines.add(String.format(
                Locale.ROOT,
                "Events: scored %d, labelled %d (coverage %.1f%%), expired unlabelled %d, dead-lettered %d, duplicate labels %d, unknown labels %d, model errors %d",
                c.getScored(),
                c.getLabelled(),
                100 * r.getMetrics().getOrDefault("label_coverage", Double.NaN),
                c.getExpiredUnlabeled(),
                c.getDeadLettered(),
                c.getDuplicateLabels(),
                c.getUnknownLabels(),
                c.getErrors()));
        lines.add(String.format(
                Locale.ROOT,
                "Matured (the verdict's evidence): %d requests, %d labelled within label_maturity (%.1f%%)",
                c.getMaturedRequests(),
                c.getMaturedLabelled(),
                100 * r.getMetrics().getOrDefault("matured_label_coverage", Double.NaN)));
        if (c.getUnsampledRequests() > 0) {
            lines.add(String.format(
                    Locale.ROOT,
                    "Sampling: rate %.3g, %d requests and %d labels outside the sample (counted only)",
                    r.getMetrics().getOrDefault("sample_rate", Double.NaN),
                    c.getUnsampledRequests(),
                    c.getUnsampledLabels()));
        }
        if (!r.getLabelDelays().isEmpty()) {
            List<String> delays = new ArrayList<>();
            for (LabelDelay d : r.getLabelDelays()) {
                delays.add(String.format(
                        Locale.ROOT,
                        "class %s: %d labels, p50 %s p90 %s p99 %s",
                        d.getLabelClass(),
                        d.getLabels(),
                        duration(d.getP50Seconds()),
                        duration(d.getP90Seconds()),
                        duration(d.getP99Seconds())));
            }
            lines.add("Label delay: " + String.join("; ", delays));
        }
        lines.add("");
        List<String> keys = List.of(
                "accuracy",
                "roc_auc",
                "roc_auc_max_error",
                "f1",
                "precision",
                "recall",
                "macro_f1",
                "log_loss",
                "brier",
                "ece",
                "mae",
                "rmse",
                "latency_mean_micros");
        List<String> present = new ArrayList<>();
        for (String k : keys) {
            if (r.getQuality().get(0).getMetrics().containsKey(k)) {
                present.add(k);
            }
        }
        StringBuilder header = new StringBuilder(String.format("%-28s %-9s %9s", "model", "role", "labelled"));
        for (String k : present) {
            header.append(String.format(
                    " %12s",
                    k.equals("latency_mean_micros") ? "latency_us" : k.equals("roc_auc_max_error") ? "roc_auc+-" : k));
        }
        lines.add(header.toString());
        for (ModelQuality q : r.getQuality()) {
            StringBuilder row =
                    new StringBuilder(String.format("%-28s %-9s %9d", q.getModel(), q.getRole(), q.getLabelled()));
            for (String k : present) {
                row.append(String.format(Locale.ROOT, " %12.4f", q.getMetrics().get(k)));
            }
            lines.add(row.toString());
        }
        lines.add("");
        for (Disagreement d : r.getDisagreement()) {
            lines.add(String.format(
                    Locale.ROOT,
                    "Disagreement %s vs live: flips %d of %d (%.2f%%), |diff| mean %.4f p50 %.4f p90 %.4f p99 %.4f max %.4f",
                    d.getCandidate(),
                    d.getFlips(),
                    d.getCompared(),
                    100 * d.getFlipRate(),
                    d.getAbsDiffMean(),
                    d.getAbsDiffP50(),
                    d.getAbsDiffP90(),
                    d.getAbsDiffP99(),
                    d.getAbsDiffMax()));
        }
        for (PairedTest p : r.getPaired()) {
            lines.add(String.format(
                    Locale.ROOT,
                    "Paired test %s: %d pairs, live-only right %d, candidate-only right %d, McNemar p=%.3g, loss diff %.5f [95%% t CI %.5f, %.5f, descriptive]",
                    p.getCandidate(),
                    p.getPairs(),
                    p.getLiveOnlyCorrect(),
                    p.getCandidateOnlyCorrect(),
                    p.getMcnemarPValue(),
                    p.getLossDiffMean(),
                    p.getLossDiffCiLow(),
                    p.getLossDiffCiHigh()));
            lines.add("  " + anytimeValid(p));
            for (PairedTest soFar : r.getPairedSoFar()) {
                if (soFar.getCandidate().equals(p.getCandidate()) && soFar.getPairs() != p.getPairs()) {
                    lines.add(String.format(
                            Locale.ROOT,
                            "  so far, matured or not (never decides): %d pairs, loss diff %.5f",
                            soFar.getPairs(),
                            soFar.getLossDiffMean()));
                }
            }
            for (TestResult t : p.getTests()) {
                lines.add("    " + test(t));
            }
        }
        Collection<Verdict> shown = verdicts.values();
        if (!r.getArms().isEmpty() || shown.stream().anyMatch(v -> v.getArm() != null)) {
            lines.add("");
            lines.addAll(arms(r));
            lines.add("");
            lines.addAll(sideBySide(shown));
            shown = shown.stream()
                    .sorted(Comparator.comparing(Verdict::getCandidate)
                            .thenComparing(v -> v.getArm() == null ? "" : v.getArm()))
                    .toList();
        }
        for (Verdict v : shown) {
            lines.add((v.getArm() == null ? "Verdict " : "Canary verdict ") + v.getCandidate()
                    + (v.getArm() == null ? "" : " (arm " + v.getArm() + ")") + ": " + v.getDecision()
                    + ", first decided "
                    + (v.getFirstDecidedAt() == null
                            ? "n/a"
                            : v.getFirstDecidedAt().toString())
                    + (v.getAlpha() > 0 ? String.format(Locale.ROOT, ", alpha %.4g", v.getAlpha()) : "")
                    + " (" + String.join("; ", v.getReasons()) + ")");
            if (!v.getEvidence().isEmpty()) {
                lines.add("  evidence:");
                for (TestResult t : v.getEvidence()) {
                    lines.add("    " + test(t));
                }
            }
        }
        return String.join("\n", lines);
    }

    /**
     * The canary analysis (canary.arms): per arm what it served, its share against the expected one, the quality
     * of what it served (the report's arm metrics: accuracy, mean_loss, the business metric, error_rate) and the
     * parity of the model as the job ran it with the output the arm logged; then the sample ratio test and the
     * stickiness of entities.
     */
    static List<String> arms(ComparisonReport r) {
        List<String> lines = new ArrayList<>();
        lines.add("Canary arms (by served_by; the requests each arm served in production):");
        List<String> keys = armMetricKeys(r.getArms());
        StringBuilder header = new StringBuilder(String.format(
                "  %-10s %-28s %8s %8s %8s %9s", "arm", "model", "scored", "share", "expected", "labelled"));
        for (String k : keys) {
            header.append(String.format(" %12s", k));
        }
        lines.add(header.append("  parity (shadow vs served)").toString());
        for (ArmReport a : r.getArms()) {
            StringBuilder row = new StringBuilder(String.format(
                    Locale.ROOT,
                    "  %-10s %-28s %8d %7.2f%% %7.2f%% %9d",
                    a.getArm(),
                    a.getModel() + (a.getControl() ? " (live)" : ""),
                    a.getScored(),
                    100 * a.getShare(),
                    100 * a.getExpectedShare(),
                    a.getLabelled()));
            for (String k : keys) {
                row.append(String.format(" %12s", armMetric(a.getMetrics().getOrDefault(k, Double.NaN))));
            }
            Disagreement p = a.getParity();
            row.append("  ")
                    .append(
                            p == null
                                    ? "n/a (no logged output)"
                                    : String.format(
                                            Locale.ROOT,
                                            "flips %d of %d (%.2f%%), |diff| max %s",
                                            p.getFlips(),
                                            p.getCompared(),
                                            100 * p.getFlipRate(),
                                            num(p.getAbsDiffMax())));
            lines.add(row.toString());
        }
        String control = r.getArms().stream()
                .filter(ArmReport::getControl)
                .map(ArmReport::getArm)
                .findFirst()
                .orElse("control");
        for (ArmReport a : r.getArms()) {
            if (!a.getTests().isEmpty()) {
                lines.add("  " + a.getArm() + " - " + control + ", unpaired, on " + a.getMaturedLabelled()
                        + " matured labelled outcomes:");
                for (TestResult t : a.getTests()) {
                    lines.add("    " + test(t));
                }
            }
        }
        SampleRatioTest srm = r.getSampleRatio();
        lines.add(
                srm == null
                        ? "Sample ratio: n/a"
                        : String.format(
                                Locale.ROOT,
                                "Sample ratio: %d %ss, e-value %s (alpha %s: detects at %s) -> %s",
                                srm.getRequests(),
                                srm.getUnit(),
                                num(srm.getEValue()),
                                num(srm.getAlpha()),
                                srm.getAlpha() > 0 ? num(1 / srm.getAlpha()) : "n/a",
                                srm.getMismatch() ? "MISMATCH, the split is not the configured one" : "no mismatch"));
        StickyAssignment sticky = r.getStickyAssignment();
        lines.add(
                sticky == null
                        ? "Sticky assignment: n/a"
                        : String.format(
                                Locale.ROOT,
                                "Sticky assignment: %d of %d entities served by more than one arm (rate %.2f%%)",
                                sticky.getMultiArmEntities(),
                                sticky.getEntities(),
                                100 * sticky.getRate()));
        return lines;
    }

    /** Rates with 4 significant digits, a business metric (money) of 1000 or more to one decimal. */
    private static String armMetric(double v) {
        return Double.isFinite(v) && Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%.1f", v) : num(v);
    }

    /** The arms' metric names: accuracy and mean_loss first, error_rate last, the others (business) between. */
    private static List<String> armMetricKeys(List<ArmReport> arms) {
        List<String> first = List.of("accuracy", "mean_loss");
        Set<String> others = new TreeSet<>();
        for (ArmReport a : arms) {
            others.addAll(a.getMetrics().keySet());
        }
        List<String> keys = new ArrayList<>();
        for (String k : first) {
            if (others.remove(k)) {
                keys.add(k);
            }
        }
        boolean errorRate = others.remove("error_rate");
        keys.addAll(others);
        if (errorRate) {
            keys.add("error_rate");
        }
        return keys;
    }

    /**
     * Per candidate, the shadow verdict (paired evidence on every request) next to the canary verdict (what each
     * arm served); "n/a" where the job has published none yet.
     */
    static List<String> sideBySide(Collection<Verdict> verdicts) {
        Map<String, String> shadow = new TreeMap<>();
        Map<String, List<String>> canary = new TreeMap<>();
        for (Verdict v : verdicts) {
            if (v.getArm() == null) {
                shadow.put(v.getCandidate(), decision(v));
                canary.putIfAbsent(v.getCandidate(), new ArrayList<>());
            } else {
                canary.computeIfAbsent(v.getCandidate(), c -> new ArrayList<>())
                        .add(decision(v) + " (arm " + v.getArm() + ")");
            }
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format(
                "%-28s %-40s %s", "Verdicts", "shadow (paired, every request)", "canary (the traffic it served)"));
        for (Map.Entry<String, List<String>> e : canary.entrySet()) {
            List<String> c = e.getValue().stream().sorted().toList();
            lines.add(String.format(
                    "%-28s %-40s %s",
                    e.getKey(), shadow.getOrDefault(e.getKey(), "n/a"), c.isEmpty() ? "n/a" : String.join("; ", c)));
        }
        return lines;
    }

    private static String decision(Verdict v) {
        return v.getDecision() + (v.getFirstDecidedAt() == null ? "" : " since " + v.getFirstDecidedAt());
    }

    /** The primary metric's anytime-valid interval, the McNemar e-value and what is still needed. */
    static String anytimeValid(PairedTest p) {
        // [0, 0] is the Avro default: a job that does not fill the interval; no confidence sequence gives it.
        boolean reported = !(p.getPrimaryCsLow() == 0.0 && p.getPrimaryCsHigh() == 0.0);
        String needed = p.getPairsNeeded() == 0
                ? "decided"
                : p.getPairsNeeded() < 0
                        ? "n/a"
                        : p.getPairsNeeded() + " pairs"
                                + (p.getHoursNeeded() < 0
                                        ? ""
                                        : String.format(Locale.ROOT, " (%.1f h)", p.getHoursNeeded()));
        return String.format(
                Locale.ROOT,
                "Anytime-valid: %s candidate - live %s %s, min detectable effect %s, McNemar e-value %s (always-valid p %s), still needed %s",
                p.getPrimaryMetric(),
                reported ? signed(p.getPrimaryEstimate()) : "n/a",
                reported ? interval(p.getPrimaryCsLow(), p.getPrimaryCsHigh()) : "[n/a]",
                reported ? num(p.getMinDetectableEffect()) : "n/a",
                num(p.getMcnemarEValue()),
                num(p.getMcnemarAlwaysValidP()),
                needed);
    }

    static String test(TestResult t) {
        return String.format(
                Locale.ROOT,
                "%-10s %-13s %-16s %s %s%s%s, %d pairs -> %s",
                t.getTest(),
                t.getMetric(),
                t.getSegment() == null ? "-" : t.getSegment(),
                signed(t.getEstimate()),
                interval(t.getLow(), t.getHigh()),
                t.getMargin() != 0 ? ", margin " + num(t.getMargin()) : "",
                t.getEValue() == null ? "" : ", e-value " + num(t.getEValue()),
                t.getPairs(),
                t.getOutcome());
    }

    static String interval(double low, double high) {
        return "[" + num(low) + ", " + num(high) + "]";
    }

    static String signed(double v) {
        return Double.isFinite(v) && v > 0 ? "+" + num(v) : num(v);
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+inf" : "-inf";
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** Seconds as the largest unit that keeps them readable: 45s, 12.5m, 3.2h, 8.5d. */
    static String duration(double seconds) {
        if (Double.isNaN(seconds)) {
            return "n/a";
        }
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.0fs", seconds);
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%.1fm", seconds / 60);
        }
        if (seconds < 86_400) {
            return String.format(Locale.ROOT, "%.1fh", seconds / 3600);
        }
        return String.format(Locale.ROOT, "%.1fd", seconds / 86_400);
    }
}
