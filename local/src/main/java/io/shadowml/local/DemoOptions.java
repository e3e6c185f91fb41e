package io.shadowml.local;

import java.time.Duration;

import io.shadowml.jobs.config.DurationParser;

/** Command-line options of the local demo. */
final class DemoOptions {
    String scenario = "fraud";
    int events = 6000;
    Duration duration = Duration.ofSeconds(45);
    double rate = Double.NaN;
    boolean drift;
    boolean follow;
    int uiPort = 8081;
    int dashboardPort = 8090;
    Duration linger = Duration.ZERO;

    static final String USAGE = String.join("\n",
            "usage: demo.sh [--scenario fraud|fashion] [--events N] [--duration 45s | --rate EVENTS_PER_S]",
            "               [--drift] [--follow] [--ui-port 8081] [--dashboard-port 8090] [--linger 0s]",
            "  --scenario  fraud: card transactions, binary (default); fashion: Fashion-MNIST images, 10 classes",
            "  --events    how many requests to replay (default 6000)",
            "  --duration  wall-clock time the replay of requests and their labels takes (default 45s)",
            "  --rate      requests per second instead of --duration",
            "  --drift     fraud only: replay the drifted data set (new fraud pattern, more foreign/night traffic)",
            "  --follow    keep running after the scenario until Ctrl-C",
            "  --ui-port   Flink web UI port (default 8081; the next free one is used if taken)",
            "  --dashboard-port  the demo's dashboard port on 127.0.0.1 (default 8090; the next free one if taken; 0 = any)",
            "  --linger    keep the dashboard up this long after the summary (default 0s; --follow serves until Ctrl-C)");

    static DemoOptions parse(String[] args) {
        DemoOptions o = new DemoOptions();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--scenario": o.scenario = value(args, ++i, a); break;
                case "--events": o.events = Integer.parseInt(value(args, ++i, a)); break;
                case "--duration": o.duration = DurationParser.parse(value(args, ++i, a)); break;
                case "--rate": o.rate = Double.parseDouble(value(args, ++i, a)); break;
                case "--drift": o.drift = true; break;
                case "--follow": o.follow = true; break;
                case "--ui-port": o.uiPort = Integer.parseInt(value(args, ++i, a)); break;
                case "--dashboard-port": o.dashboardPort = Integer.parseInt(value(args, ++i, a)); break;
                case "--linger": o.linger = DurationParser.parse(value(args, ++i, a)); break;
                case "-h":
                case "--help":
                    System.out.println(USAGE);
                    System.exit(0);
                    break;
                default: throw new IllegalArgumentException("unknown option '" + a + "'\n" + USAGE);
            }
        }
        if (!o.scenario.equals("fraud") && !o.scenario.equals("fashion")) {
            throw new IllegalArgumentException("--scenario must be fraud or fashion, was '" + o.scenario + "'");
        }
        if (o.drift && !o.scenario.equals("fraud")) {
            throw new IllegalArgumentException("--drift is available for the fraud scenario only");
        }
        if (o.events <= 0 || (!Double.isNaN(o.rate) && o.rate <= 0)) {
            throw new IllegalArgumentException("--events and --rate must be positive");
        }
        if (o.dashboardPort < 0 || o.dashboardPort > 65535) {
            throw new IllegalArgumentException("--dashboard-port must be 0..65535, was " + o.dashboardPort);
        }
        if (o.linger.isNegative()) {
            throw new IllegalArgumentException("--linger must not be negative");
        }
        return o;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
        }
        return args[i];
    }
}
