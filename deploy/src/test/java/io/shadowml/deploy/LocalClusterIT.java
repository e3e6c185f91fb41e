package io.shadowml.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.WindowKind;

/**
 * End to end on real processes, through the scripts of deploy/local: Kafka (KRaft) + Flink JobManager
 * + TaskManager as separate JVMs (start.sh), the shaded job jar submitted over REST (submit.sh), the
 * fraud scenario replayed on a compressed clock by the tools' replay command (replay.sh), committed reports read back
 * (read_committed), a real Prometheus scraping the Flink reporters and evaluating
 * deploy/monitoring (every dashboard query returns data, every alert expression evaluates), then a
 * draining stop-with-savepoint after which the final cumulative report must account for every record
 * sent. stop.sh always runs, and no process may survive it.
 *
 * <p>Run: {@code mvn -B -ntp -Pcluster-it verify} (needs /usr/bin/prometheus and /usr/bin/promtool,
 * Debian package {@code prometheus}; ports 18081, 16123, 19092, 19093, 9249-9250 free).
 */
class LocalClusterIT extends LocalClusterSupport {
    private static final String M = "flink_taskmanager_job_task_operator_experiment_";

    private final Path monitoring = deploy.resolve("monitoring");

    @Test
    void clusterEndToEndWithPrometheus() throws Exception {
        assertTrue(Files.isRegularFile(jobJar), "job jar missing: " + jobJar + " (build the jobs module first)");
        deleteTree(work);
        Files.createDirectories(work);
        Process prometheus = null;
        List<Long> pids = new ArrayList<>();
        try {
            script(Duration.ofMinutes(4), "start.sh");
            pids.addAll(pids());
            assertEquals(3, pids.size(), "kafka, jobmanager, taskmanager pids");
            assertListensOnLoopbackOnly(pids);
            step("every port of Kafka, the JobManager and the TaskManager on 127.0.0.1 only");
            List<String> submitted = script(Duration.ofMinutes(3), "submit.sh");
            String jobId = submitted.get(submitted.size() - 1).trim();
            assertTrue(jobId.matches("[0-9a-f]{32}"), "job id: " + jobId);
            step("job " + jobId + " running");

            int promPort = freePort();
            prometheus = startPrometheus(promPort);
            String promApi = "http://127.0.0.1:" + promPort + "/api/v1/";

            Path summaryFile = work.resolve("replay-summary.properties");
            script(
                    Duration.ofMinutes(2),
                    "replay.sh",
                    "--events",
                    "3000",
                    "--duration",
                    "20s",
                    "--summary",
                    summaryFile.toString());
            Properties sent = new Properties();
            try (Reader r = Files.newBufferedReader(summaryFile)) {
                sent.load(r);
            }
            // What the tools' replay sent (its --summary) and the labels replay.sh made invalid: every bad
            // row is forwarded raw to the requests topic, every label sent that is not bad must be joined.
            long valid = Long.parseLong(sent.getProperty("requests_sent"));
            long badRequests = Long.parseLong(sent.getProperty("bad_rows_forwarded"));
            long badLabels = Long.parseLong(sent.getProperty("bad_labels"));
            long labels = Long.parseLong(sent.getProperty("labels_sent")) - badLabels;
            assertEquals(3000, valid, "requests sent");
            assertEquals(6, badRequests, "bad rows forwarded");
            assertEquals(1, badLabels, "labels set to an invalid value");
            step("replayed " + sent);
            long replayEnd = System.nanoTime();

            try (CommittedRecords<ComparisonReport> reports =
                    new CommittedRecords<>("127.0.0.1:19092", "shadowml.fraud.reports", ComparisonReport.class)) {
                // Committed cumulative reports arrive while the job runs, and grow.
                List<Long> seen = new ArrayList<>();
                await(Duration.ofSeconds(90), "cumulative reports with scored == " + valid, () -> {
                    ComparisonReport c = CommittedRecords.latestCumulative(reports.poll());
                    if (c != null
                            && (seen.isEmpty()
                                    || seen.get(seen.size() - 1)
                                            != c.getCounts().getScored())) {
                        seen.add(c.getCounts().getScored());
                    }
                    return c != null && c.getCounts().getScored() == valid;
                });
                step("cumulative scored while running: " + seen);
                assertTrue(seen.get(0) > 0);
                for (int i = 1; i < seen.size(); i++) {
                    assertTrue(seen.get(i) > seen.get(i - 1), "cumulative scored never decreases: " + seen);
                }

                // --- monitoring against the running job ---
                checkMonitoring(promPort);

                // --- draining stop-with-savepoint: all windows fire, every transaction commits ---
                // Must start before every source partition has gone idle (event_time.idleness: 15s in
                // local/shadow-job.local.yaml): a drain of an all-idle job did not flush the last windows.
                double idleGap = (System.nanoTime() - replayEnd) / 1e9;
                step(String.format("draining %.1f s after the replay ended", idleGap));
                String[] location = {stopWithSavepoint(jobId, true)};
                step("stopped with savepoint " + location[0]);
                assertTrue(Files.isDirectory(Path.of(URI.create(location[0]))), "savepoint dir " + location[0]);

                ComparisonReport[] last = new ComparisonReport[1];
                await(
                        Duration.ofSeconds(60),
                        "the final cumulative report",
                        () -> {
                            ComparisonReport c = CommittedRecords.latestCumulative(reports.poll());
                            last[0] = c;
                            return c != null
                                    && c.getCounts().getScored() == valid
                                    && c.getCounts().getLabelled()
                                                    + c.getCounts().getExpiredUnlabeled()
                                            == valid;
                        },
                        () -> "; last cumulative counts: " + (last[0] == null ? null : last[0].getCounts())
                                + String.format("; drain started %.1f s after the replay (idleness 15 s)", idleGap)
                                + "; late metric events / dead letters seen by Prometheus: "
                                + quietly(() -> query(
                                        promApi,
                                        "max_over_time(sum(" + M + "late_metric_events)[10m:5s]) or vector(-1)"))
                                + " / "
                                + quietly(() -> query(
                                        promApi,
                                        "max_over_time(sum(" + M + "requests_dead_lettered)[10m:5s]) or vector(-1)")));
                ComparisonReport fin = last[0];
                step("final cumulative counts: " + fin.getCounts());
                assertEquals(valid, fin.getCounts().getScored(), "scored");
                assertEquals(labels, fin.getCounts().getLabelled(), "labelled");
                assertEquals(valid - labels, fin.getCounts().getExpiredUnlabeled(), "expired unlabelled");
                assertEquals(badRequests + badLabels, fin.getCounts().getDeadLettered(), "dead-lettered");
                assertEquals(0, fin.getCounts().getErrors(), "model errors");
                long tumblingScored = reports.all.stream()
                        .filter(r -> r.getWindowKind() == WindowKind.TUMBLING)
                        .mapToLong(r -> r.getCounts().getScored())
                        .sum();
                assertEquals(valid, tumblingScored, "tumbling windows add up");
            }
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly();
                }
            }
            stopCluster(pids);
        }
    }

    // ------------------------------------------------------------------------------ monitoring

    private Process startPrometheus(int port) throws Exception {
        Path promDir = itDir.resolve("prometheus");
        deleteTree(promDir);
        Files.createDirectories(promDir.resolve("data"));
        ProcessBuilder pb = new ProcessBuilder(
                        System.getProperty("prometheus.binary", "/usr/bin/prometheus"),
                        "--config.file=" + monitoring.resolve("prometheus/prometheus-local.yml"),
                        "--storage.tsdb.path=" + promDir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(promDir.resolve("prometheus.log").toFile());
        Process p = pb.start();
        await(Duration.ofSeconds(30), "Prometheus ready", () -> {
            assertTrue(p.isAlive(), "prometheus exited, see " + promDir.resolve("prometheus.log"));
            return get("http://127.0.0.1:" + port + "/-/ready").contains("Ready");
        });
        step("Prometheus on :" + port);
        return p;
    }

    private void checkMonitoring(int port) throws Exception {
        String api = "http://127.0.0.1:" + port + "/api/v1/";
        // promtool: the rules and the config as shipped.
        exec(
                Duration.ofSeconds(60),
                List.of(
                        System.getProperty("promtool.binary", "/usr/bin/promtool"),
                        "check",
                        "rules",
                        monitoring.resolve("prometheus/shadowml-alerts.yml").toString()),
                Map.of());
        exec(
                Duration.ofSeconds(60),
                List.of(
                        System.getProperty("promtool.binary", "/usr/bin/promtool"),
                        "check",
                        "config",
                        monitoring.resolve("prometheus/prometheus-local.yml").toString()),
                Map.of());

        // Both reporters are scraped.
        await(Duration.ofSeconds(60), "both Flink reporters up", () -> {
            JsonNode r = query(api, "sum(up{job=\"flink\"})");
            return r.size() == 1 && r.get(0).path("value").get(1).asText().equals("2");
        });

        // Every dashboard query returns data.
        JsonNode dash = JSON.readTree(
                monitoring.resolve("grafana/shadow-comparison.json").toFile());
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : dash.path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                queries.put(
                        panel.path("title").asText() + " / " + t.path("refId").asText(),
                        t.path("expr").asText().replace("$experiment", ".*").replace("$__rate_interval", "1m"));
            }
        }
        assertTrue(queries.size() >= 9, "dashboard targets: " + queries.keySet());
        Map<String, String> empty = new LinkedHashMap<>(queries);
        await(
                Duration.ofSeconds(90),
                "data for every dashboard query",
                () -> {
                    for (var it = empty.entrySet().iterator(); it.hasNext(); ) {
                        if (query(api, it.next().getValue()).size() > 0) {
                            it.remove();
                        }
                    }
                    return empty.isEmpty();
                },
                () -> "no data for " + empty);
        step("all " + queries.size() + " dashboard queries return data");
        String variable =
                dash.path("templating").path("list").get(0).path("definition").asText();
        String metric = variable.replaceAll("^label_values\\(([^,]+),.*$", "$1");
        JsonNode values = JSON.readTree(get(api + "label/experiment/values?match[]=" + enc(metric)))
                .path("data");
        assertTrue(values.toString().contains("fraud-mlp-v2-local"), "experiment variable values: " + values);

        // Every alert expression evaluates, and Prometheus loaded every rule healthy.
        JsonNode rulesYaml = new ObjectMapper(new YAMLFactory())
                .readTree(monitoring.resolve("prometheus/shadowml-alerts.yml").toFile());
        int alerts = 0;
        for (JsonNode group : rulesYaml.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                query(api, rule.path("expr").asText()); // throws unless status == success
                assertTrue(rule.path("labels").has("shadowml_action"), rule.path("alert") + " has shadowml_action");
                assertTrue(rule.path("labels").has("severity"), rule.path("alert") + " has severity");
                assertTrue(rule.has("for"), rule.path("alert") + " has for");
                alerts++;
            }
        }
        int expected = alerts;
        await(Duration.ofSeconds(60), "Prometheus to evaluate every rule", () -> {
            JsonNode groups = JSON.readTree(get(api + "rules")).path("data").path("groups");
            int ok = 0;
            for (JsonNode g : groups) {
                for (JsonNode r : g.path("rules")) {
                    // "unknown" until the first evaluation; "err" is a broken rule.
                    assertFalse(
                            r.path("health").asText().equals("err"),
                            "rule " + r.path("name") + ": " + r.path("lastError"));
                    ok += r.path("health").asText().equals("ok") ? 1 : 0;
                }
            }
            return ok == expected;
        });
        // The reject alert must be silent on this scenario (the candidate is better); the verdict exists.
        JsonNode verdict = query(api, "min by (experiment, model) (" + M + "model_verdict)");
        step("verdict series: " + verdict);
        assertEquals(1, verdict.size());
        assertEquals(
                "fraud-mlp:2.0.0", verdict.get(0).path("metric").path("model").asText());
        // The error-rate alert's candidate selector (flip_rate exists for candidates only) keeps exactly the candidate.
        JsonNode candidates = query(
                api,
                "sum by (experiment, model) (rate(" + M + "model_scored[1m]))"
                        + " and on (experiment, model) max by (experiment, model) (" + M + "model_flip_rate)");
        assertEquals(1, candidates.size(), "candidate selector: " + candidates);
        assertEquals(
                "fraud-mlp:2.0.0",
                candidates.get(0).path("metric").path("model").asText());
        step("all " + alerts + " alert rules evaluate cleanly");

        checkRolloutGates(api);
    }

    /**
     * Every query of the rollout gates (kubernetes/rollout-gates: Argo Rollouts AnalysisTemplates, Flagger
     * MetricTemplates) with the args / template variables of the local job (its experiment_id, the canary
     * arm of its canary section, the candidate serving it) returns the job's series; the canary verdict is
     * -1, 0 or 1; and the guards pass on this scenario: replay.sh serves exactly the expected 10 % from the
     * canary arm (no sample ratio mismatch), and no model errs.
     */
    private void checkRolloutGates(String api) throws Exception {
        JsonNode config = new ObjectMapper(new YAMLFactory())
                .readTree(work.resolve("shadow-job.yaml").toFile());
        String experiment = config.path("experiment_id").asText();
        String arm = null;
        for (var it = config.path("canary").path("arms").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().asText().equals("live")) {
                assertEquals(null, arm, "one canary arm in the local config");
                arm = e.getKey();
                JsonNode candidate = JSON.readTree(deploy.getParent()
                        .resolve("models/shipped/fraud/candidate/model.json")
                        .toFile());
                assertEquals(
                        candidate.path("name").asText() + ":"
                                + candidate.path("version").asText(),
                        e.getValue().asText(),
                        "the canary arm is served by the candidate");
            }
        }
        assertEquals("canary", arm, "the arm replay.sh writes into served_by");
        String model = config.path("canary").path("arms").path(arm).asText();
        List<RolloutGates.Query> queries =
                RolloutGates.queries(deploy, Map.of("experiment", experiment, "arm", arm, "model", model));
        Map<String, JsonNode> series = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        await(
                Duration.ofSeconds(90),
                "the job's series for every rollout gate query",
                () -> {
                    missing.clear();
                    for (RolloutGates.Query q : queries) {
                        if (series.containsKey(q.id())) {
                            continue;
                        }
                        JsonNode r = query(api, q.promql());
                        // The job's series carry the experiment label; Flagger's `or on() vector(0)` has none.
                        if (r.size() == 1
                                && r.get(0)
                                        .path("metric")
                                        .path("experiment")
                                        .asText()
                                        .equals(experiment)) {
                            series.put(q.id(), r.get(0));
                        } else {
                            missing.add(q.id() + " → " + r);
                        }
                    }
                    return missing.isEmpty();
                },
                () -> "; no series for " + missing);
        for (RolloutGates.Query q : queries) {
            JsonNode s = series.get(q.id());
            String text = s.path("value").get(1).asText();
            double v = Double.parseDouble(text.replace("Inf", "Infinity"));
            if (q.promql().contains("_arm_")) {
                assertEquals(arm, s.path("metric").path("arm").asText(), q.id() + ": the arm's series");
            }
            if (q.promql().contains("_model_verdict")) {
                assertEquals(model, s.path("metric").path("model").asText(), q.id() + ": the candidate's series");
            }
            if (q.promql().contains("arm_canary_verdict")) {
                assertTrue(v == -1 || v == 0 || v == 1, q.id() + ": canary verdict " + text);
            }
            String outcome = "";
            if (q.tool().equals("argo")) {
                outcome = RolloutGates.measure(q.spec(), q.values(), v);
                if (q.metric().equals("sample-ratio") || q.metric().equals("arm-error-rate")) {
                    assertEquals(RolloutGates.SUCCESSFUL, outcome, q.id() + " = " + text + " on an exact split");
                }
                outcome = " → " + outcome;
            } else if (q.promql().contains("srm_mismatch") || q.promql().contains("arm_error_rate")) {
                assertEquals(0.0, v, q.id() + ": no mismatch, no errors");
            }
            step("rollout gate " + q.id() + " = " + text + outcome);
        }
        step("all " + queries.size() + " rollout gate queries return the job's series");
    }

    /** For failure messages: the value, or the exception's text. */
    private static String quietly(Check.Value v) {
        try {
            return String.valueOf(v.get());
        } catch (Exception e) {
            return e.toString();
        }
    }

    private JsonNode query(String api, String promql) throws Exception {
        JsonNode r = JSON.readTree(get(api + "query?query=" + enc(promql)));
        assertEquals("success", r.path("status").asText(), promql + " → " + r);
        return r.path("data").path("result");
    }
}
