package io.shadowml.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.jobs.config.DurationParser;

/**
 * The figures of one benchmark: per variant the throughput of its runs (requests per second of wall time,
 * submission to finished) as min / median / max, and the ratios of the medians, printed as one row of a
 * Markdown table whose columns do not depend on the options (a variant not run is "-"), so the rows of
 * several benchmarks paste into one table; and the same as JSON.
 */
final class BenchReport {
    /** Min, median (the mean of the middle two for an even count) and max. */
    record Stats(double min, double median, double max) {
        static Stats of(List<Double> values) {
            List<Double> v = new ArrayList<>(values);
            v.sort(null);
            int n = v.size();
            double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
            return new Stats(v.get(0), median, v.get(n - 1));
        }
    }

    static final String[] HEADER = {
        "scenario",
        "state",
        "parallelism",
        "ceiling req/s (min / median / max)",
        "whole job, batch B (min / median / max)",
        "whole job / ceiling",
        "whole job, batch 1 (min / median / max)",
        "batch B / batch 1"
    };

    private final Scenario scenario;
    private final StateChoice state;
    private final int parallelism;
    private final int batchSize;
    private final Duration checkpointInterval;
    private final BenchData.Written data;
    private final Variant ceiling = Variant.ceiling();
    private final Variant job;
    private final Variant batch1 = Variant.wholeJob(1);
    private final Map<Variant, List<BenchRun.Result>> results = new LinkedHashMap<>();

    BenchReport(
            Scenario scenario,
            StateChoice state,
            int parallelism,
            int batchSize,
            Duration checkpointInterval,
            BenchData.Written data) {
        this.scenario = scenario;
        this.state = state;
        this.parallelism = parallelism;
        this.batchSize = batchSize;
        this.checkpointInterval = checkpointInterval;
        this.data = data;
        this.job = Variant.wholeJob(batchSize);
    }

    void add(BenchRun.Result r) {
        results.computeIfAbsent(r.variant(), v -> new ArrayList<>()).add(r);
    }

    /** The throughput of a variant's runs, or null when it was not run. */
    Stats stats(Variant v) {
        List<BenchRun.Result> runs = results.get(v);
        return runs == null
                ? null
                : Stats.of(runs.stream().map(BenchRun.Result::requestsPerSecond).toList());
    }

    /** Median over median, or null when either is missing. */
    Double ratio(Variant numerator, Variant denominator) {
        Stats a = stats(numerator);
        Stats b = stats(denominator);
        return a == null || b == null ? null : a.median() / b.median();
    }

    /** The cells of this benchmark's row, in {@link #HEADER} order. */
    String[] row() {
        return new String[] {
            scenario.toString(),
            state.toString(),
            Integer.toString(parallelism),
            format(stats(ceiling)),
            format(stats(job)),
            format(ratio(job, ceiling)),
            // With --batch-size 1 the two are the same variant (and the same runs).
            format(stats(batch1)),
            format(ratio(job, batch1))
        };
    }

    /** The Markdown table (header, alignment, the one row) and what its figures mean. */
    String table() {
        String[] header = HEADER.clone();
        header[4] = header[4].replace("batch B", "batch " + batchSize);
        header[7] = header[7].replace("batch B", "batch " + batchSize);
        String[] row = row();
        int[] width = new int[header.length];
        for (int c = 0; c < header.length; c++) {
            width[c] = Math.max(header[c].length(), row[c].length());
        }
        StringBuilder b = new StringBuilder();
        line(b, header, width, false);
        String[] rule = new String[header.length];
        for (int c = 0; c < header.length; c++) {
            rule[c] = "-".repeat(Math.max(3, width[c] - 1)) + (c < 2 ? "-" : ":");
        }
        line(b, rule, width, false);
        line(b, row, width, true);
        int runs = results.values().stream().mapToInt(List::size).max().orElse(0);
        b.append(String.format(
                Locale.ROOT,
                "Requests per second of wall time, job submission to job finished, min / median / max of %d run%s;"
                        + " every run also reads the label topic (%,d requests + %,d labels). Ratios are of medians."
                        + " Checkpoint interval %s.%n",
                runs,
                runs == 1 ? "" : "s",
                data.requests(),
                data.labels(),
                DurationParser.format(checkpointInterval)));
        return b.toString();
    }

    private static void line(StringBuilder b, String[] cells, int[] width, boolean alignNumbers) {
        b.append('|');
        for (int c = 0; c < cells.length; c++) {
            String cell = cells[c];
            String pad = " ".repeat(width[c] - cell.length());
            b.append(' ')
                    .append(alignNumbers && c >= 2 ? pad + cell : cell + pad)
                    .append(" |");
        }
        b.append(System.lineSeparator());
    }

    private static String format(Stats s) {
        return s == null ? "-" : String.format(Locale.ROOT, "%,.0f / %,.0f / %,.0f", s.min(), s.median(), s.max());
    }

    private static String format(Double ratio) {
        return ratio == null ? "-" : String.format(Locale.ROOT, "%.2f", ratio);
    }

    /** Everything the table says, and every run, as JSON. */
    void writeJson(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("scenario", scenario.toString());
        root.put("state", state.toString());
        root.put("parallelism", parallelism);
        root.put("batch_size", batchSize);
        root.put("checkpoint_interval_ms", checkpointInterval.toMillis());
        root.put("requests", data.requests());
        root.put("labels", data.labels());
        root.put("unit", "requests per second of wall time, job submission to job finished");
        ArrayNode variants = root.putArray("variants");
        results.forEach((v, runs) -> {
            ObjectNode n = variants.addObject();
            n.put("variant", v.id());
            n.put("label", v.label());
            if (v.isWholeJob()) {
                n.put("batch_size", v.batchSize());
            }
            Stats s = stats(v);
            n.put("min", s.min());
            n.put("median", s.median());
            n.put("max", s.max());
            ArrayNode each = n.putArray("runs");
            for (BenchRun.Result r : runs) {
                each.addObject()
                        .put("run", r.run())
                        .put("seconds", r.seconds())
                        .put("requests_per_second", r.requestsPerSecond())
                        .put("verified", r.verified());
            }
        });
        putRatio(root, "whole_job_to_ceiling", ratio(job, ceiling));
        putRatio(root, "batch_" + batchSize + "_to_batch_1", batchSize == 1 ? null : ratio(job, batch1));
        mapper.writeValue(file.toFile(), root);
    }

    private static void putRatio(ObjectNode root, String name, Double ratio) {
        if (ratio != null) {
            root.put(name, ratio);
        }
    }
}
