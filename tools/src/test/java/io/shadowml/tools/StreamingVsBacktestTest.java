package io.shadowml.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.datasketches.kll.KllSketch;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Disagreement;
import io.shadowml.avro.ModelQuality;
import io.shadowml.avro.PairedTest;
import io.shadowml.avro.ReportCounts;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.ReferenceScores;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.tools.backtest.BacktestCommand;
import io.shadowml.tools.backtest.RecordFiles;
import io.shadowml.tools.cli.UsageException;
import io.shadowml.tools.io.CsvHistoryReader;
import io.shadowml.tools.io.HistoryRecord;
import io.shadowml.tools.replay.ReplayCommand;

/**
 * One dataset through both paths: replay tool -> Kafka -> the job (STREAMING, checkpoints on, bounded
 * Kafka sources) and the backtest (the same job in BATCH over the file). The final cumulative reports
 * must agree.
 *
 * <p>Comparison rules: every count (scored, labelled, expired, errors, dead-lettered, duplicate/unknown
 * labels, compared, flips, pairs, McNemar b/c) and every figure derived from counts alone (flip rate,
 * McNemar p-value, accuracy/precision/recall/F1, the binned AUC, label coverage) must be equal exactly;
 * figures built from floating-point sums (abs_diff_mean, log loss, Brier, loss-diff mean and CI) may differ
 * by 1e-12 * max(1, |value|), because the two runs add the same terms in a different order; abs_diff_max is
 * exact. The abs_diff p50/p90/p99 come from a KLL sketch, whose randomized compaction gives different (valid)
 * answers in the two runs, so they are not compared with each other: each must lie within the sketch's rank
 * error (KllSketch.getNormalizedRankError(200, false)) of the exact quantile computed here from the models'
 * scores. Not compared: quality.latency_mean_micros, the measured wall-clock inference time.
 */
class StreamingVsBacktestTest {
    static final double EPS = 1e-12;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @TempDir
    Path tmp;

    static final String[] MAPPING = {
        "--entity-column",
        "entity_id",
        "--segment-columns",
        "region,channel",
        "--feature-columns",
        String.join(",", ScenarioData.FRAUD_FEATURES),
        "--label-column",
        "label",
        "--label-delay-column",
        "label_delay_ms"
    };

    @Test
    void streamingAndBacktestReportTheSame() throws Exception {
        // 2000 rows of the fraud holdout and some bad rows: three the parser rejects (dead letters in the
        // backtest; forwarded raw with --forward-bad-rows, so the streaming job dead-letters them too) and
        // one that parses but that the job's validator rejects (NaN feature).
        List<String> lines =
                new ArrayList<>(Files.readAllLines(ScenarioData.repoRoot().resolve("models/data/fraud/holdout.csv"))
                        .subList(0, 2001));
        lines.add(101, "txn-bad-cols,1767571300000,card-1,EU,web,1.0");
        lines.add(501, lines.get(501).replaceFirst("^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)[^,]*", "$1x12"));
        lines.add(901, "," + lines.get(901).substring(lines.get(901).indexOf(',') + 1));
        String nanRow = lines.get(1201).replaceFirst("^([^,]*)(,[^,]*,[^,]*,[^,]*,[^,]*,)[^,]*", "$1-nan$2NaN");
        lines.add(1201, nanRow);
        Path csv = tmp.resolve("fraud-2000.csv");
        Files.write(csv, lines);
        Path config = writeConfig();
        ShadowJobConfig cfg = ShadowJobConfig.load(config);

        // --- streaming: replay -> Kafka -> job, exactly like the job's integration test ---
        KAFKA.kafka().createTopic("eq-requests", 3);
        KAFKA.kafka().createTopic("eq-labels", 2);
        for (String t : List.of("eq-reports", "eq-verdicts", "eq-scored", "eq-dead-letters")) {
            KAFKA.kafka().createTopic(t, 1);
        }
        List<String> replayArgs = new ArrayList<>(List.of(
                "--bootstrap",
                KAFKA.kafka().bootstrapServers(),
                "--requests-topic",
                "eq-requests",
                "--labels-topic",
                "eq-labels",
                "--input",
                csv.toString(),
                "--forward-bad-rows",
                "--quiet"));
        replayArgs.addAll(List.of(MAPPING));
        ByteArrayOutputStream replayErr = new ByteArrayOutputStream();
        ReplayCommand.Result replayed = ReplayCommand.execute(
                replayArgs.toArray(String[]::new), new PrintStream(replayErr, true, StandardCharsets.UTF_8));
        assertEquals(3, replayed.skippedTotal(), replayErr.toString(StandardCharsets.UTF_8));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        ShadowJob.enableCheckpointing(env, cfg);
        new ShadowJob(cfg, KafkaIO.requestSource(cfg, true), KafkaIO.labelSource(cfg, true), KafkaIO.sinks(cfg))
                .build(env);
        env.execute("equality-streaming");
        List<ComparisonReport> streamed = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.kafka().readAll("eq-reports", true, Duration.ofSeconds(30))) {
            streamed.add(AvroCodec.decode(r.value(), ComparisonReport.class));
        }
        List<Verdict> streamedVerdicts = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.kafka().readAll("eq-verdicts", true, Duration.ofSeconds(30))) {
            streamedVerdicts.add(AvroCodec.decode(r.value(), Verdict.class));
        }

        // --- backtest: the same job in BATCH mode over the same file ---
        Path out = tmp.resolve("backtest");
        List<String> backtestArgs = new ArrayList<>(List.of(
                "--config",
                config.toString(),
                "--requests",
                csv.toString(),
                "--out",
                out.toString(),
                "--parallelism",
                "2"));
        backtestArgs.addAll(List.of(MAPPING));
        ByteArrayOutputStream btErr = new ByteArrayOutputStream();
        BacktestCommand.Result bt = BacktestCommand.execute(
                backtestArgs.toArray(String[]::new), new PrintStream(btErr, true, StandardCharsets.UTF_8));
        assertNotNull(bt, btErr.toString(StandardCharsets.UTF_8));

        // The files hold the same reports, in both encodings.
        assertEquals(bt.reports(), RecordFiles.readAvro(out.resolve("reports.avro"), ComparisonReport.class));
        assertEquals(bt.reports(), RecordFiles.readJsonLines(out.resolve("reports.jsonl"), ComparisonReport.class));
        assertEquals(bt.verdicts(), RecordFiles.readJsonLines(out.resolve("verdicts.jsonl"), Verdict.class));
        assertEquals(bt.verdicts(), RecordFiles.readAvro(out.resolve("verdicts.avro"), Verdict.class));
        assertEquals(bt.deadLetters(), RecordFiles.readJsonLines(out.resolve("dead-letters.jsonl"), DeadLetter.class));

        // Dead letters of the backtest: the three parser rejects at their line numbers, and the NaN row.
        Map<Long, String> dl = new HashMap<>();
        for (DeadLetter d : bt.deadLetters()) {
            assertEquals("fraud-2000.csv", d.getSourceTopic());
            assertEquals(0, d.getPartition());
            dl.put(d.getOffset(), d.getReason());
        }
        assertEquals(4, dl.size(), String.valueOf(dl));
        assertTrue(dl.get(102L).contains("line 102: wrong column count"), dl.get(102L));
        assertTrue(dl.get(502L).contains("line 502: unparseable number"), dl.get(502L));
        assertTrue(dl.get(902L).contains("line 902: missing id"), dl.get(902L));
        assertTrue(dl.get(1202L).contains("feature 'amount' is NaN"), dl.get(1202L));

        ComparisonReport s = finalCumulative(streamed);
        ComparisonReport b = bt.finalCumulative();
        assertNotNull(s);
        assertNotNull(b);
        assertEquals(2000, b.getCounts().getScored());
        assertEquals(4, b.getCounts().getDeadLettered());
        assertSameReport(s, b);

        // Tumbling windows too: same windows with the same counts.
        List<ComparisonReport> st = tumbling(streamed);
        List<ComparisonReport> btt = tumbling(bt.reports());
        assertEquals(st.size(), btt.size());
        for (int i = 0; i < st.size(); i++) {
            assertEquals(st.get(i).getWindowEnd(), btt.get(i).getWindowEnd());
            assertEquals(
                    st.get(i).getCounts(),
                    btt.get(i).getCounts(),
                    "window " + st.get(i).getWindowEnd());
        }
        // The last verdicts decide the same.
        Verdict sv = streamedVerdicts.stream()
                .max(Comparator.comparing(Verdict::getDecidedAt))
                .orElseThrow();
        Verdict bv = bt.verdicts().get(bt.verdicts().size() - 1);
        assertEquals(sv.getDecidedAt(), bv.getDecidedAt());
        assertEquals(sv.getDecision(), bv.getDecision());

        // KLL quantiles: each run's within the sketch's rank error of the exact quantiles.
        double[] diffs = exactAbsDiffs(cfg, csv);
        double eps = KllSketch.getNormalizedRankError(200, false);
        for (ComparisonReport r : List.of(s, b)) {
            Disagreement d = r.getDisagreement().get(0);
            assertEquals(diffs.length, d.getCompared());
            assertTrue(quantileWithin(diffs, 0.5, d.getAbsDiffP50(), eps), "p50 " + d.getAbsDiffP50());
            assertTrue(quantileWithin(diffs, 0.9, d.getAbsDiffP90(), eps), "p90 " + d.getAbsDiffP90());
            assertTrue(quantileWithin(diffs, 0.99, d.getAbsDiffP99(), eps), "p99 " + d.getAbsDiffP99());
        }
    }

    /**
     * JSON end to end: the replay tool writes the contract as JSON ({@code --format json}), the job reads the
     * topics with {@code inputs.*.format: json}; the very same values, saved as JSON lines files, go through
     * the backtest with the same config. Both must report the same, a bad line included.
     */
    @Test
    void jsonTopicsAndTheirJsonLinesFilesReportTheSame() throws Exception {
        List<String> lines = Files.readAllLines(ScenarioData.repoRoot().resolve("models/data/fraud/holdout.csv"))
                .subList(0, 1201);
        Path csv = tmp.resolve("fraud-1200.csv");
        Files.write(csv, lines);
        Path config = writeConfig("js", "inputs:\n  requests: {format: json}\n  labels: {format: json}");
        ShadowJobConfig cfg = ShadowJobConfig.load(config);
        KAFKA.kafka().createTopic("js-requests", 2);
        KAFKA.kafka().createTopic("js-labels", 2);
        for (String t : List.of("js-reports", "js-verdicts", "js-scored", "js-dead-letters")) {
            KAFKA.kafka().createTopic(t, 1);
        }
        List<String> replayArgs = new ArrayList<>(List.of(
                "--bootstrap",
                KAFKA.kafka().bootstrapServers(),
                "--requests-topic",
                "js-requests",
                "--labels-topic",
                "js-labels",
                "--input",
                csv.toString(),
                "--format",
                "json",
                "--quiet"));
        replayArgs.addAll(List.of(MAPPING));
        ReplayCommand.Result replayed = ReplayCommand.execute(replayArgs.toArray(String[]::new), System.err);
        assertEquals(1200, replayed.requestsSent);
        // A line that is not JSON, on the topic and in the file alike.
        String bad = "{\"request_id\": \"half";
        KAFKA.kafka().produce("js-requests", null, bad.getBytes(StandardCharsets.UTF_8), 1767571300000L);

        // The files: exactly the values on the topics, one per line.
        Path requestsFile = tmp.resolve("requests.jsonl");
        Path labelsFile = tmp.resolve("labels.jsonl");
        List<String> requestLines = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.kafka().readAll("js-requests", true, Duration.ofSeconds(30))) {
            requestLines.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        List<String> labelLines = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.kafka().readAll("js-labels", true, Duration.ofSeconds(30))) {
            labelLines.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        assertEquals(1201, requestLines.size());
        assertTrue(requestLines.contains(bad));
        assertTrue(requestLines.get(0).startsWith("{\"request_id\":"), requestLines.get(0));
        Files.write(requestsFile, requestLines);
        Files.write(labelsFile, labelLines);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        ShadowJob.enableCheckpointing(env, cfg);
        new ShadowJob(cfg, KafkaIO.requestSource(cfg, true), KafkaIO.labelSource(cfg, true), KafkaIO.sinks(cfg))
                .build(env);
        env.execute("json-streaming");
        // The last transaction may become visible a moment after the job finished.
        List<ComparisonReport> streamed = KAFKA.kafka()
                .readAllUntil(
                        "js-reports",
                        true,
                        r -> AvroCodec.decode(r.value(), ComparisonReport.class),
                        rs -> finalCumulative(rs) != null
                                && finalCumulative(rs).getCounts().getScored() == 1200,
                        Duration.ofSeconds(60));

        BacktestCommand.Result bt = BacktestCommand.execute(
                new String[] {
                    "--config", config.toString(),
                    "--requests", requestsFile.toString(),
                    "--labels", labelsFile.toString(),
                    "--out", tmp.resolve("json-backtest").toString(),
                    "--parallelism", "2"
                },
                System.err);
        ComparisonReport s = finalCumulative(streamed);
        ComparisonReport b = bt.finalCumulative();
        assertEquals(1200, b.getCounts().getScored());
        assertEquals(1, b.getCounts().getDeadLettered());
        DeadLetter d = bt.deadLetters().get(0);
        assertEquals("requests.jsonl", d.getSourceTopic());
        assertEquals(requestLines.indexOf(bad) + 1, d.getOffset(), "the line number");
        assertTrue(d.getReason().startsWith("undecodable JSON"), d.getReason());
        assertSameReport(s, b);

        // A mapping that reads the Kafka key cannot read a file.
        Path keyed = writeConfig("js-key", "inputs:\n  requests: {format: json, fields: {request_id: $key}}");
        UsageException e = assertThrows(
                UsageException.class,
                () -> BacktestCommand.execute(
                        new String[] {
                            "--config",
                            keyed.toString(),
                            "--requests",
                            requestsFile.toString(),
                            "--out",
                            tmp.resolve("keyed").toString()
                        },
                        System.err));
        assertTrue(e.getMessage().contains("reads $key or $timestamp"), e.getMessage());
    }

    static ComparisonReport finalCumulative(List<ComparisonReport> reports) {
        return reports.stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                .orElse(null);
    }

    static List<ComparisonReport> tumbling(List<ComparisonReport> reports) {
        return reports.stream()
                .filter(r -> r.getWindowKind() == WindowKind.TUMBLING)
                .sorted(Comparator.comparing(ComparisonReport::getWindowEnd))
                .toList();
    }

    static void assertSameReport(ComparisonReport s, ComparisonReport b) {
        assertEquals(s.getExperimentId(), b.getExperimentId());
        assertEquals(s.getWindowStart(), b.getWindowStart(), "window_start");
        assertEquals(s.getWindowEnd(), b.getWindowEnd(), "window_end");
        assertEquals(s.getLiveModel(), b.getLiveModel());
        ReportCounts sc = s.getCounts();
        assertEquals(sc, b.getCounts(), "counts");
        assertEquals(s.getDisagreement().size(), b.getDisagreement().size());
        for (int i = 0; i < s.getDisagreement().size(); i++) {
            Disagreement x = s.getDisagreement().get(i);
            Disagreement y = b.getDisagreement().get(i);
            String c = "disagreement " + x.getCandidate() + " ";
            assertEquals(x.getCandidate(), y.getCandidate());
            assertEquals(x.getCompared(), y.getCompared(), c + "compared");
            assertEquals(x.getFlips(), y.getFlips(), c + "flips");
            assertEquals(x.getFlipRate(), y.getFlipRate(), c + "flip_rate");
            close(x.getAbsDiffMean(), y.getAbsDiffMean(), c + "abs_diff_mean");
            assertEquals(x.getAbsDiffMax(), y.getAbsDiffMax(), c + "abs_diff_max");
            closeMaps(x.getMetrics(), y.getMetrics(), c + "metrics");
        }
        assertEquals(s.getQuality().size(), b.getQuality().size());
        for (int i = 0; i < s.getQuality().size(); i++) {
            ModelQuality x = s.getQuality().get(i);
            ModelQuality y = b.getQuality().get(i);
            assertEquals(x.getModel(), y.getModel());
            assertEquals(x.getRole(), y.getRole());
            assertEquals(x.getLabelled(), y.getLabelled(), x.getModel() + " labelled");
            assertEquals(x.getErrors(), y.getErrors(), x.getModel() + " errors");
            // latency_mean_micros is measured wall-clock inference time: it differs between any two runs.
            Map<CharSequence, Double> xm = new HashMap<>(x.getMetrics());
            Map<CharSequence, Double> ym = new HashMap<>(y.getMetrics());
            assertTrue(xm.keySet().stream().anyMatch(k -> k.toString().equals("latency_mean_micros")));
            xm.keySet().removeIf(k -> k.toString().equals("latency_mean_micros"));
            ym.keySet().removeIf(k -> k.toString().equals("latency_mean_micros"));
            closeMaps(xm, ym, "quality " + x.getModel());
            for (String exact : List.of("accuracy", "precision", "recall", "f1", "roc_auc")) {
                if (x.getMetrics().containsKey(exact)) {
                    assertEquals(x.getMetrics().get(exact), y.getMetrics().get(exact), x.getModel() + " " + exact);
                }
            }
        }
        assertEquals(s.getPaired().size(), b.getPaired().size());
        for (int i = 0; i < s.getPaired().size(); i++) {
            PairedTest x = s.getPaired().get(i);
            PairedTest y = b.getPaired().get(i);
            String c = "paired " + x.getCandidate() + " ";
            assertEquals(x.getCandidate(), y.getCandidate());
            assertEquals(x.getPairs(), y.getPairs(), c + "pairs");
            assertEquals(x.getLiveOnlyCorrect(), y.getLiveOnlyCorrect(), c + "b");
            assertEquals(x.getCandidateOnlyCorrect(), y.getCandidateOnlyCorrect(), c + "c");
            assertEquals(x.getMcnemarPValue(), y.getMcnemarPValue(), c + "mcnemar");
            close(x.getLossDiffMean(), y.getLossDiffMean(), c + "loss_diff_mean");
            close(x.getLossDiffCiLow(), y.getLossDiffCiLow(), c + "ci_low");
            close(x.getLossDiffCiHigh(), y.getLossDiffCiHigh(), c + "ci_high");
            closeMaps(x.getMetrics(), y.getMetrics(), c + "metrics");
        }
        closeMaps(s.getMetrics(), b.getMetrics(), "report metrics");
        assertEquals(s.getMetrics().get("label_coverage"), b.getMetrics().get("label_coverage"), "label_coverage");
    }

    static void close(double x, double y, String what) {
        if (Double.isNaN(x) || Double.isNaN(y)) {
            assertEquals(x, y, what);
            return;
        }
        double tol = EPS * Math.max(1, Math.max(Math.abs(x), Math.abs(y)));
        assertTrue(Math.abs(x - y) <= tol, what + ": streaming " + x + " vs backtest " + y);
    }

    static void closeMaps(Map<? extends CharSequence, Double> x, Map<? extends CharSequence, Double> y, String what) {
        Map<String, Double> a = new HashMap<>();
        x.forEach((k, v) -> a.put(k.toString(), v));
        Map<String, Double> c = new HashMap<>();
        y.forEach((k, v) -> c.put(k.toString(), v));
        assertEquals(a.keySet(), c.keySet(), what + " keys");
        a.forEach((k, v) -> close(v, c.get(k), what + " " + k));
    }

    /** v is an acceptable q-quantile of sorted data if its rank range overlaps [q - eps, q + eps]. */
    static boolean quantileWithin(double[] sorted, double q, double v, double eps) {
        int below = 0;
        int atOrBelow = 0;
        for (double d : sorted) {
            below += d < v ? 1 : 0;
            atOrBelow += d <= v ? 1 : 0;
        }
        double n = sorted.length;
        return below / n <= q + eps && atOrBelow / n >= q - eps;
    }

    /** |candidate - live| for every request the job scores, straight from the models (sorted). */
    static double[] exactAbsDiffs(ShadowJobConfig cfg, Path csv) throws Exception {
        List<Request> valid = new ArrayList<>();
        try (CsvHistoryReader r = new CsvHistoryReader(
                csv,
                picocli.CommandLine.populateCommand(new io.shadowml.tools.cli.ColumnOptions(), MAPPING)
                        .toRowSpec())) {
            while (r.hasNext()) {
                HistoryRecord h = r.next();
                if (!h.isBad() && Double.isFinite(h.request.getFeatures().get("amount"))) {
                    valid.add(h.request);
                }
            }
        }
        float[][] live = ReferenceScores.score(cfg.liveModel, valid);
        float[][] cand = ReferenceScores.score(cfg.candidateModels.get(0), valid);
        double[] d = new double[valid.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.abs((double) cand[i][0] - live[i][0]);
        }
        Arrays.sort(d);
        return d;
    }

    Path writeConfig() throws Exception {
        return writeConfig("eq", "");
    }

    /** The job's config for topics named {@code <prefix>-…}, with {@code extra} YAML appended. */
    Path writeConfig(String prefix, String extra) throws Exception {
        Path models = ScenarioData.repoRoot().resolve("models/shipped/fraud");
        String yaml = String.join(
                "\n",
                "experiment_id: " + prefix + "-fraud",
                "kafka:",
                "  bootstrap_servers: " + KAFKA.kafka().bootstrapServers(),
                "  group_id: " + prefix + "-fraud",
                "  start: earliest",
                "  transaction_timeout: 10m",
                "topics:",
                "  requests: " + prefix + "-requests",
                "  labels: " + prefix + "-labels",
                "  reports: " + prefix + "-reports",
                "  verdicts: " + prefix + "-verdicts",
                "  scored_events: " + prefix + "-scored",
                "  dead_letter: " + prefix + "-dead-letters",
                "models:",
                "  live: " + models.resolve("live/model.json"),
                "  candidates:",
                "    - " + models.resolve("candidate/model.json"),
                "label_horizon: 14d",
                "report_window: 1d",
                "event_time:",
                "  max_out_of_orderness: 1m",
                "  idleness: 5s",
                "batching:",
                "  max_size: 32",
                "  max_wait: 20ms",
                "checkpoint_interval: 1s",
                "scored_events_sample_rate: 1.0",
                "metric_shards: 3",
                "verdict:",
                "  min_labelled_pairs: 200",
                extra,
                "");
        Path file = tmp.resolve(prefix + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
