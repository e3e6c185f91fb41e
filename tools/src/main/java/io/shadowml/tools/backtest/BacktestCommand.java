package io.shadowml.tools.backtest;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;
import io.shadowml.avro.WindowKind;
import io.shadowml.jobs.ShadowJob;
import io.shadowml.jobs.ShadowSinks;
import io.shadowml.jobs.config.ConfigException;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.tools.cli.Args;
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
public final class BacktestCommand {
    static final String USAGE = String.join("\n",
            "usage: shadowml-tool.sh backtest --config shadow-job.yaml --requests FILE [--labels FILE] --out DIR [options]",
            "  --requests FILE    CSV with a header (column options as for replay), or an Avro container of Requests",
            "  --labels FILE      Avro container of Labels (with Avro requests); with CSV requests the labels come",
            "                     from the same rows (--label-column ...), --labels may then only name that file",
            "  --out DIR          reports.{avro,jsonl}, verdicts.{avro,jsonl}, dead-letters.{avro,jsonl}",
            "                     [, scored-events.{avro,jsonl}] (overwritten)",
            "  --parallelism N    Flink parallelism (default: min(4, processors))",
            "  --scored-events    also write scored events (at the config's scored_events_sample_rate)",
            "  CSV column mapping: --id-column --time-column --entity-column --segment-columns --feature-columns |",
            "    --vector-column --label-column --label-time-column | --label-delay-column | --label-delay --seed",
            "    (see shadowml-tool.sh replay --help)");

    private BacktestCommand() {}

    public static void main(String[] argv) {
        System.exit(run(argv, System.err));
    }

    public static int run(String[] argv, PrintStream err) {
        try {
            execute(argv, err);
            return 0;
        } catch (UsageException | ConfigException e) {
            err.println("backtest: " + e.getMessage());
            if (e instanceof UsageException) {
                err.println(USAGE);
            }
            return 2;
        } catch (Exception e) {
            err.println("backtest failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /** What the backtest wrote, in file order. */
    public record Result(List<ComparisonReport> reports, List<Verdict> verdicts, List<DeadLetter> deadLetters,
                         List<ScoredEvent> scoredEvents) {
        /** The cumulative report of the last window, or null when nothing was reported. */
        public ComparisonReport finalCumulative() {
            return reports.stream().filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                    .max(Comparator.comparing(ComparisonReport::getWindowEnd)).orElse(null);
        }
    }

    /** @return null when only the usage was asked for */
    public static Result execute(String[] argv, PrintStream err) throws Exception {
        Args a = new Args().option("config", "requests", "labels", "out", "parallelism").option(RowSpec.OPTIONS)
                .flag("scored-events", "help");
        a.parse(argv);
        if (a.has("help")) {
            err.println(USAGE);
            return null;
        }
        Path configFile = a.existingFile("config");
        Path requests = a.existingFile("requests");
        Path out = Path.of(a.required("out"));
        int parallelism = (int) a.longValue("parallelism", Math.min(4, Runtime.getRuntime().availableProcessors()));
        if (parallelism < 1) {
            throw new UsageException("option --parallelism must be >= 1");
        }
        ShadowJobConfig cfg = ShadowJobConfig.load(configFile);

        Source<Decoded<Request>, ?, ?> requestSource;
        Source<Decoded<Label>, ?, ?> labelSource;
        if (HistoryReader.detect(requests) == HistoryReader.Format.AVRO) {
            if (RowSpec.anyGiven(a)) {
                throw new UsageException(requests + " is an Avro file of Requests: the column options apply to CSV input only");
            }
            requestSource = HistorySource.requests(requests, null);
            labelSource = a.has("labels") ? HistorySource.avroLabels(a.existingFile("labels")) : HistorySource.noLabels();
        } else {
            RowSpec spec = RowSpec.from(a);
            if (a.has("labels") && !Files.isSameFile(a.existingFile("labels"), requests)) {
                throw new UsageException("with CSV requests the labels come from the same rows; --labels "
                        + a.get("labels") + " is another file");
            }
            // Fail on a bad header now, not inside the job.
            HistoryReader.open(requests, spec).close();
            requestSource = HistorySource.requests(requests, spec);
            labelSource = spec.labelColumn != null ? HistorySource.csvLabels(requests, spec) : HistorySource.noLabels();
        }

        Files.createDirectories(out);
        boolean scored = a.has("scored-events");
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
                RecordFiles.finish(out, "reports", ComparisonReport.class,
                        Comparator.comparing(ComparisonReport::getWindowEnd).thenComparing(ComparisonReport::getWindowKind)),
                RecordFiles.finish(out, "verdicts", Verdict.class,
                        Comparator.comparing(Verdict::getDecidedAt).thenComparing(v -> v.getCandidate().toString())),
                RecordFiles.finish(out, "dead-letters", DeadLetter.class,
                        Comparator.comparing((DeadLetter d) -> d.getSourceTopic().toString())
                                .thenComparingInt(DeadLetter::getPartition).thenComparingLong(DeadLetter::getOffset)),
                scored ? RecordFiles.finish(out, "scored-events", ScoredEvent.class,
                        Comparator.comparing(ScoredEvent::getEventTime).thenComparing(e -> e.getRequestId().toString()))
                        : List.of());
        summary(err, out, secs, result);
        return result;
    }

    private static void summary(PrintStream err, Path out, double secs, Result r) {
        err.printf(Locale.ROOT, "backtest done in %.1f s: %d reports, %d verdicts, %d dead letters%s in %s%n", secs,
                r.reports().size(), r.verdicts().size(), r.deadLetters().size(),
                r.scoredEvents().isEmpty() ? "" : ", " + r.scoredEvents().size() + " scored events", out);
        ComparisonReport c = r.finalCumulative();
        if (c != null) {
            var n = c.getCounts();
            err.printf(Locale.ROOT, "cumulative to %s: scored %d, labelled %d, expired unlabelled %d, dead-lettered %d,"
                            + " duplicate labels %d, unknown labels %d, errors %d%n", c.getWindowEnd(), n.getScored(),
                    n.getLabelled(), n.getExpiredUnlabeled(), n.getDeadLettered(), n.getDuplicateLabels(),
                    n.getUnknownLabels(), n.getErrors());
        }
        r.verdicts().stream().filter(v -> c != null && v.getDecidedAt().equals(c.getWindowEnd()))
                .forEach(v -> err.println("verdict " + v.getCandidate() + ": " + v.getDecision() + " " + v.getReasons()));
    }
}
