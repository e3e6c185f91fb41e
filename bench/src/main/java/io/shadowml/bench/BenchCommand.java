package io.shadowml.bench;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.flink.util.FileUtils;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import io.shadowml.embedded.EmbeddedKafka;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.config.DurationParser;
import io.shadowml.tools.ShadowmlTool;
import io.shadowml.tools.cli.ToolCommandLine;

/**
 * {@code tools/shadowml-tool.sh bench}: the shadow job's end-to-end throughput, in one JVM, on a real
 * in-process Kafka broker and a Flink MiniCluster per run. The generated requests and labels
 * ({@link BenchData}) are written once; then, {@code --runs} times in turn, the ceiling (the job's own
 * Kafka sources and nothing else) and the whole job (at the batch size, and at batch size 1 with
 * {@code --compare-batch-1}) read them, each run verified ({@link Verification}). Prints every run and a
 * table ({@link BenchReport}) on stdout. See bench/README.md.
 */
@Command(
        name = "bench",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Measures the shadow job's end-to-end throughput on an in-process Kafka broker, a Flink MiniCluster per"
                    + " run: the whole job against the ceiling of its own Kafka sources, every run verified"
                    + " against the generated data. See bench/README.md.",
            ""
        },
        footer = {"", "Exit codes: 0 done and verified, 1 a run failed or did not verify, 2 usage error."})
public final class BenchCommand implements Callable<Integer>, ToolCommandLine.StackTraceOnFailure {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--scenario",
            required = true,
            paramLabel = "fraud|fashion",
            description = "the shipped scenario whose rows are cycled: fraud (binary, named features) or fashion"
                    + " (Fashion-MNIST, 10 classes, 784-value vectors)")
    Scenario scenario;

    @Option(
            names = "--events",
            paramLabel = "N",
            description = "requests to generate; about 87%% (fraud) / 86%% (fashion) of them get a label. Required,"
                    + " except with --freshness RATE")
    Integer events;

    @Option(
            names = "--state",
            paramLabel = "heap|rocksdb",
            description = "Flink state backend: heap (hashmap, the default) or rocksdb (full checkpoints)")
    StateChoice state = StateChoice.HEAP;

    @Option(
            names = "--parallelism",
            paramLabel = "P",
            description = "Flink parallelism, and the partitions of the input topics (default 2)")
    int parallelism = 2;

    @Option(
            names = "--batch-size",
            paramLabel = "B",
            description =
                    "batching.max_size of the whole job (default: the shipped config's, " + BenchConfig.SHIPPED + ")")
    Integer batchSize;

    @Option(
            names = "--sample-rate",
            paramLabel = "R",
            description = "sample_rate of every run: the share of the traffic the job scores (default 1)")
    Double sampleRate;

    @Option(
            names = "--control-topic",
            description = "run the job with topics.control set (an empty control topic): the cost of being able to"
                    + " announce candidates while it runs")
    boolean controlTopic;

    @Option(names = "--compare-batch-1", description = "also run the whole job at batch size 1")
    boolean compareBatch1;

    @Option(names = "--runs", paramLabel = "R", description = "measured runs of each pipeline (default 3)")
    int runs = 3;

    @Option(
            names = "--checkpoint-interval",
            paramLabel = "DURATION",
            description = "the job's checkpoint_interval (default: the shipped config's). Flink takes the final"
                    + " checkpoint as soon as the input is read, so it decides how many checkpoints fall within a"
                    + " run, not when the run ends")
    Duration checkpointInterval;

    @Option(
            names = "--warmup-events",
            paramLabel = "N",
            description = "requests of the untimed warm-up run of each pipeline before the measured runs"
                    + " (default: a tenth of --events, at most 20000; 0 = none)")
    Integer warmupEvents;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results (every run) as JSON")
    Path json;

    @Option(
            names = "--state-size",
            description = "instead of throughput: write --events requests and no labels, run the whole job unbounded"
                    + " until its join holds all of them, take a full checkpoint and print the join's checkpointed"
                    + " state per pending request")
    boolean stateSize;

    @Option(
            names = "--freshness",
            arity = "0..1",
            fallbackValue = HALF,
            paramLabel = "RATE",
            description = "also measure freshness: the whole job unbounded, requests (and labels) sent live at RATE"
                    + " per second, latency from a request's append to its scored event's append (p50/p90/p99/max)."
                    + " Without RATE: after the throughput runs, at half the median whole-job rate; with RATE:"
                    + " freshness only")
    String freshness;

    @Option(
            names = "--freshness-duration",
            paramLabel = "DURATION",
            description = "how long requests are sent for --freshness, warm-up included (default 60s)")
    Duration freshnessDuration = Duration.ofSeconds(60);

    @Option(
            names = "--freshness-warmup",
            paramLabel = "DURATION",
            description = "the first requests of --freshness left out of the figures (default 10s)")
    Duration freshnessWarmup = Duration.ofSeconds(10);

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    @Option(
            names = "--cluster",
            paramLabel = "URL",
            description = "instead of MiniClusters: submit the whole job (the job jar, ShadowJob.main) to the running"
                    + " standalone Flink cluster whose REST API is URL (deploy/local: http://127.0.0.1:18081), time it"
                    + " until its join received every request and label, then cancel it")
    URI cluster;

    @Option(
            names = "--cluster-metrics",
            paramLabel = "URL",
            description =
                    "the Prometheus endpoint of the cluster's TaskManager (default http://127.0.0.1:9250/metrics)")
    URI clusterMetrics = URI.create("http://127.0.0.1:9250/metrics");

    @Option(
            names = "--job-jar",
            paramLabel = "FILE",
            description = "the job jar --cluster submits (default: the one jobs/target/shadowml-jobs-*-job.jar)")
    Path jobJar;

    private static final String HALF = "half";

    private final PrintStream out;

    BenchCommand(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] argv) {
        // Flink's MiniCluster and Kafka may leave non-daemon threads behind: exit explicitly.
        System.exit(run(argv, System.out, System.err));
    }

    /**
     * Runs {@code shadowml-tool bench <argv>}: the results on {@code out}, messages and the usage on {@code err}.
     *
     * @return the exit code
     */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CommandLine tool = ShadowmlTool.commandLine(err);
        tool.addSubcommand(ToolCommandLine.of(new BenchCommand(out), err).setCaseInsensitiveEnumValuesAllowed(true));
        return tool.execute(ShadowmlTool.withCommand("bench", argv));
    }

    @Override
    public Integer call() throws Exception {
        Double freshnessRate = freshnessRate();
        if (events == null && (freshness == null || freshnessRate == null)) {
            throw new ParameterException(
                    spec.commandLine(), "Missing required option: '--events=N' (optional only with --freshness RATE)");
        }
        if (events != null) {
            atLeast("--events", events, 1);
        }
        if (cluster != null && (stateSize || freshness != null || compareBatch1)) {
            throw new ParameterException(
                    spec.commandLine(), "option --cluster excludes --state-size, --freshness and --compare-batch-1");
        }
        if (stateSize && freshness != null) {
            throw new ParameterException(spec.commandLine(), "options --state-size and --freshness exclude each other");
        }
        positive("--freshness-duration", freshnessDuration);
        positive("--freshness-warmup", freshnessWarmup);
        if (freshness != null && freshnessWarmup.compareTo(freshnessDuration) >= 0) {
            throw new ParameterException(
                    spec.commandLine(), "option --freshness-warmup must be shorter than --freshness-duration");
        }
        atLeast("--parallelism", parallelism, 1);
        atLeast("--runs", runs, 1);
        if (batchSize != null) {
            atLeast("--batch-size", batchSize, 1);
        }
        if (sampleRate != null && !(sampleRate > 0 && sampleRate <= 1)) {
            throw new ParameterException(
                    spec.commandLine(), "option --sample-rate must be in (0, 1], was " + sampleRate);
        }
        if (warmupEvents != null) {
            atLeast("--warmup-events", warmupEvents, 0);
        }
        if (checkpointInterval != null) {
            positive("--checkpoint-interval", checkpointInterval);
        }
        if (json != null
                && json.toAbsolutePath().getParent() != null
                && !Files.isDirectory(json.toAbsolutePath().getParent())) {
            throw new ParameterException(
                    spec.commandLine(),
                    "option --json: folder " + json.toAbsolutePath().getParent() + " does not exist");
        }
        try {
            bench(freshnessRate);
            return 0;
        } catch (Verification.Failed e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("bench: " + e.getMessage());
            err.flush();
            return ToolCommandLine.FAILED;
        }
    }

    /** The explicit rate of {@code --freshness RATE}, or null (no --freshness, or --freshness without a rate). */
    private Double freshnessRate() {
        if (freshness == null || freshness.equals(HALF)) {
            return null;
        }
        try {
            double rate = Double.parseDouble(freshness);
            if (rate > 0 && Double.isFinite(rate)) {
                return rate;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ParameterException(
                spec.commandLine(), "option --freshness: '" + freshness + "' is not a positive rate (requests/s)");
    }

    private void positive(String option, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new ParameterException(spec.commandLine(), "option " + option + " must be positive, was " + value);
        }
    }

    private void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new ParameterException(
                    spec.commandLine(), "option " + option + " must be at least " + min + ", was " + value);
        }
    }

    private void bench(Double freshnessRate) throws Exception {
        Path root = ScenarioData.repoRoot();
        BenchConfig config = BenchConfig.load(root).withSampleRate(sampleRate).withControlTopic(controlTopic);
        int batch = batchSize != null ? batchSize : config.shippedBatchSize();
        Duration interval = checkpointInterval != null ? checkpointInterval : config.shippedCheckpointInterval();
        BenchData data = new BenchData(scenario, scenario.rows(root), config.labelHorizon());
        Path work = Files.createTempDirectory("shadowml-bench");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            BenchRun.Cluster cluster = new BenchRun.Cluster(parallelism, state, interval, work);
            if (this.cluster != null) {
                onCluster(kafka, config, data, root, interval);
            } else if (stateSize) {
                stateSize(kafka, config, data, cluster, batch);
            } else {
                Double rate = freshnessRate;
                if (rate == null) {
                    BenchReport report = throughput(kafka, config, data, cluster, batch);
                    rate = freshness == null
                            ? null
                            : report.stats(Variant.wholeJob(batch)).median() / 2;
                }
                if (rate != null) {
                    freshness(kafka, config, data, cluster, batch, rate, freshnessRate == null);
                }
            }
            out.flush();
        } finally {
            FileUtils.deleteDirectoryQuietly(work.toFile());
        }
    }

    private BenchReport throughput(
            EmbeddedKafka kafka, BenchConfig config, BenchData data, BenchRun.Cluster cluster, int batch)
            throws Exception {
        int warmup = warmupEvents != null ? warmupEvents : Math.min(20_000, events / 10);
        LinkedHashSet<Variant> plan = new LinkedHashSet<>(List.of(Variant.ceiling(), Variant.wholeJob(batch)));
        if (compareBatch1) {
            plan.add(Variant.wholeJob(1));
        }
        List<Variant> variants = new ArrayList<>(plan);
        out.printf(
                Locale.ROOT,
                "shadowml bench: scenario %s, %,d requests, state %s, parallelism %d, batch size %d%s, %d run%s of"
                        + " each, checkpoint interval %s%n",
                scenario,
                events,
                state,
                parallelism,
                batch,
                compareBatch1 && batch != 1 ? " and 1" : "",
                runs,
                runs == 1 ? "" : "s",
                DurationParser.format(cluster.checkpointInterval()));

        BenchData.Written measured = writeMeasured(kafka, data);
        BenchRun bench = new BenchRun(kafka, config, scenario, cluster);
        if (warmup > 0) {
            BenchData.Written w = data.write(kafka, warmup, parallelism, "warmup-requests", "warmup-labels");
            for (Variant v : variants) {
                BenchRun.Result r = bench.run(v, w, "warmup-" + v.id());
                out.printf(
                        Locale.ROOT,
                        "%-11s %-21s %7.1f s (%,d requests, not counted)  verified: %s%n",
                        "warm-up",
                        v.label(),
                        r.seconds(),
                        r.requests(),
                        r.verified());
            }
        }
        BenchReport report =
                new BenchReport(scenario, state, parallelism, batch, cluster.checkpointInterval(), measured);
        for (int round = 1; round <= runs; round++) {
            for (Variant v : variants) {
                BenchRun.Result r = bench.run(v, measured, "r" + round + "-" + v.id());
                report.add(r);
                print("round " + round + "/" + runs, r);
            }
        }
        out.println();
        out.print(report.table());
        if (json != null) {
            report.writeJson(json);
            out.println("JSON: " + json);
        }
        out.flush();
        return report;
    }

    /** Writes the measured input (not timed) and says so. */
    private BenchData.Written writeMeasured(EmbeddedKafka kafka, BenchData data) {
        BenchData.Written measured = data.write(kafka, events, parallelism, "requests", "labels");
        out.printf(
                Locale.ROOT,
                "Kafka broker %s (in-process): %,d requests and %,d labels written in %.1f s (not timed)%n",
                kafka.bootstrapServers(),
                measured.requests(),
                measured.labels(),
                measured.seconds());
        return measured;
    }

    private void onCluster(EmbeddedKafka kafka, BenchConfig config, BenchData data, Path root, Duration interval)
            throws Exception {
        Path jar = jobJar != null ? jobJar : ClusterRun.defaultJobJar(root);
        int warmup = warmupEvents != null ? warmupEvents : Math.min(20_000, events / 10);
        out.printf(
                Locale.ROOT,
                "shadowml bench --cluster %s: scenario %s, %,d requests, parallelism %d, %d run%s, checkpoint interval"
                        + " %s, the cluster's state backend; job jar %s%n",
                cluster,
                scenario,
                events,
                parallelism,
                runs,
                runs == 1 ? "" : "s",
                DurationParser.format(interval),
                jar);
        BenchData.Written measured = writeMeasured(kafka, data);
        Path work = Files.createTempDirectory("shadowml-bench-cluster");
        List<Double> rates = new ArrayList<>();
        try (ClusterRun c =
                new ClusterRun(cluster, clusterMetrics, jar, kafka, config, scenario, parallelism, interval, work)) {
            Duration timeout = Duration.ofMinutes(30);
            if (warmup > 0) {
                BenchData.Written w = data.write(kafka, warmup, parallelism, "warmup-requests", "warmup-labels");
                ClusterRun.Result r = c.run(w, "warmup-cluster-p" + parallelism, timeout);
                out.printf(
                        Locale.ROOT,
                        "%-11s %7.1f s (%,d requests, not counted)  verified: join-labels received %,d + %,d%n",
                        "warm-up",
                        r.seconds(),
                        r.requests(),
                        r.requests(),
                        r.labels());
            }
            for (int round = 1; round <= runs; round++) {
                ClusterRun.Result r = c.run(measured, "r" + round + "-cluster-p" + parallelism, timeout);
                rates.add(r.requestsPerSecond());
                out.printf(
                        Locale.ROOT,
                        "%-11s %7.1f s %,11.0f req/s  verified: join-labels received %,d requests + %,d labels (job"
                                + " %s)%n",
                        "round " + round + "/" + runs,
                        r.seconds(),
                        r.requestsPerSecond(),
                        r.requests(),
                        r.labels(),
                        r.jobId());
                out.flush();
            }
        } finally {
            FileUtils.deleteDirectoryQuietly(work.toFile());
        }
        BenchReport.Stats s = BenchReport.Stats.of(rates);
        out.printf(
                Locale.ROOT,
                "%n| scenario | cluster | parallelism | submission to all joined, req/s (min / median / max) |%n"
                        + "|---|---|---:|---:|%n| %s | %s | %d | %,.0f / %,.0f / %,.0f |%n",
                scenario,
                cluster,
                parallelism,
                s.min(),
                s.median(),
                s.max());
    }

    private void stateSize(EmbeddedKafka kafka, BenchConfig config, BenchData data, BenchRun.Cluster cluster, int batch)
            throws Exception {
        out.printf(
                Locale.ROOT,
                "shadowml bench --state-size: scenario %s, %,d pending requests (no labels), state %s, parallelism"
                        + " %d%n",
                scenario,
                events,
                state,
                parallelism);
        BenchData.Written written = data.write(kafka, events, parallelism, "requests", "labels", false);
        out.printf(
                Locale.ROOT,
                "Kafka broker %s (in-process): %,d requests written in %.1f s%n",
                kafka.bootstrapServers(),
                written.requests(),
                written.seconds());
        StateSize.Result r =
                StateSize.measure(kafka, config, scenario, cluster, written, batch, Duration.ofMinutes(30));
        out.printf(
                Locale.ROOT,
                "join-labels received all %,d scored requests %.1f s after the job was running; full checkpoint:"
                        + " join-labels state %,d bytes (checkpointed %,d), whole job %,d bytes%n%n",
                r.pending(),
                r.secondsToScore(),
                r.joinStateBytes(),
                r.joinCheckpointedBytes(),
                r.jobStateBytes());
        out.print(r.table());
    }

    private void freshness(
            EmbeddedKafka kafka,
            BenchConfig config,
            BenchData data,
            BenchRun.Cluster cluster,
            int batch,
            double rate,
            boolean halfOfMeasured)
            throws Exception {
        out.printf(
                Locale.ROOT,
                "%nshadowml bench --freshness: scenario %s, %,.0f requests/s%s for %s (the first %s not counted),"
                        + " labels %d s after their requests, state %s, parallelism %d, every scored event written%n",
                scenario,
                rate,
                halfOfMeasured ? " (half the median whole-job rate above)" : "",
                DurationParser.format(freshnessDuration),
                DurationParser.format(freshnessWarmup),
                Freshness.LABEL_DELAY_SECONDS,
                state,
                parallelism);
        Freshness.Result r = Freshness.measure(
                kafka, config, scenario, cluster, data, batch, rate, freshnessDuration, freshnessWarmup);
        out.printf(
                Locale.ROOT,
                "%,d requests sent at %,.0f/s, every one scored; latency from the request's append to its scored"
                        + " event's append (broker LogAppendTime), over the %,d after the warm-up:%n%n",
                r.written(),
                r.achievedRate(),
                r.measured());
        out.print(r.table());
    }

    private void print(String when, BenchRun.Result r) {
        out.printf(
                Locale.ROOT,
                "%-11s %-21s %7.1f s %,11.0f req/s  verified: %s%n",
                when,
                r.variant().label(),
                r.seconds(),
                r.requestsPerSecond(),
                r.verified());
        out.flush();
    }
}
