package io.shadowml.tools.verdict;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerConfig;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import io.shadowml.avro.Decision;
import io.shadowml.avro.TestResult;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.config.ConfigException;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.tools.ShadowmlTool;
import io.shadowml.tools.cli.ToolCommandLine;
import io.shadowml.tools.cli.UsageException;

/**
 * The promotion gate of a CI/CD pipeline: reads the committed verdicts of one experiment from the job's
 * verdict topic ({@link VerdictReader}: read_committed, from the beginning to the end offsets of each look,
 * the latest verdict per key) and turns the selected ones into an exit code, printing their evidence on
 * stdout (text, or one JSON object with {@code --json}). See tools/README.md, "verdict".
 *
 * <p>Exit codes: 0 every selected verdict PROMOTE or PROCEED, 1 a REJECT or ROLLBACK among them, 2 usage
 * or configuration error, 3 CONTINUE (still undecided when {@code --wait} ran out, or no verdict yet), 4 the
 * verdicts could not be read (broker unreachable, topic missing, or anything else that went wrong: never 1,
 * which a pipeline takes for a REJECT).
 */
@Command(
        name = "verdict",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Reads the committed verdicts of an experiment and exits with the decision of the selected"
                + " ones (0 PROMOTE/PROCEED, 1 REJECT/ROLLBACK, 3 CONTINUE), printing their evidence on stdout:"
                + " the gate of a CI/CD pipeline step.",
        footer = {
            "",
            "Exit codes: 0 every selected verdict is PROMOTE or PROCEED, 1 a REJECT or ROLLBACK among them,"
                    + " 2 usage or configuration error, 3 CONTINUE (undecided when --wait ran out, a selected"
                    + " candidate or arm without a verdict yet, or no verdict of the experiment at all),"
                    + " 4 could not read the verdicts (broker unreachable, topic missing, ...)."
        })
public final class VerdictCommand implements Callable<Integer> {
    /** Every selected verdict is PROMOTE or PROCEED. */
    public static final int GO = 0;
    /** A selected verdict is REJECT or ROLLBACK. */
    public static final int NO_GO = 1;

    public static final int USAGE = ToolCommandLine.USAGE;
    /** Undecided: CONTINUE, a selected candidate or arm without a verdict, or none at all. */
    public static final int UNDECIDED = 3;
    /** The verdicts could not be read. */
    public static final int UNREADABLE = 4;

    /** While waiting, an unchanged state is repeated on stderr this often (CI logs that stay silent look hung). */
    private static final Duration HEARTBEAT = Duration.ofMinutes(5);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "the job's YAML config, loaded and checked as the job loads it: kafka.bootstrap_servers,"
                    + " kafka.properties (security ...), topics.verdicts and experiment_id come from it")
    Path configFile;

    @Option(
            names = "--bootstrap",
            paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the config's kafka.bootstrap_servers)")
    String bootstrap;

    @Option(
            names = "--topic",
            paramLabel = "T",
            description = "the verdict topic (default: the config's topics.verdicts)")
    String topic;

    @Option(
            names = "--experiment",
            paramLabel = "ID",
            description = "experiment id (default: the config's experiment_id)")
    String experiment;

    @Option(
            names = "--candidate",
            paramLabel = "NAME:VERSION",
            split = ",",
            description = "the shadow verdict of this candidate (repeatable, or comma-separated); with neither"
                    + " --candidate nor --arm every verdict of the experiment counts")
    List<String> candidates = new ArrayList<>();

    @Option(
            names = "--arm",
            paramLabel = "SERVED_BY",
            split = ",",
            description = "the canary verdict of the candidate serving this arm (repeatable, or comma-separated)")
    List<String> arms = new ArrayList<>();

    @Option(
            names = "--wait",
            paramLabel = "DURATION",
            description = "while undecided, look again every --poll until decided or this long has passed"
                    + " (e.g. 30m, 2h), then exit 3; default: one look")
    Duration wait;

    @Option(
            names = "--poll",
            paramLabel = "DURATION",
            description = "pause between two looks with --wait (default 10s)")
    Duration poll = Duration.ofSeconds(10);

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            description = "longest a look waits on Kafka without progress (no answer, topic missing ...) before"
                    + " exit 4 (default 30s)")
    Duration timeout = Duration.ofSeconds(30);

    @Option(
            names = "--consumer-property",
            paramLabel = "K=V",
            description = "Kafka consumer setting (repeatable), over the config's kafka.properties; isolation.level"
                    + " is always read_committed")
    Map<String, String> consumerProperties = new LinkedHashMap<>();

    @Option(names = "--json", description = "print one JSON object on stdout instead of text")
    boolean json;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** Where the verdicts go (stdout: the data of this command); messages go to the command line's err. */
    PrintStream out = System.out;

    /** Kept for callers of the class itself: the same as {@code shadowml-tool verdict ...}. */
    public static void main(String[] argv) {
        System.exit(ShadowmlTool.run(ShadowmlTool.withCommand("verdict", argv), System.err));
    }

    /**
     * {@code shadowml-tool verdict argv...} with the verdicts printed on {@code out} and messages on
     * {@code err}; returns the exit code (for tests and embedding).
     */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CommandLine cl = ShadowmlTool.commandLine(err);
        ((VerdictCommand) cl.getSubcommands().get("verdict").getCommand()).out = out;
        return cl.execute(ShadowmlTool.withCommand("verdict", argv));
    }

    /**
     * What the command reads and selects, from the options and the config; {@code clientProperties} are the
     * complete consumer settings.
     */
    record Target(
            String bootstrap,
            String topic,
            String experiment,
            Properties clientProperties,
            List<String> candidates,
            List<String> arms) {
        boolean selectsAll() {
            return candidates.isEmpty() && arms.isEmpty();
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Target target;
        try {
            target = target();
        } catch (UsageException | ConfigException | ParameterException e) {
            throw e; // exit 2 with the message (and the usage), like every tool: ToolCommandLine
        } catch (RuntimeException e) {
            err.println("verdict: cannot use the configuration: " + e);
            err.flush();
            return USAGE;
        }
        try {
            return gate(target, err);
        } catch (Throwable e) { // NOPMD: whatever went wrong, never exit 1, which means REJECT here
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            err.println("verdict: could not read verdicts: " + e);
            err.flush();
            return UNREADABLE;
        }
    }

    Target target() {
        ShadowJobConfig cfg = null;
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new UsageException("option --config: file " + configFile + " does not exist");
            }
            cfg = ShadowJobConfig.load(configFile);
        }
        String b = given("--bootstrap", bootstrap, cfg == null ? null : cfg.bootstrapServers);
        String t = given("--topic", topic, cfg == null ? null : cfg.verdictsTopic);
        String x = given("--experiment", experiment, cfg == null ? null : cfg.experimentId);
        positive("--poll", poll);
        positive("--timeout", timeout);
        if (wait != null && wait.isNegative()) {
            throw new ParameterException(
                    spec.commandLine(),
                    "option --wait must not be negative, was '"
                            + wait.toString().toLowerCase(Locale.ROOT) + "'");
        }
        Properties props = cfg == null ? new Properties() : cfg.clientProperties();
        consumerProperties.forEach((k, v) -> {
            if (k.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(), "option --consumer-property must be key=value, was '=" + v + "'");
            }
            if (k.equals(ConsumerConfig.ISOLATION_LEVEL_CONFIG) && !v.equals("read_committed")) {
                throw new UsageException("option --consumer-property: isolation.level is always read_committed (the"
                        + " verdicts are written in transactions; an aborted one must not count), was '" + v + "'");
            }
            props.put(k, v);
        });
        Properties consumer = VerdictReader.consumerProperties(b, props, timeout);
        try {
            new ConsumerConfig(consumer);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new UsageException("Kafka consumer settings ("
                    + (configFile == null ? "" : configFile + " kafka.properties, ")
                    + "--consumer-property): " + e.getMessage());
        }
        return new Target(b, t, x, consumer, names("--candidate", candidates), names("--arm", arms));
    }

    private String given(String option, String value, String fromConfig) {
        String v = value != null ? value.trim() : fromConfig;
        if (v == null || v.isEmpty()) {
            throw new UsageException(
                    configFile == null
                            ? "option " + option + " is required without --config"
                            : "option " + option + " is empty");
        }
        return v;
    }

    private void positive(String option, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new ParameterException(
                    spec.commandLine(), "option " + option + " must be positive, was '" + text(d) + "'");
        }
    }

    /** Trimmed, without blanks and repeats, in the order given. */
    private static List<String> names(String option, List<String> given) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (String s : given) {
            String n = s.trim();
            if (n.isEmpty()) {
                throw new UsageException("option " + option + ": empty name");
            }
            names.add(n);
        }
        return List.copyOf(names);
    }

    /** Looks until decided or the wait is over; prints the outcome; returns the exit code. */
    int gate(Target target, PrintWriter err) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + (wait == null ? 0 : saturatedNanos(wait));
        String lastState = null;
        long lastStateAt = 0;
        VerdictReader opened;
        try {
            opened = new VerdictReader(target, timeout, err);
        } catch (VerdictReader.UnreadableException e) {
            err.println("verdict: could not read verdicts: " + e.getMessage());
            err.flush();
            return UNREADABLE;
        }
        try (VerdictReader reader = opened) {
            for (int look = 0; ; look++) {
                boolean complete;
                try {
                    reader.look();
                    complete = true;
                } catch (VerdictReader.UnreadableException e) {
                    if (look == 0 || System.nanoTime() - deadline >= 0) {
                        err.println("verdict: could not read verdicts: " + e.getMessage());
                        err.flush();
                        return UNREADABLE;
                    }
                    err.println(
                            "verdict: could not read verdicts (" + e.getMessage() + "); trying again in " + text(poll));
                    complete = false;
                }
                Outcome outcome = Outcome.of(target, reader.latest());
                long now = System.nanoTime();
                boolean over = now - deadline >= 0;
                if (complete && (outcome.exitCode != UNDECIDED || over)) {
                    print(target, outcome, Duration.ofNanos(now - start), reader.skipped());
                    return outcome.exitCode;
                }
                String state = outcome.state();
                if (!state.equals(lastState) || now - lastStateAt >= HEARTBEAT.toNanos()) {
                    Instant wallNow = Instant.now();
                    err.println("verdict: " + wallNow.truncatedTo(ChronoUnit.SECONDS) + " CONTINUE: " + state
                            + "; looking again every " + text(poll) + " until "
                            + wallNow.plusNanos(deadline - now).truncatedTo(ChronoUnit.SECONDS));
                    err.flush();
                    lastState = state;
                    lastStateAt = now;
                }
                Thread.sleep(Math.max(1, Math.min(poll.toMillis(), (deadline - now + 999_999) / 1_000_000)));
            }
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    /** 2h, 30m, 0.2s: a duration as the options take it (near enough). */
    static String text(Duration d) {
        return d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    /** One selected verdict: its key and what it selects, and the latest verdict or null (none yet). */
    record Selected(String key, String candidate, String arm, Verdict verdict) {
        Decision decision() {
            return verdict == null ? null : verdict.getDecision();
        }

        String shown() {
            return verdict == null ? "no verdict yet" : verdict.getDecision().toString();
        }
    }

    /** The decision of the selected verdicts. */
    record Outcome(List<Selected> selected, int exitCode, String decision, String message) {
        static Outcome of(Target target, Map<String, Verdict> latest) {
            List<Selected> selected = new ArrayList<>();
            if (target.selectsAll()) {
                latest.values().stream()
                        .filter(v -> v.getExperimentId().equals(target.experiment()))
                        .map(v -> new Selected(VerdictReader.key(v), v.getCandidate(), v.getArm(), v))
                        .sorted(Comparator.comparing(Selected::key))
                        .forEach(selected::add);
            } else {
                for (String c : target.candidates()) {
                    String key = target.experiment() + "/" + c;
                    selected.add(new Selected(key, c, null, latest.get(key)));
                }
                for (String a : target.arms()) {
                    String key = target.experiment() + "/canary/" + a;
                    Verdict v = latest.get(key);
                    selected.add(new Selected(key, v == null ? null : v.getCandidate(), a, v));
                }
            }
            List<Selected> noGo = selected.stream()
                    .filter(s -> s.decision() == Decision.REJECT || s.decision() == Decision.ROLLBACK)
                    .toList();
            if (!noGo.isEmpty()) {
                boolean reject = noGo.stream().anyMatch(s -> s.decision() == Decision.REJECT);
                return new Outcome(
                        selected,
                        NO_GO,
                        reject ? "REJECT" : "ROLLBACK",
                        String.join(
                                ", ",
                                noGo.stream()
                                        .map(s -> s.key() + " " + s.shown())
                                        .toList()));
            }
            boolean allGo = !selected.isEmpty()
                    && selected.stream()
                            .allMatch(s -> s.decision() == Decision.PROMOTE || s.decision() == Decision.PROCEED);
            if (allGo) {
                boolean proceed = selected.stream().allMatch(s -> s.decision() == Decision.PROCEED);
                return new Outcome(
                        selected,
                        GO,
                        proceed ? "PROCEED" : "PROMOTE",
                        selected.size() == 1
                                ? selected.get(0).key() + " " + selected.get(0).shown()
                                : "all " + selected.size() + " selected verdicts are PROMOTE or PROCEED");
            }
            if (selected.isEmpty()) {
                return new Outcome(
                        selected,
                        UNDECIDED,
                        "CONTINUE",
                        "no verdict of experiment " + target.experiment() + " on topic " + target.topic() + " yet");
            }
            List<Selected> open = selected.stream()
                    .filter(s -> s.decision() != Decision.PROMOTE && s.decision() != Decision.PROCEED)
                    .toList();
            boolean noneAtAll =
                    latest.values().stream().noneMatch(v -> v.getExperimentId().equals(target.experiment()));
            return new Outcome(
                    selected,
                    UNDECIDED,
                    "CONTINUE",
                    (noneAtAll
                                    ? "no verdict of experiment " + target.experiment() + " on topic " + target.topic()
                                            + " yet: "
                                    : open.size() + " of " + selected.size() + " undecided: ")
                            + String.join(
                                    ", ",
                                    open.stream()
                                            .map(s -> s.key() + " " + s.shown())
                                            .toList()));
        }

        /** What changed between two looks, for the progress lines. */
        String state() {
            return message;
        }
    }

    private void print(Target target, Outcome o, Duration waited, long skipped) {
        PrintWriter w = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), false);
        if (json) {
            w.println(json(target, o, waited, skipped));
        } else {
            for (Selected s : o.selected()) {
                text(w, s);
            }
            w.printf(
                    Locale.ROOT,
                    "decision: %s (exit %d): %s%s%n",
                    o.decision(),
                    o.exitCode(),
                    o.message(),
                    wait == null
                            ? ""
                            : String.format(Locale.ROOT, " (after %.1f s of --wait %s)", seconds(waited), text(wait)));
        }
        w.flush();
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** One verdict as text: a line for the verdict, one per reason, one per test of its evidence. */
    static void text(PrintWriter w, Selected s) {
        Verdict v = s.verdict();
        if (v == null) {
            w.printf(Locale.ROOT, "%s: no verdict yet (counts as CONTINUE)%n", s.key());
            return;
        }
        w.printf(
                Locale.ROOT,
                "%s: %s candidate=%s arm=%s decided_at=%s first_decided_at=%s alpha=%s%n",
                s.key(),
                v.getDecision(),
                v.getCandidate(),
                v.getArm() == null ? "-" : v.getArm(),
                v.getDecidedAt(),
                v.getFirstDecidedAt() == null ? "-" : v.getFirstDecidedAt(),
                v.getAlpha());
        for (String r : v.getReasons()) {
            w.println("  reason: " + r);
        }
        for (TestResult t : v.getEvidence()) {
            w.printf(
                    Locale.ROOT,
                    "  evidence: test=%s metric=%s segment=%s estimate=%s [%s, %s] margin=%s alpha=%s e_value=%s"
                            + " pairs=%d outcome=%s%n",
                    t.getTest(),
                    t.getMetric(),
                    t.getSegment() == null ? "-" : t.getSegment(),
                    t.getEstimate(),
                    t.getLow(),
                    t.getHigh(),
                    t.getMargin(),
                    t.getAlpha(),
                    t.getEValue() == null ? "-" : t.getEValue().toString(),
                    t.getPairs(),
                    t.getOutcome());
        }
    }

    private String json(Target target, Outcome o, Duration waited, long skipped) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("experiment", target.experiment());
        root.put("topic", target.topic());
        root.put("decision", o.decision());
        root.put("exit_code", o.exitCode());
        root.put("message", o.message());
        root.put("waited_seconds", Math.round(seconds(waited) * 10) / 10.0);
        root.put("skipped_records", skipped);
        ArrayNode verdicts = root.putArray("verdicts");
        ArrayNode missing = root.putArray("missing");
        for (Selected s : o.selected()) {
            Verdict v = s.verdict();
            if (v == null) {
                ObjectNode m = missing.addObject();
                m.put("key", s.key());
                m.put("candidate", s.candidate());
                m.put("arm", s.arm());
                continue;
            }
            ObjectNode n = verdicts.addObject();
            n.put("key", s.key());
            n.put("experiment_id", v.getExperimentId());
            n.put("candidate", v.getCandidate());
            n.put("arm", v.getArm());
            n.put("decision", v.getDecision().toString());
            n.put("decided_at", v.getDecidedAt().toString());
            n.put(
                    "first_decided_at",
                    v.getFirstDecidedAt() == null ? null : v.getFirstDecidedAt().toString());
            n.put("alpha", v.getAlpha());
            ArrayNode reasons = n.putArray("reasons");
            v.getReasons().forEach(reasons::add);
            ArrayNode evidence = n.putArray("evidence");
            for (TestResult t : v.getEvidence()) {
                ObjectNode e = evidence.addObject();
                e.put("test", t.getTest());
                e.put("metric", t.getMetric());
                e.put("segment", t.getSegment());
                e.put("estimate", t.getEstimate());
                e.put("low", t.getLow());
                e.put("high", t.getHigh());
                e.put("margin", t.getMargin());
                e.put("alpha", t.getAlpha());
                e.put("e_value", t.getEValue());
                e.put("pairs", t.getPairs());
                e.put("outcome", t.getOutcome().toString());
            }
        }
        try {
            return mapper.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
