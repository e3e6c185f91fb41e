package io.shadowml.tools.replay;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.format.ContractJson;
import io.shadowml.tools.ShadowmlTool;
import io.shadowml.tools.cli.ColumnOptions;
import io.shadowml.tools.cli.ToolCommandLine;
import io.shadowml.tools.cli.UsageException;
import io.shadowml.tools.io.HistoryReader;
import io.shadowml.tools.io.HistoryRecord;
import io.shadowml.tools.io.LabelFileReader;
import io.shadowml.tools.io.Problem;
import io.shadowml.tools.io.RowSpec;

/**
 * Loads labelled history into the request and label topics of a Kafka cluster, as plain Avro binary
 * {@code Request} / {@code Label} values keyed by request id (the job's input format). Requests are sent
 * in file order with the event time as Kafka timestamp; each label is held back until the replay clock
 * (the largest event time sent so far) reaches its label time, and sent with the label time as timestamp;
 * the labels still held at the end of the file follow in label-time order. See tools/README.md.
 *
 * <p>Exit codes: 0 done (also with skipped rows), 1 failed while running (Kafka, I/O), 2 usage error.
 */
@Command(
        name = "replay",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Replays labelled history (CSV or Avro) into the request and label topics of a Kafka cluster.",
        footer = {
            "",
            "Exit codes: 0 done (also with skipped rows), 1 failed while running, 2 usage or configuration error."
        })
public final class ReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT", description = "Kafka bootstrap servers")
    String bootstrap;

    @Option(names = "--requests-topic", required = true, paramLabel = "T", description = "topic of the requests")
    String requestsTopic;

    @Option(
            names = "--labels-topic",
            paramLabel = "T",
            description = "topic of the labels (required when there are labels)")
    String labelsTopic;

    @Option(
            names = "--input",
            required = true,
            paramLabel = "FILE",
            description = "CSV with a header, or an Avro container file of io.shadowml.avro.Request")
    Path input;

    @Option(
            names = "--labels-input",
            paramLabel = "FILE",
            description = "with Avro input: an Avro container file of io.shadowml.avro.Label")
    Path labelsInput;

    @Mixin
    ColumnOptions columns;

    @Option(names = "--rate", paramLabel = "N", description = "at most N records/s (requests + labels)")
    Double rate;

    @Option(
            names = "--speed",
            paramLabel = "X",
            description =
                    "X ms of event time per wall ms (e.g. 86400 = a day per second); labels wait for the clock too")
    Double speed;

    @Option(
            names = "--format",
            paramLabel = "avro|json",
            description =
                    "how records are written: avro (io.shadowml.avro Request/Label, plain binary; default) or json"
                            + " (the same fields as JSON objects, read by the job with inputs.*.format: json)")
    String format = "avro";

    @Option(
            names = "--producer-property",
            paramLabel = "K=V",
            description = "Kafka producer setting (repeatable; security settings go here). Defaults: acks=all, "
                    + "idempotence on, linger.ms=5")
    Map<String, String> producerProperties = new LinkedHashMap<>();

    @Option(
            names = "--forward-bad-rows",
            description = "also send each bad row's raw line to the requests topic (the job dead-letters it as it "
                    + "would in a backtest); default: skip it")
    boolean forwardBadRows;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Option(
            names = "--summary",
            paramLabel = "FILE",
            description = "also write the counts of the summary to FILE (Java properties: rows, requests_sent, "
                    + "labels_sent, bad_rows, bad_rows_forwarded, ...), for scripts and tests")
    Path summaryFile;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** Kept for callers of the class itself: the same as {@code shadowml-tool replay ...}. */
    public static void main(String[] argv) {
        System.exit(ShadowmlTool.run(ShadowmlTool.withCommand("replay", argv), System.err));
    }

    /**
     * Parses and runs, throwing instead of mapping failures to exit codes (for tests).
     *
     * @return null when only the usage was asked for
     */
    public static Result execute(String[] argv, PrintStream err) throws IOException {
        ReplayCommand command = new ReplayCommand();
        CommandLine cl = ToolCommandLine.of(command, err);
        cl.parseArgs(argv);
        if (cl.isUsageHelpRequested()) {
            cl.usage(cl.getErr());
            return null;
        }
        return command.replay();
    }

    @Override
    public Integer call() throws IOException {
        replay();
        return 0;
    }

    /** What a replay did. */
    public static final class Result {
        public long rows;
        public long requestsSent;
        public long labelsSent;
        public long badRowsForwarded;
        /** Timestamps of the first and the last record sent (Long.MIN_VALUE when none was). */
        public long firstTime = Long.MIN_VALUE;

        public long lastTime = Long.MIN_VALUE;
        public final Map<Problem, Long> skipped = new EnumMap<>(Problem.class);
        /** Every skipped row's message, "file:line N: problem: detail". */
        public final List<String> errors = new ArrayList<>();

        public double seconds;

        public long skippedTotal() {
            return skipped.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    Result replay() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        positive("--rate", rate);
        positive("--speed", speed);
        if (!format.equals("avro") && !format.equals("json")) {
            throw new ParameterException(
                    spec.commandLine(), "option --format must be avro or json, was '" + format + "'");
        }
        boolean json = format.equals("json");
        if (!Files.isRegularFile(input)) {
            throw new UsageException("option --input: file " + input + " does not exist");
        }
        boolean avro = HistoryReader.detect(input) == HistoryReader.Format.AVRO;
        RowSpec rows = null;
        if (avro) {
            if (columns.anyGiven()) {
                throw new UsageException(
                        input + " is an Avro file of Requests: the column options apply to CSV input only");
            }
        } else {
            rows = columns.toRowSpec();
            if (labelsInput != null) {
                throw new UsageException(
                        "--labels-input applies to Avro input; a CSV file's labels come from --label-column");
            }
        }
        boolean labels = avro ? labelsInput != null : rows.labelColumn != null;
        if (labels && (labelsTopic == null || labelsTopic.isBlank())) {
            throw new UsageException("option --labels-topic is required");
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "shadowml-replay");
        producerProperties.forEach((k, v) -> {
            if (k.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(), "option --producer-property must be key=value, was '=" + v + "'");
            }
            props.put(k, v);
        });
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        PriorityQueue<Label> pending = new PriorityQueue<>(Comparator.comparingLong(ReplayCommand::labelTime));
        if (avro && labels) {
            if (!Files.isRegularFile(labelsInput)) {
                throw new UsageException("option --labels-input: file " + labelsInput + " does not exist");
            }
            try (LabelFileReader lr = new LabelFileReader(labelsInput)) {
                lr.forEachRemaining(l -> pending.add(l.label()));
            }
        }
        try (HistoryReader reader = HistoryReader.open(input, rows);
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            Replay replay = new Replay(
                    reader,
                    producer,
                    requestsTopic,
                    labelsTopic,
                    pending,
                    rate == null ? 0 : rate,
                    speed == null ? 0 : speed,
                    forwardBadRows,
                    json ? ContractJson::encode : AvroCodec::encode,
                    json ? ContractJson::encode : AvroCodec::encode,
                    new Progress(err, !quiet),
                    err);
            Result result = replay.run();
            summary(err, input, requestsTopic, labelsTopic, result);
            if (summaryFile != null) {
                SummaryFile.write(summaryFile, result);
            }
            return result;
        }
    }

    private void positive(String option, Double value) {
        if (value != null && (!(value > 0) || Double.isInfinite(value))) {
            throw new ParameterException(
                    spec.commandLine(), "option " + option + " must be a positive number, was '" + value + "'");
        }
    }

    static long labelTime(Label l) {
        return l.getLabelTime() == null ? Long.MIN_VALUE : l.getLabelTime().toEpochMilli();
    }

    private static void summary(PrintWriter err, Path input, String requestsTopic, String labelsTopic, Result r) {
        err.printf(
                Locale.ROOT,
                "replayed %s: %,d rows -> %,d requests to %s, %,d labels to %s in %.1f s%n",
                input,
                r.rows,
                r.requestsSent,
                requestsTopic,
                r.labelsSent,
                labelsTopic,
                r.seconds);
        if (r.skippedTotal() == 0) {
            err.println("skipped rows: none");
        } else {
            err.printf(
                    Locale.ROOT,
                    "skipped rows: %,d%s%n",
                    r.skippedTotal(),
                    r.badRowsForwarded > 0 ? " (raw lines forwarded to " + requestsTopic + ")" : "");
            r.skipped.forEach((p, n) -> err.printf(Locale.ROOT, "  %-45s %,d%n", p.text, n));
        }
    }

    /** The send loop. */
    static final class Replay {
        private static final int MAX_ERRORS_SHOWN = 50;
        private final HistoryReader reader;
        private final KafkaProducer<byte[], byte[]> producer;
        private final String requestsTopic;
        private final String labelsTopic;
        private final PriorityQueue<Label> pending;
        private final double rate;
        private final double speed;
        private final boolean forwardBad;
        private final Function<Request, byte[]> requestBytes;
        private final Function<Label, byte[]> labelBytes;
        private final Progress progress;
        private final PrintWriter err;
        private final AtomicReference<Exception> sendError = new AtomicReference<>();
        private final Result result = new Result();
        private long wall0;
        private long t0 = Long.MIN_VALUE;
        private long sent;

        Replay(
                HistoryReader reader,
                KafkaProducer<byte[], byte[]> producer,
                String requestsTopic,
                String labelsTopic,
                PriorityQueue<Label> pending,
                double rate,
                double speed,
                boolean forwardBad,
                Function<Request, byte[]> requestBytes,
                Function<Label, byte[]> labelBytes,
                Progress progress,
                PrintWriter err) {
            this.reader = reader;
            this.producer = producer;
            this.requestsTopic = requestsTopic;
            this.labelsTopic = labelsTopic;
            this.pending = pending;
            this.rate = rate;
            this.speed = speed;
            this.forwardBad = forwardBad;
            this.requestBytes = requestBytes;
            this.labelBytes = labelBytes;
            this.progress = progress;
            this.err = err;
        }

        Result run() {
            wall0 = System.nanoTime();
            long clock = Long.MIN_VALUE;
            while (reader.hasNext()) {
                HistoryRecord r = reader.next();
                result.rows++;
                if (t0 == Long.MIN_VALUE) {
                    t0 = r.timestamp;
                }
                if (r.isBad()) {
                    result.skipped.merge(r.problem, 1L, Long::sum);
                    String msg = reader.name() + ": " + r.reason();
                    result.errors.add(msg);
                    if (result.errors.size() <= MAX_ERRORS_SHOWN) {
                        progress.done();
                        err.println("skipped " + msg);
                    } else if (result.errors.size() == MAX_ERRORS_SHOWN + 1) {
                        err.println("(further skipped rows are only counted)");
                    }
                    if (forwardBad) {
                        sendDueLabels(r.timestamp);
                        pace(r.timestamp);
                        send(requestsTopic, null, r.raw, r.timestamp);
                        result.badRowsForwarded++;
                    }
                } else {
                    long t = r.timestamp;
                    clock = Math.max(clock, t);
                    sendDueLabels(clock);
                    pace(t);
                    String id = r.request.getRequestId();
                    send(
                            requestsTopic,
                            id == null ? null : id.getBytes(StandardCharsets.UTF_8),
                            requestBytes.apply(r.request),
                            t);
                    result.requestsSent++;
                    if (r.label != null) {
                        pending.add(r.label);
                    }
                }
                progress.update(reader.progress(), result.rows, sent, result.skippedTotal(), false);
            }
            sendDueLabels(Long.MAX_VALUE);
            producer.flush();
            checkSendError();
            progress.update(1.0, result.rows, sent, result.skippedTotal(), true);
            progress.done();
            result.seconds = (System.nanoTime() - wall0) / 1e9;
            return result;
        }

        private void sendDueLabels(long clock) {
            while (!pending.isEmpty() && labelTime(pending.peek()) <= clock) {
                Label l = pending.poll();
                long t = labelTime(l);
                pace(t);
                String id = l.getRequestId();
                send(
                        labelsTopic,
                        id == null ? null : id.getBytes(StandardCharsets.UTF_8),
                        labelBytes.apply(l),
                        t == Long.MIN_VALUE ? System.currentTimeMillis() : t);
                result.labelsSent++;
            }
        }

        /** Waits until the record may go: not before its compressed event time, not faster than the rate. */
        private void pace(long dataTime) {
            long target = wall0;
            if (speed > 0 && dataTime != Long.MIN_VALUE && t0 != Long.MIN_VALUE) {
                target = Math.max(target, wall0 + (long) ((dataTime - t0) * 1e6 / speed));
            }
            if (rate > 0) {
                target = Math.max(target, wall0 + (long) (sent * 1e9 / rate));
            }
            long wait;
            while ((wait = target - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
                checkSendError();
            }
        }

        private void send(String topic, byte[] key, byte[] value, long timestamp) {
            checkSendError();
            if (result.firstTime == Long.MIN_VALUE) {
                result.firstTime = timestamp;
            }
            result.lastTime = Math.max(result.lastTime, timestamp);
            producer.send(new ProducerRecord<>(topic, null, timestamp, key, value), (md, e) -> {
                if (e != null) {
                    sendError.compareAndSet(null, e);
                }
            });
            sent++;
        }

        private void checkSendError() {
            Exception e = sendError.get();
            if (e != null) {
                throw new IllegalStateException("sending to Kafka failed: " + e, e);
            }
        }
    }
}
