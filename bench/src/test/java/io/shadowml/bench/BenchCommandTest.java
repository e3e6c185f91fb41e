package io.shadowml.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The benchmark command end to end, in-process, on tiny inputs: a real broker, real MiniClusters, the
 * real job and models. What is asserted is that it ran, verified every run and printed its table — never
 * how fast (this machine is shared; a timed assertion would only be noise).
 */
class BenchCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BenchCommand.run(
                argv,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The lines of the printed Markdown table: header, alignment, rows. */
    private static List<String> table(String out) {
        return out.lines().filter(l -> l.startsWith("|")).toList();
    }

    private static List<String> cells(String line) {
        return List.of(line.substring(1, line.length() - 1).split("\\|")).stream()
                .map(String::trim)
                .toList();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void fraudOnHeapWithBatchOneVerifiesEveryRunAndPrintsItsRow() throws Exception {
        Path json = tmp.resolve("bench.json");
        Run r = run(
                "--scenario",
                "fraud",
                "--events",
                "20000",
                "--runs",
                "1",
                "--state",
                "heap",
                "--compare-batch-1",
                "--warmup-events",
                "2000",
                "--checkpoint-interval",
                "2s",
                "--json",
                json.toString());
        assertEquals(0, r.code(), r.out() + r.err());

        // Data as generated: 20,000 requests; a label for each row of the hold-out set that has one,
        // except every tenth request.
        BenchData data = new BenchData(
                Scenario.FRAUD,
                Scenario.FRAUD.rows(io.shadowml.embedded.scenario.ScenarioData.repoRoot()),
                java.time.Duration.ofDays(14));
        int labels = 0;
        for (int i = 0; i < 20_000; i++) {
            labels += data.labelled(i) ? 1 : 0;
        }
        assertTrue(labels > 16_000 && labels < 18_000, "about 87% labelled: " + labels);
        String counts = String.format(
                java.util.Locale.ROOT,
                "scored 20,000, labelled %,d, expired %,d, dead letters 0, model errors 0",
                labels,
                20_000 - labels);
        // Every whole-job run (warm-up included) verified its final cumulative report, the ceiling its counts.
        assertEquals(2, count(r.out(), "round 1/1   whole job, batch \\d+ .*verified: " + Pattern.quote(counts)));
        assertEquals(
                1,
                count(
                        r.out(),
                        "round 1/1   ceiling .*verified: read 20,000 requests and "
                                + String.format(java.util.Locale.ROOT, "%,d", labels) + " labels"));
        assertEquals(3, count(r.out(), "warm-up .*verified: "));

        List<String> table = table(r.out());
        assertEquals(3, table.size(), r.out());
        assertEquals(
                List.of(
                        "scenario",
                        "state",
                        "parallelism",
                        "ceiling req/s (min / median / max)",
                        "whole job, batch 64 (min / median / max)",
                        "whole job / ceiling",
                        "whole job, batch 1 (min / median / max)",
                        "batch 64 / batch 1"),
                cells(table.get(0)));
        List<String> row = cells(table.get(2));
        assertEquals(List.of("fraud", "heap", "2"), row.subList(0, 3));
        for (int c : new int[] {3, 4, 6}) {
            assertTrue(row.get(c).matches("[\\d,]+ / [\\d,]+ / [\\d,]+"), row.get(c));
        }
        assertTrue(row.get(5).matches("\\d+\\.\\d\\d"), row.get(5));
        assertTrue(row.get(7).matches("\\d+\\.\\d\\d"), row.get(7));
        assertTrue(r.out().contains("every run also reads the label topic (20,000 requests + "), r.out());

        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals("fraud", j.get("scenario").asText());
        assertEquals(20_000, j.get("requests").asInt());
        assertEquals(labels, j.get("labels").asInt());
        assertEquals(3, j.get("variants").size());
        for (JsonNode v : j.get("variants")) {
            assertEquals(1, v.get("runs").size());
            assertTrue(v.get("median").asDouble() > 0);
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void rocksDbRunVerifies() {
        Run r = run(
                "--scenario", "fraud",
                "--events", "5000",
                "--runs", "1",
                "--state", "rocksdb",
                "--warmup-events", "0",
                "--checkpoint-interval", "1s");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(1, count(r.out(), "round 1/1   whole job, batch 64 .*verified: scored 5,000, "));
        assertFalse(r.out().contains("warm-up"), r.out());
        List<String> row = cells(table(r.out()).get(2));
        assertEquals(List.of("fraud", "rocksdb", "2"), row.subList(0, 3));
        assertEquals("-", row.get(6), "no batch-1 runs without --compare-batch-1");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void stateSizeHoldsEveryRequestPendingAndReportsItsBytes() {
        Run r = run("--scenario", "fraud", "--events", "3000", "--state-size", "--checkpoint-interval", "10m");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("join-labels received all 3,000 scored requests"), r.out());
        List<String> table = table(r.out());
        assertEquals(3, table.size(), r.out());
        assertEquals(
                List.of(
                        "scenario",
                        "state",
                        "parallelism",
                        "pending requests",
                        "join-labels state (bytes)",
                        "bytes per pending request",
                        "whole job's state (bytes)"),
                cells(table.get(0)));
        List<String> row = cells(table.get(2));
        assertEquals(List.of("fraud", "heap", "2", "3,000"), row.subList(0, 4));
        long joinBytes = Long.parseLong(row.get(4).replace(",", ""));
        assertTrue(joinBytes > 0, row.get(4));
        assertTrue(Double.parseDouble(row.get(5)) > 0, row.get(5));
        assertTrue(Long.parseLong(row.get(6).replace(",", "")) >= joinBytes, row.get(6));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void freshnessAtAGivenRateScoresEveryRequestAndPrintsPercentiles() {
        Run r = run(
                "--scenario",
                "fraud",
                "--state",
                "rocksdb",
                "--freshness",
                "200",
                "--freshness-duration",
                "8s",
                "--freshness-warmup",
                "3s");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("1,600 requests sent at "), r.out());
        assertFalse(r.out().contains("round 1/"), "no throughput runs with an explicit rate: " + r.out());
        List<String> table = table(r.out());
        assertEquals(3, table.size(), r.out());
        assertEquals(
                List.of(
                        "scenario",
                        "state",
                        "parallelism",
                        "target req/s",
                        "sent req/s",
                        "measured requests",
                        "p50 ms",
                        "p90 ms",
                        "p99 ms",
                        "max ms"),
                cells(table.get(0)));
        List<String> row = cells(table.get(2));
        assertEquals(List.of("fraud", "rocksdb", "2", "200"), row.subList(0, 4));
        assertEquals("1,000", row.get(5), "the 600 requests of the first 3 s are left out");
        long p50 = Long.parseLong(row.get(6));
        long p90 = Long.parseLong(row.get(7));
        long p99 = Long.parseLong(row.get(8));
        long max = Long.parseLong(row.get(9));
        assertTrue(0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max, String.join(" ", row));
    }

    @Test
    void usageErrorsNameTheOptionAndExitWithTwo() {
        assertUsageError(run("--scenario", "fraud", "--events", "0"), "option --events must be at least 1");
        assertUsageError(run("--scenario", "fraud", "--events", "many"), "--events", "'many'");
        assertUsageError(run("--scenario", "credit", "--events", "10"), "--scenario", "'credit'");
        assertUsageError(run("--scenario", "fraud", "--events", "10", "--state", "memory"), "--state", "'memory'");
        assertUsageError(
                run("--scenario", "fraud", "--events", "10", "--checkpoint-interval", "5x"),
                "--checkpoint-interval",
                "'5x' is not a duration");
        assertUsageError(
                run("--scenario", "fraud", "--events", "10", "--runs", "0"), "option --runs must be at least 1");
        assertUsageError(run("--events", "10"), "--scenario");
        assertUsageError(run("--scenario", "fraud"), "'--events=N'");
        assertUsageError(run("--scenario", "fraud", "--freshness"), "'--events=N'");
        assertUsageError(run("--scenario", "fraud", "--freshness", "fast"), "option --freshness: 'fast'");
        assertUsageError(run("--scenario", "fraud", "--freshness", "0"), "option --freshness: '0'");
        assertUsageError(
                run("--scenario", "fraud", "--events", "10", "--cluster", "http://127.0.0.1:1", "--state-size"),
                "option --cluster excludes");
        assertUsageError(
                run("--scenario", "fraud", "--events", "10", "--state-size", "--freshness", "100"),
                "--state-size and --freshness");
        assertUsageError(
                run(
                        "--scenario",
                        "fraud",
                        "--freshness",
                        "100",
                        "--freshness-duration",
                        "5s",
                        "--freshness-warmup",
                        "5s"),
                "option --freshness-warmup must be shorter");
        assertUsageError(
                run(
                        "--scenario",
                        "fraud",
                        "--events",
                        "10",
                        "--json",
                        tmp.resolve("no/such/dir/b.json").toString()),
                "option --json: folder");
    }

    private static void assertUsageError(Run r, String... expected) {
        assertEquals(2, r.code(), r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "'" + e + "' in:\n" + r.err());
        }
        assertTrue(r.err().contains("Usage: shadowml-tool bench"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
