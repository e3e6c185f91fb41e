package io.shadowml.local;

import java.time.Duration;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** Command-line options of the local demo ({@code ./demo.sh --help} prints the help generated from them). */
@Command(
        name = "demo.sh",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Runs the shadow job on an embedded Kafka broker and Flink MiniCluster over a shipped scenario.")
final class DemoOptions {
    @Option(
            names = "--scenario",
            paramLabel = "fraud|fashion",
            description = "fraud: card transactions, binary (default); fashion: Fashion-MNIST images, 10 classes")
    String scenario = "fraud";

    @Option(names = "--events", paramLabel = "N", description = "how many requests to replay (default 6000)")
    int events = 6000;

    @Option(
            names = "--duration",
            paramLabel = "45s",
            converter = DurationConverter.class,
            description = "wall-clock time the replay of requests and their labels takes (default 45s)")
    Duration duration = Duration.ofSeconds(45);

    @Option(names = "--rate", paramLabel = "EVENTS_PER_S", description = "requests per second instead of --duration")
    double rate = Double.NaN;

    @Option(
            names = "--drift",
            description = "fraud only: replay the drifted data set (new fraud pattern, more foreign/night traffic)")
    boolean drift;

    @Option(
            names = "--canary",
            paramLabel = "PERCENT",
            description = "serve this share of the requests (0 < PERCENT < 100) by the candidate, the rest by the"
                    + " live model: each request logs served_by (canary/prod) and the serving model's output, every"
                    + " request is still shadowed; the summary shows the shadow and the canary verdict (default off)")
    Double canary;

    @Option(
            names = "--format",
            paramLabel = "avro|json",
            description = "how requests and labels are written to Kafka: avro (the job's own contract, default) or"
                    + " json (the job reads them with inputs.*.format: json)")
    String format = "avro";

    @Option(names = "--follow", description = "keep running after the scenario until Ctrl-C")
    boolean follow;

    @Option(
            names = "--ui-port",
            paramLabel = "8081",
            description = "Flink web UI port (default 8081; the next free one is used if taken)")
    int uiPort = 8081;

    @Option(
            names = "--dashboard-port",
            paramLabel = "8090",
            description = "the demo's dashboard port on 127.0.0.1 (default 8090; the next free one if taken; 0 = any)")
    int dashboardPort = 8090;

    @Option(
            names = "--linger",
            paramLabel = "0s",
            converter = DurationConverter.class,
            description =
                    "keep the dashboard up this long after the summary (default 0s; --follow serves until Ctrl-C)")
    Duration linger = Duration.ZERO;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** The command line of these options; its usage is the help. */
    static CommandLine commandLine(DemoOptions options) {
        return new CommandLine(options).setUsageHelpWidth(110);
    }

    /**
     * Parses and checks the options.
     *
     * @throws ParameterException naming the option that is wrong
     */
    static DemoOptions parse(String[] args) {
        DemoOptions o = new DemoOptions();
        CommandLine cl = commandLine(o);
        cl.parseArgs(args);
        if (o.help) {
            return o;
        }
        if (!o.format.equals("avro") && !o.format.equals("json")) {
            throw new ParameterException(cl, "--format must be avro or json, was '" + o.format + "'");
        }
        if (!o.scenario.equals("fraud") && !o.scenario.equals("fashion")) {
            throw new ParameterException(cl, "--scenario must be fraud or fashion, was '" + o.scenario + "'");
        }
        if (o.drift && !o.scenario.equals("fraud")) {
            throw new ParameterException(cl, "--drift is available for the fraud scenario only");
        }
        if (o.canary != null && !(o.canary > 0 && o.canary < 100)) {
            throw new ParameterException(
                    cl, "--canary is the canary's percentage of the traffic, 0 < PERCENT < 100; was " + o.canary);
        }
        if (o.events <= 0 || (!Double.isNaN(o.rate) && o.rate <= 0)) {
            throw new ParameterException(cl, "--events and --rate must be positive");
        }
        if (o.dashboardPort < 0 || o.dashboardPort > 65535) {
            throw new ParameterException(cl, "--dashboard-port must be 0..65535, was " + o.dashboardPort);
        }
        if (o.linger.isNegative()) {
            throw new ParameterException(cl, "--linger must not be negative");
        }
        return o;
    }
}
