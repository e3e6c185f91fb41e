package io.shadowml.tools.backtest;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.ShadowSinks;
import io.shadowml.jobs.config.InputsConfig;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.tools.ShadowmlTool;
import io.shadowml.tools.cli.ColumnOptions;
import io.shadowml.tools.cli.ToolCommandLine;
import io.shadowml.tools.cli.UsageException;
import io.shadowml.tools.io.HistoryReader;
import io.shadowml.tools.io.RowSpec;

/**
 * Runs the shadow job itself ({@link ShadowJob#build}) in Flink BATCH mode over history files instead of
 * Kafka, and writes its reports, verdicts and dead letters (optionally scored events) to files
 * ({@link RecordFiles}). The kafka and topics parts of the config are ignored; everything else applies.
 *
 * <p>Exit codes: 0 done, 1 the job failed, 2 usage or configuration error.
 */
@Command(
        name = "backtest",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Runs the shadow job in Flink BATCH mode over history files and writes its reports, verdicts "
                + "and dead letters to files.",
        footer = {"", "Exit codes: 0 done, 1 the job failed, 2 usage or configuration error."})
public final class BacktestCommand implements Callable<Integer>, ToolCommandLine.StackTraceOnFailure {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "the job's YAML config (its kafka and topics parts must be present but are ignored)")
    Path configFile;

    @Option(
            names = "--requests",
            required = true,
            paramLabel = "FILE",
            description = "CSV with a header (column options below), an Avro container of Requests, or JSON lines"
                    + " when the config reads requests as JSON (inputs.requests.format: json, with its mapping)")
    Path requests;

    @Option(
            names = "--labels",
            paramLabel = "FILE",
            description = "Avro container of Labels (with Avro requests), or JSON lines when the config reads labels"
                    + " as JSON; with CSV requests the labels come from the same rows (--label-column ...), --labels"
                    + " may then only name that file")
    Path labels;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "DIR",
            description = "reports.{avro,jsonl}, verdicts.{avro,jsonl}, dead-letters.{avro,jsonl}"
                    + "[, scored-events.{avro,jsonl}] (overwritten)")
    Path out;

    @Option(names = "--parallelism", paramLabel = "N", description = "Flink parallelism (default: min(4, processors))")
    Integer parallelism;

    @Option(
            names = "--scored-events",
            description = "also write scored events (at the config's scored_events_sample_rate)")
    boolean scoredEvents;

    @Mixin
    ColumnOptions columns;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** Kept for callers of the class itself: the same as {@code shadowml-tool backtest ...}. */
    public static void main(String[] argv) {
        System.exit(ShadowmlTool.run(ShadowmlTool.withCommand("backtest", argv), System.err));
    }

    /**
     * Parses and runs, throwing instead of mapping failures to exit codes (for tests).
     *
     * @return null when only the usage was asked for
     */
    public static Result execute(String[] argv, PrintStream err) throws Exception {
        BacktestCommand command = new BacktestCommand();
        CommandLine cl = ToolCommandLine.of(command, err);
        cl.parseArgs(argv);
        if (cl.isUsageHelpRequested()) {
            cl.usage(cl.getErr());
            return null;
        }
        return command.backtest();
    }

    @Override
    public Integer call() throws Exception {
        backtest();
        return 0;
    }

    /** What the backtest wrote, in file order. */
    public record Result(
            List<ComparisonReport> reports,
            List<Verdict> verdicts,
            List<DeadLetter> deadLetters,
            List<ScoredEvent> scoredEvents) {
        /** The cumulative report of the last window, or null when nothing was reported. */
        public ComparisonReport finalCumulative() {
            return reports.stream()
                    .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .max(Comparator.comparing(ComparisonReport::getWindowEnd))
                    .orElse(null);
        }
    }

    /** The --labels file (JSON lines when the config reads labels as JSON, else Avro), or none. */
    private Source<Decoded<Label>, ?, ?> labelFile(ShadowJobConfig cfg) {
        if (labels == null) {
            return HistorySources.noLabels(requests);
        }
        return cfg.labelInput.format == InputsConfig.Format.JSON
                ? HistorySources.jsonLines(
                        existing("--labels", labels), Label.class, KafkaIO.DECODED_LABEL, KafkaIO.labelDecoding(cfg))
                : HistorySources.avroLabels(existing("--labels", labels));
    }

    Result backtest() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        existing("--config", configFile);
        existing("--requests", requests);
        int parallelism = this.parallelism != null
                ? this.parallelism
                : Math.min(4, Runtime.getRuntime().availableProcessors());
        if (parallelism < 1) {
            throw new ParameterException(spec.commandLine(), "option --parallelism must be >= 1");
        }
        ShadowJobConfig cfg = ShadowJobConfig.load(configFile);

        Source<Decoded<Request>, ?, ?> requestSource;
        Source<Decoded<Label>, ?, ?> labelSource;
        for (InputsConfig.TopicInput input : List.of(cfg.requestInput, cfg.labelInput)) {
            if (input.format == InputsConfig.Format.REGISTRY_AVRO) {
                throw new UsageException(configFile + ": inputs in format registry-avro are read from Kafka only; a"
                        + " backtest reads the contract's Avro or CSV files, or JSON lines with a json mapping");
            }
            if (input.mapping != null && input.mapping.readsKafkaAttributes()) {
                throw new UsageException(configFile + ": the inputs mapping reads $key or $timestamp, which records"
                        + " in a file do not have");
            }
        }
        if (cfg.requestInput.format == InputsConfig.Format.JSON) {
            if (columns.anyGiven()) {
                throw new UsageException("the config reads requests as JSON (inputs.requests.format: json): " + requests
                        + " is read as JSON lines, the column options apply to CSV input only");
            }
            requestSource = HistorySources.jsonLines(
                    requests, Request.class, KafkaIO.DECODED_REQUEST, KafkaIO.requestDecoding(cfg));
            labelSource = labelFile(cfg);
        } else if (HistoryReader.detect(requests) == HistoryReader.Format.AVRO) {
            if (columns.anyGiven()) {
                throw new UsageException(
                        requests + " is an Avro file of Requests: the column options apply to CSV input only");
            }
            requestSource = HistorySources.requests(requests, null);
            labelSource = labelFile(cfg);
        } else {
            RowSpec rows = columns.toRowSpec();
            if (labels != null && !Files.isSameFile(existing("--labels", labels), requests)) {
                throw new UsageException("with CSV requests the labels come from the same rows; --labels " + labels
                        + " is another file");
            }
            // Fail on a bad header now, not inside the job.
            HistoryReader.open(requests, rows).close();
            requestSource = HistorySources.requests(requests, rows);
            labelSource = rows.labelColumn != null
                    ? HistorySources.csvLabels(requests, rows)
                    : HistorySources.noLabels(requests);
        }

        Files.createDirectories(out);
        boolean scored = scoredEvents;
        ShadowSinks sinks = new ShadowSinks(
                new RecordFileSink<>(out, "reports", ComparisonReport.class),
                new RecordFileSink<>(out, "verdicts", Verdict.class),
                scored ? new RecordFileSink<>(out, "scored-events", ScoredEvent.class) : new DiscardingSink<>(),
                new RecordFileSink<>(out, "dead-letters", DeadLetter.class));
        for (String name : List.of("reports", "verdicts", "scored-events", "dead-letters")) {
            try (var old = Files.newDirectoryStream(out, RecordFiles.partPrefix(name) + "*")) {
                for (Path p : old) {
                    Files.delete(p);
                }
            }
        }

        Configuration conf = new Configuration();
        // Part files of a failed attempt would be mixed with the retry's: fail instead of restarting.
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(parallelism);
        // No ShadowJob.enableCheckpointing: BATCH execution has no checkpoints.
        new ShadowJob(cfg, requestSource, labelSource, sinks).build(env);
        long t0 = System.nanoTime();
        env.execute("shadowml backtest " + cfg.experimentId);
        double secs = (System.nanoTime() - t0) / 1e9;

        Result result = new Result(
                RecordFiles.finish(
                        out,
                        "reports",
                        ComparisonReport.class,
                        Comparator.comparing(ComparisonReport::getWindowEnd)
                                .thenComparing(ComparisonReport::getWindowKind)),
                RecordFiles.finish(
                        out,
                        "verdicts",
                        Verdict.class,
                        Comparator.comparing(Verdict::getDecidedAt)
                                .thenComparing(v -> v.getCandidate().toString())),
                RecordFiles.finish(
                        out,
                        "dead-letters",
                        DeadLetter.class,
                        Comparator.comparing(
                                        (DeadLetter d) -> d.getSourceTopic().toString())
                                .thenComparingInt(DeadLetter::getPartition)
                                .thenComparingLong(DeadLetter::getOffset)),
                scored
                        ? RecordFiles.finish(
                                out,
                                "scored-events",
                                ScoredEvent.class,
                                Comparator.comparing(ScoredEvent::getEventTime)
                                        .thenComparing(e -> e.getRequestId().toString()))
                        : List.of());
        summary(err, out, secs, result);
        return result;
    }

    private static Path existing(String option, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("option " + option + ": file " + file + " does not exist");
        }
        return file;
    }

    private static void summary(PrintWriter err, Path out, double secs, Result r) {
        err.printf(
                Locale.ROOT,
                "backtest done in %.1f s: %d reports, %d verdicts, %d dead letters%s in %s%n",
                secs,
                r.reports().size(),
                r.verdicts().size(),
                r.deadLetters().size(),
                r.scoredEvents().isEmpty() ? "" : ", " + r.scoredEvents().size() + " scored events",
                out);
        ComparisonReport c = r.finalCumulative();
        if (c != null) {
            var n = c.getCounts();
            err.printf(
                    Locale.ROOT,
                    "cumulative to %s: scored %d, labelled %d, expired unlabelled %d, dead-lettered %d,"
                            + " duplicate labels %d, unknown labels %d, errors %d%n",
                    c.getWindowEnd(),
                    n.getScored(),
                    n.getLabelled(),
                    n.getExpiredUnlabeled(),
                    n.getDeadLettered(),
                    n.getDuplicateLabels(),
                    n.getUnknownLabels(),
                    n.getErrors());
        }
        r.verdicts().stream()
                .filter(v -> c != null && v.getDecidedAt().equals(c.getWindowEnd()))
                .forEach(v ->
                        err.println("verdict " + v.getCandidate() + ": " + v.getDecision() + " " + v.getReasons()));
    }
}
