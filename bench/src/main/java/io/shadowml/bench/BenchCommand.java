package io.shadowml.bench;

import java.io.PrintStream;
import java.io.PrintWriter;
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
            required = true,
            paramLabel = "N",
            description = "requests to generate; about 87%% (fraud) / 86%% (fashion) of them get a label")
    int events;

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
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

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
        atLeast("--events", events, 1);
        atLeast("--parallelism", parallelism, 1);
        atLeast("--runs", runs, 1);
        if (batchSize != null) {
            atLeast("--batch-size", batchSize, 1);
        }
        if (warmupEvents != null) {
            atLeast("--warmup-events", warmupEvents, 0);
        }
        if (checkpointInterval != null && (checkpointInterval.isZero() || checkpointInterval.isNegative())) {
            throw new ParameterException(
                    spec.commandLine(), "option --checkpoint-interval must be positive, was " + checkpointInterval);
        }
        if (json != null
                && json.toAbsolutePath().getParent() != null
                && !Files.isDirectory(json.toAbsolutePath().getParent())) {
            throw new ParameterException(
                    spec.commandLine(),
                    "option --json: folder " + json.toAbsolutePath().getParent() + " does not exist");
        }
        try {
            bench();
            return 0;
        } catch (Verification.Failed e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("bench: " + e.getMessage());
            err.flush();
            return ToolCommandLine.FAILED;
        }
    }

    private void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new ParameterException(
                    spec.commandLine(), "option " + option + " must be at least " + min + ", was " + value);
        }
    }

    private void bench() throws Exception {
        Path root = ScenarioData.repoRoot();
        BenchConfig config = BenchConfig.load(root);
        int batch = batchSize != null ? batchSize : config.shippedBatchSize();
        Duration interval = checkpointInterval != null ? checkpointInterval : config.shippedCheckpointInterval();
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
                DurationParser.format(interval));

        BenchData data = new BenchData(scenario, scenario.rows(root), config.labelHorizon());
        Path work = Files.createTempDirectory("shadowml-bench");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            BenchData.Written measured = data.write(kafka, events, parallelism, "requests", "labels");
            out.printf(
                    Locale.ROOT,
                    "Kafka broker %s (in-process): %,d requests and %,d labels written in %.1f s (not timed)%n",
                    kafka.bootstrapServers(),
                    measured.requests(),
                    measured.labels(),
                    measured.seconds());
            BenchRun bench =
                    new BenchRun(kafka, config, scenario, new BenchRun.Cluster(parallelism, state, interval, work));
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
            BenchReport report = new BenchReport(scenario, state, parallelism, batch, interval, measured);
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
        } finally {
            FileUtils.deleteDirectoryQuietly(work.toFile());
        }
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
