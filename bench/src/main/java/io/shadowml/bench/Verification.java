package io.shadowml.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.WindowKind;

/**
 * The checks every measured run must pass, against counts known from the generated data alone
 * ({@link BenchData.Written}), never from the job: a run that lost or invented records is not a
 * throughput figure. A mismatch fails the benchmark ({@link Failed}).
 */
final class Verification {
    /** A run did not produce what the data says it must. */
    static final class Failed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failed(String message) {
            super(message);
        }
    }

    private Verification() {}

    /** The ceiling read and decoded every request and every label; returns what was verified. */
    static String ceiling(
            String run,
            BenchData.Written data,
            long requests,
            long undecodableRequests,
            long labels,
            long undecodableLabels) {
        List<String> wrong = new ArrayList<>();
        expect(wrong, "requests read", data.requests(), requests);
        expect(wrong, "labels read", data.labels(), labels);
        expect(wrong, "undecodable requests", 0, undecodableRequests);
        expect(wrong, "undecodable labels", 0, undecodableLabels);
        failIfAny(run, wrong);
        return String.format(Locale.ROOT, "read %,d requests and %,d labels", requests, labels);
    }

    /** The last CUMULATIVE report (the latest window end), or null. */
    static ComparisonReport finalCumulative(List<ComparisonReport> reports) {
        return reports.stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                .orElse(null);
    }

    /**
     * What is wrong with the whole job's final cumulative report: every request scored, every label
     * joined (all are within the horizon), the rest expired, and no dead letters, duplicate or unknown
     * labels or model errors. Empty when it is right.
     */
    static List<String> mismatches(BenchData.Written data, ComparisonReport cumulative, boolean sampled) {
        List<String> wrong = new ArrayList<>();
        if (cumulative == null) {
            wrong.add("no CUMULATIVE report was committed");
            return wrong;
        }
        ReportCounts c = cumulative.getCounts();
        if (sampled) {
            // Every request and label either in the sample or counted out of it; every sampled request
            // labelled or expired.
            expect(wrong, "scored + unsampled", data.requests(), c.getScored() + c.getUnsampledRequests());
            expect(wrong, "labelled + unsampled labels", data.labels(), c.getLabelled() + c.getUnsampledLabels());
            expect(wrong, "expired unlabelled", c.getScored() - c.getLabelled(), c.getExpiredUnlabeled());
        } else {
            expect(wrong, "scored", data.requests(), c.getScored());
            expect(wrong, "labelled", data.labels(), c.getLabelled());
            expect(wrong, "expired unlabelled", data.unlabelled(), c.getExpiredUnlabeled());
            expect(wrong, "unsampled requests", 0, c.getUnsampledRequests());
        }
        expect(wrong, "dead letters", 0, c.getDeadLettered());
        expect(wrong, "model errors", 0, c.getErrors());
        expect(wrong, "duplicate labels", 0, c.getDuplicateLabels());
        expect(wrong, "unknown labels", 0, c.getUnknownLabels());
        return wrong;
    }

    /** Fails unless {@link #mismatches} is empty; returns what was verified. */
    static String wholeJob(
            String run, String topic, BenchData.Written data, ComparisonReport cumulative, boolean sampled) {
        List<String> wrong = mismatches(data, cumulative, sampled);
        if (!wrong.isEmpty()) {
            failIfAny(run + ": final cumulative report on " + topic, wrong);
        }
        ReportCounts c = cumulative.getCounts();
        return String.format(
                Locale.ROOT,
                "scored %,d%s, labelled %,d, expired %,d, dead letters %d, model errors %d",
                c.getScored(),
                sampled ? String.format(Locale.ROOT, " (unsampled %,d)", c.getUnsampledRequests()) : "",
                c.getLabelled(),
                c.getExpiredUnlabeled(),
                c.getDeadLettered(),
                c.getErrors());
    }

    private static void expect(List<String> wrong, String what, long expected, long actual) {
        if (expected != actual) {
            wrong.add(String.format(Locale.ROOT, "%s %,d, expected %,d", what, actual, expected));
        }
    }

    private static void failIfAny(String where, List<String> wrong) {
        if (!wrong.isEmpty()) {
            throw new Failed("verification failed for " + where + ": " + String.join("; ", wrong));
        }
    }
}
