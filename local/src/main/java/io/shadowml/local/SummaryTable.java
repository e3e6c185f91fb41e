package io.shadowml.local;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.LabelDelay;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;

/**
 * The end-of-scenario summary: per-model quality, disagreement, paired test with its anytime-valid evidence,
 * coverage, verdict. ASCII only (the console's charset is not known); "n/a" for what the reports do not carry
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
            b.append(" | verdict ").append(v.getDecision());
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
        for (Verdict v : verdicts.values()) {
            lines.add("Verdict " + v.getCandidate() + ": " + v.getDecision()
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
