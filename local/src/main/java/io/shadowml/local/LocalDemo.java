package io.shadowml.local;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import picocli.CommandLine.ParameterException;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.local.dashboard.Dashboard;
import io.shadowml.models.ModelDescriptor;

/**
 * One command to see the product work: a real Kafka broker (KRaft, in-process), a Flink MiniCluster with
 * its web UI, a replay of a shipped scenario on a compressed clock, and the real shadow job with a real
 * config. Prints progress while it runs and a summary table at the end.
 */
public final class LocalDemo {
    /** Counted down when the demo has finished its work, so a Ctrl-C hook can wait for a clean stop. */
    private static final CountDownLatch finished = new CountDownLatch(1);

    private LocalDemo() {}

    public static void main(String[] args) throws Exception {
        DemoOptions options;
        try {
            options = DemoOptions.parse(args);
        } catch (ParameterException e) {
            System.err.println(e.getMessage());
            e.getCommandLine().usage(System.err);
            System.exit(2);
            return;
        }
        if (options.help) {
            DemoOptions.commandLine(options).usage(System.out);
            System.exit(0);
            return;
        }
        int code;
        try {
            code = run(options);
        } catch (Exception e) {
            e.printStackTrace();
            System.err.println("demo failed: " + e);
            code = 1;
        }
        finished.countDown();
        // Flink's MiniCluster and Kafka leave non-daemon threads behind after a failure: exit explicitly.
        System.exit(code);
    }

    static int run(DemoOptions o) throws Exception {
        Path root = ScenarioData.repoRoot();
        Path work = Files.createTempDirectory("shadowml-demo");
        List<LabelledRequest> events = load(o, root);
        String experiment = "demo-" + o.scenario + (o.drift ? "-drift" : "") + (o.canary != null ? "-canary" : "");
        System.out.printf(
                "shadowml demo: scenario %s%s, %d requests%n", o.scenario, o.drift ? " (drift)" : "", events.size());
        String canaryModel = null;
        if (o.canary != null) {
            CanaryTraffic canary = new CanaryTraffic(o.canary, CanaryTraffic.unitFor(o.scenario));
            ModelDescriptor live = CanaryTraffic.live(root, o.scenario);
            ModelDescriptor candidate = CanaryTraffic.candidate(root, o.scenario);
            events = canary.serve(events, live, candidate);
            canaryModel = candidate.id();
            CanaryTraffic.Split split = canary.split(events);
            boolean byEntity = canary.unit() == CanaryTraffic.Unit.ENTITY;
            System.out.printf(
                    Locale.ROOT,
                    "Canary:        %s%% by %s: %d of %d requests (%.1f%%%s) served by %s (served_by %s), the rest"
                            + " by %s (%s), each logging the served %s; every request is shadowed%n",
                    percent(o.canary),
                    byEntity ? "entity_id (sticky)" : "request_id",
                    split.canaryRequests(),
                    split.requests(),
                    100 * split.canaryShare(),
                    byEntity ? "; " + split.canaryUnits() + " of " + split.units() + " entities" : "",
                    candidate.id(),
                    CanaryTraffic.CANARY,
                    live.id(),
                    CanaryTraffic.PROD,
                    candidate.task() == ModelDescriptor.Task.MULTICLASS
                            ? "production_probabilities"
                            : "production_score");
        }

        try (CheckpointDirectory checkpoints = CheckpointDirectory.create();
                EmbeddedKafka kafka = EmbeddedKafka.start()) {
            for (String t : List.of("requests", "labels")) {
                kafka.createTopic(t, 2);
            }
            for (String t : List.of("reports", "verdicts", "scored-events", "dead-letters")) {
                kafka.createTopic(t, 1);
            }
            Dashboard dashboard = Dashboard.start(
                    kafka.bootstrapServers(), "reports", "verdicts", "scored-events", "dead-letters", o.dashboardPort);
            try (dashboard) {
                return runJob(o, kafka, dashboard, checkpoints, events, work, root, experiment, canaryModel);
            }
        } catch (IllegalStateException e) {
            if (o.follow && e.getMessage() != null && e.getMessage().contains("Shutdown in progress")) {
                return 0;
            }
            throw e;
        }
    }

    private static int runJob(
            DemoOptions o,
            EmbeddedKafka kafka,
            Dashboard dashboard,
            CheckpointDirectory checkpoints,
            List<LabelledRequest> events,
            Path work,
            Path root,
            String experiment,
            String canaryModel)
            throws Exception {
        {
            TimelineReplayer replay = new TimelineReplayer(events, "requests", "labels", kafka.bootstrapServers(), o);
            Path config = writeConfig(work, root, o, experiment, kafka.bootstrapServers(), replay.speed(), canaryModel);
            ShadowJobConfig cfg = ShadowJobConfig.load(config);

            int uiPort = freePort(o.uiPort);
            StreamExecutionEnvironment env =
                    DemoFlinkConfig.environment(DemoFlinkConfig.configuration(uiPort, checkpoints.path()));
            ShadowJob.enableCheckpointing(env, cfg);
            new ShadowJob(cfg, KafkaIO.requestSource(cfg, false), KafkaIO.labelSource(cfg, false), KafkaIO.sinks(cfg))
                    .build(env);
            JobClient job = env.executeAsync("shadowml " + experiment);

            System.out.printf(
                    "Kafka broker:  %s (topics requests, labels, reports, verdicts, scored-events, dead-letters)%n",
                    kafka.bootstrapServers());
            System.out.printf("Flink web UI:  http://localhost:%d%n", uiPort);
            System.out.printf("Dashboard:     %s%n", dashboard.url());
            System.out.printf("Job config:    %s%n", config);
            System.out.printf("Checkpoints:   %s (deleted on exit)%n", checkpoints.path());
            System.out.printf(
                    "Replay:        %s .. %s compressed %.0fx into %.0f s (labels days later arrive seconds later)%n",
                    Instant.ofEpochMilli(replay.firstTime),
                    Instant.ofEpochMilli(replay.lastTime),
                    replay.speed(),
                    replay.wallMillis() / 1000.0);

            ReportWatcher watcher = new ReportWatcher(kafka.bootstrapServers(), cfg.reportsTopic, cfg.verdictsTopic);
            Thread watcherThread = new Thread(watcher, "report-watcher");
            watcherThread.setDaemon(true);
            watcherThread.start();
            Thread replayThread = new Thread(replay, "replay");
            replayThread.setDaemon(true);
            long start = System.currentTimeMillis();
            replayThread.start();

            CountDownLatch interrupted = new CountDownLatch(1);
            // On Ctrl-C the JVM halts once the shutdown hooks return. The checkpoint directory's hook
            // first stops the job, then deletes the directory: with --follow it holds the JVM until the
            // job is drained and the summary printed (or a minute has passed), otherwise it cancels the job.
            checkpoints.beforeShutdownDelete(() -> {
                if (o.follow) {
                    interrupted.countDown();
                    try {
                        finished.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    cancel(job);
                }
            });
            try {
                while (!replay.done || (o.follow && !interrupted.await(0, TimeUnit.MILLISECONDS))) {
                    if (interrupted.await(2, TimeUnit.SECONDS)) {
                        break;
                    }
                    System.out.println(SummaryTable.progressLine(
                            (System.currentTimeMillis() - start) / 1000.0,
                            replay,
                            watcher.latestCumulative,
                            watcher.verdicts()));
                    if (job.getJobStatus().get().isGloballyTerminalState()) {
                        System.err.println("the job stopped unexpectedly: "
                                + job.getJobStatus().get());
                        return 1;
                    }
                }
                replayThread.interrupt();

                // Drain: advance event time to the end so every pending label horizon and window closes,
                // and commit the last reports with the savepoint.
                System.out.println("Scenario replayed; stopping the job with a draining savepoint ...");
                job.stopWithSavepoint(
                                true, work.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(2, TimeUnit.MINUTES);
                job.getJobExecutionResult().get(2, TimeUnit.MINUTES);
                // Nothing writes checkpoints any more.
                checkpoints.beforeShutdownDelete(() -> {});
                checkpoints.close();
                watcher.close();

                ComparisonReport last = null;
                for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(cfg.reportsTopic, true, Duration.ofSeconds(30))) {
                    ComparisonReport report = AvroCodec.decode(r.value(), ComparisonReport.class);
                    if (report.getWindowKind() == WindowKind.CUMULATIVE
                            && (last == null || !report.getWindowEnd().isBefore(last.getWindowEnd()))) {
                        last = report;
                    }
                }
                watcherThread.join(2_000);
                if (last == null) {
                    System.err.println("no report was produced");
                    return 1;
                }
                System.out.println();
                System.out.println(SummaryTable.render(last, watcher.verdicts()));
                if (!o.linger.isZero()) {
                    System.out.printf("Dashboard stays up for %d s: %s%n", o.linger.toSeconds(), dashboard.url());
                    Thread.sleep(o.linger.toMillis());
                }
                return 0;
            } finally {
                // After a failure the job may still run and write checkpoints.
                cancel(job);
            }
        }
    }

    /** Cancels the job unless it has stopped, and waits (up to a minute) until it has. */
    private static void cancel(JobClient job) {
        if (job.getJobExecutionResult().isDone()) {
            return;
        }
        try {
            if (!job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                job.cancel().get(30, TimeUnit.SECONDS);
                job.getJobExecutionResult().get(30, TimeUnit.SECONDS);
            }
        } catch (Exception stoppedOrUnreachable) {
            // a cancelled job's result is an exception; a MiniCluster that is gone has stopped the job too
        }
    }

    private static List<LabelledRequest> load(DemoOptions o, Path root) throws IOException {
        if (o.scenario.equals("fraud")) {
            return ScenarioData.fraud(
                    root.resolve("models/data/fraud/" + (o.drift ? "holdout-drift.csv" : "holdout.csv")), o.events);
        }
        return ScenarioData.fashion(o.events, Instant.parse("2026-01-05T00:00:00Z"), 30_000, 7);
    }

    /**
     * The job's config. With {@code --canary}, {@code canaryModel} is the candidate serving the canary arm
     * (name:version), else null.
     */
    static Path writeConfig(
            Path dir, Path root, DemoOptions o, String experiment, String bootstrap, double speed, String canaryModel)
            throws IOException {
        Path models = root.resolve("models/shipped").resolve(o.scenario);
        boolean fraud = o.scenario.equals("fraud");
        // Event-time tolerances scaled to the compressed clock: about half a wall-clock second.
        long slackMillis = Math.max(60_000, (long) (speed * 500));
        String yaml = String.join(
                "\n",
                "# Written by the local demo; the same format as a production config (jobs/README.md).",
                "experiment_id: " + experiment,
                "kafka:",
                "  bootstrap_servers: " + bootstrap,
                "  group_id: " + experiment,
                "  start: earliest",
                "  transaction_timeout: 5m",
                "topics:",
                "  requests: requests",
                "  labels: labels",
                "  reports: reports",
                "  verdicts: verdicts",
                "  scored_events: scored-events",
                "  dead_letter: dead-letters",
                "models:",
                "  live: " + models.resolve("live/model.json"),
                "  candidates:",
                "    - " + models.resolve("candidate/model.json"),
                "label_horizon: " + (fraud ? "14d" : "3d"),
                // Most fraud labels are known within 10 days (chargebacks in 3, clears in 8.5 at the median):
                // the verdict decides on requests 10 days old, while the replay runs (jobs/METRICS.md).
                fraud ? "label_maturity: 10d" : "",
                "report_window: " + (fraud ? "6h" : "1h"),
                "segment_fields: [" + (fraud ? "region, channel" : "site") + "]",
                "event_time:",
                "  max_out_of_orderness: " + slackMillis + "ms",
                // Short enough that the request topic, quiet once all requests are sent, stops holding
                // back the reports; longer than the gap (under 2 s) between the last replayed label and
                // the draining stop, since Flink drops the final watermark of a source that is idle
                // when a drain starts (FLINK-40499).
                "  idleness: 8s",
                "batching:",
                "  max_size: 64",
                "  max_wait: 20ms",
                "checkpoint_interval: 2s",
                "scored_events_sample_rate: 0.1",
                "metric_shards: 2",
                "verdict:",
                "  min_labelled_pairs: 500",
                canaryModel == null ? "" : canarySection(o, canaryModel),
                o.format.equals("json")
                        ? "# --format json: both topics carry the contract's fields as JSON (jobs/README.md §3).\n"
                                + "inputs:\n  requests: {format: json}\n  labels: {format: json}"
                        : "",
                "");
        Path file = dir.resolve("shadow-job.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** The transaction amount among the fraud features: what a missed fraud costs (canary.business_metric). */
    static final String FRAUD_AMOUNT_FEATURE = "amount";

    /**
     * The canary section of the job's config: which served_by value each model answers, the split the demo
     * assigns (CanaryTraffic), and for fraud the money a missed fraud costs; other keys keep their defaults.
     */
    static String canarySection(DemoOptions o, String canaryModel) {
        BigDecimal canary = BigDecimal.valueOf(o.canary);
        List<String> lines = new ArrayList<>(List.of(
                "canary:",
                "  arms:",
                "    " + CanaryTraffic.PROD + ": live",
                "    " + CanaryTraffic.CANARY + ": " + canaryModel,
                "  expected_split:",
                "    " + CanaryTraffic.PROD + ": "
                        + percent(BigDecimal.valueOf(100).subtract(canary)),
                "    " + CanaryTraffic.CANARY + ": " + percent(canary)));
        if (CanaryTraffic.unitFor(o.scenario) == CanaryTraffic.Unit.ENTITY) {
            // Assigned by card: a card's requests go together, so the split is tested over cards.
            lines.add("  srm_unit: entity");
        }
        if (o.scenario.equals("fraud") && ScenarioData.FRAUD_FEATURES.contains(FRAUD_AMOUNT_FEATURE)) {
            lines.addAll(List.of(
                    "  business_metric:",
                    "    name: fraud_loss",
                    "    feature: " + FRAUD_AMOUNT_FEATURE,
                    "    when: missed_positive"));
        }
        return String.join("\n", lines);
    }

    /** A percentage as written by hand: 10, 2.5. */
    static String percent(double p) {
        return percent(BigDecimal.valueOf(p));
    }

    private static String percent(BigDecimal p) {
        return p.stripTrailingZeros().toPlainString();
    }

    /** The preferred port if it is free, else the next free one. */
    private static int freePort(int preferred) throws IOException {
        for (int p = preferred; p < preferred + 20; p++) {
            try (ServerSocket s = new ServerSocket()) {
                // No SO_REUSEADDR: a port another process listens on must count as taken.
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress("127.0.0.1", p));
                return p;
            } catch (IOException busy) {
                // try the next one
            }
        }
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
