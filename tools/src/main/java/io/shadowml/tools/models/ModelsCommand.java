package io.shadowml.tools.models;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.ModelControlAction;
import io.shadowml.jobs.config.ConfigException;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.models.ModelConfigException;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.tools.ShadowmlTool;
import io.shadowml.tools.cli.ToolCommandLine;
import io.shadowml.tools.cli.UsageException;

/**
 * Announces a candidate model added to ({@code models add}) or retired from ({@code models retire}) a running
 * shadow job: one {@link ModelControl} record, plain Avro binary keyed by the model id (name:version), on the
 * job's control topic ({@code topics.control} of its YAML). An added model is checked here first as the job
 * will check it (descriptor, sha256, graph, external data; the live model's task and class count; not the
 * live model's id), so a mistake is refused at the terminal with exit 2 and nothing is written. See
 * tools/README.md, "models".
 *
 * <p>Exit codes: 0 announced, 1 failed while writing (Kafka), 2 usage or configuration error, or a model the
 * job would refuse.
 */
@Command(
        name = "models",
        sortOptions = false,
        usageHelpAutoWidth = true,
        synopsisSubcommandLabel = "COMMAND",
        description = "Announces a candidate model added to or retired from a running shadow job, or a candidate"
                + " made its live model, on its control topic (topics.control). '<command> --help' prints a"
                + " command's options.",
        subcommands = {ModelsCommand.Add.class, ModelsCommand.Retire.class, ModelsCommand.SwitchLive.class},
        footer = {
            "",
            "Exit codes: 0 announced, 1 failed while writing to Kafka, 2 usage or configuration error (also a"
                    + " model the job would refuse; nothing is written then)."
        })
public final class ModelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** Kept for callers of the class itself: the same as {@code shadowml-tool models ...}. */
    public static void main(String[] argv) {
        System.exit(ShadowmlTool.run(ShadowmlTool.withCommand("models", argv), System.err));
    }

    /**
     * {@code shadowml-tool models argv...} with the announcement printed on {@code out} and messages on
     * {@code err}; returns the exit code (for tests and embedding).
     */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CommandLine cl = ShadowmlTool.commandLine(err);
        for (CommandLine sub :
                cl.getSubcommands().get("models").getSubcommands().values()) {
            ((Announcement) sub.getCommand()).out = out;
        }
        return cl.execute(ShadowmlTool.withCommand("models", argv));
    }

    /** Without {@code add} or {@code retire} there is nothing to do: a usage error. */
    @Override
    public Integer call() {
        throw new ParameterException(
                spec.commandLine(),
                "missing command: one of " + spec.subcommands().keySet());
    }

    /** {@code models add}: a candidate the job starts comparing from the effective time. */
    @Command(
            name = "add",
            sortOptions = false,
            sortSynopsis = false,
            usageHelpAutoWidth = true,
            description = "Checks a model descriptor and its model as the job will (sha256, graph, external data,"
                    + " the live model's task and class count) and announces it as a new candidate"
                    + " (ADD_CANDIDATE) on the job's control topic.",
            footer = {
                "",
                "The descriptor and its model file must be readable at descriptor_file's location (this path,"
                        + " or --models-root-on-taskmanagers) on every TaskManager.",
                "",
                "Exit codes: 0 announced, 1 failed while writing to Kafka, 2 usage or configuration error, or a"
                        + " model the job would refuse (nothing is written)."
            })
    public static final class Add extends Announcement {
        @Option(
                names = "--descriptor",
                required = true,
                order = 1,
                paramLabel = "FILE",
                description = "the model's descriptor (model.json, models/README.md), its model file beside it")
        Path descriptor;

        @Option(
                names = "--models-root-on-taskmanagers",
                order = 2,
                paramLabel = "DIR",
                description = "the absolute folder where the TaskManagers see this descriptor, when they mount the"
                        + " models elsewhere: descriptor_file is DIR/<the descriptor's file name> (default: the"
                        + " descriptor's absolute path here)")
        String modelsRootOnTaskManagers;

        @Override
        ModelControl.Builder announcement(ShadowJobConfig cfg) {
            if (!Files.isRegularFile(descriptor)) {
                throw new UsageException("option --descriptor: file " + descriptor + " does not exist");
            }
            String descriptorFile = descriptorFileOnTaskManagers();
            String json;
            try {
                json = Files.readString(descriptor);
            } catch (IOException e) {
                throw new ConfigException(descriptor + ": cannot read the descriptor: " + e, e);
            }
            ModelDescriptor d;
            try {
                // The text that is checked is the text that is sent.
                d = ModelDescriptor.fromJson(json, descriptor);
                try (OnnxModel checked = OnnxModel.load(d, ModelOptions.defaults())) {
                    // sha256, graph and external data as the job's scoring tasks will check them
                }
            } catch (ModelConfigException e) {
                throw new ConfigException(e.getMessage() + " (nothing announced)", e);
            }
            ModelDescriptor live = cfg.allModels().get(0);
            String answer = "; it must answer the question of the job's live model " + live.id() + " (" + configFile
                    + " models.live): nothing announced";
            if (d.task() != live.task()) {
                throw new ConfigException(
                        d.descriptorFile(),
                        "task",
                        d.id() + " is a " + d.task() + " model, the live model is " + live.task() + answer);
            }
            if (d.numClasses() != live.numClasses()) {
                throw new ConfigException(
                        d.descriptorFile(),
                        "output.num_classes",
                        d.id() + " has " + d.numClasses() + " classes, the live model " + live.numClasses() + answer);
            }
            if (d.task() == ModelDescriptor.Task.BINARY) {
                checkThreshold(cfg, d, answer);
            }
            if (d.id().equals(live.id())) {
                throw new ConfigException(
                        d.descriptorFile() + ": fields 'name', 'version': " + d.id()
                                + " is the name and version of the job's live model (" + configFile
                                + " models.live); a candidate needs its own: nothing announced",
                        null);
            }
            return ModelControl.newBuilder()
                    .setAction(ModelControlAction.ADD_CANDIDATE)
                    .setModelId(d.id())
                    .setDescriptor(json)
                    .setDescriptorFile(descriptorFile);
        }

        /**
         * A binary candidate decides at its slot's threshold, fixed when the job started: a YAML candidate's
         * slot at that candidate's, the spare slots (models.candidate_slots) at the live model's. The job
         * refuses a model whose threshold no slot has.
         */
        private void checkThreshold(ShadowJobConfig cfg, ModelDescriptor d, String answer) {
            Set<Double> slots = new TreeSet<>();
            cfg.candidateModels.forEach(c -> slots.add(c.threshold()));
            if (cfg.candidateSlots > cfg.candidateModels.size()) {
                slots.add(cfg.allModels().get(0).threshold());
            }
            if (!slots.contains(d.threshold())) {
                throw new ConfigException(
                        d.descriptorFile(),
                        "threshold",
                        d.id() + " decides at " + d.threshold() + ", but the job's candidate slots decide at "
                                + slots + " (fixed when the job started: a candidate of the YAML's at its own,"
                                + " a spare slot at the live model's)" + answer);
            }
        }

        private String descriptorFileOnTaskManagers() {
            if (modelsRootOnTaskManagers == null) {
                return descriptor.toAbsolutePath().normalize().toString();
            }
            Path root = Path.of(modelsRootOnTaskManagers.trim());
            if (!root.isAbsolute()) {
                throw new UsageException("option --models-root-on-taskmanagers must be an absolute folder, was '"
                        + modelsRootOnTaskManagers + "'");
            }
            return root.resolve(descriptor.getFileName()).normalize().toString();
        }

        @Override
        String details(ModelControl c) {
            return "; descriptor_file " + c.getDescriptorFile();
        }
    }

    /** {@code models retire}: a candidate the job stops comparing from the effective time. */
    @Command(
            name = "retire",
            sortOptions = false,
            sortSynopsis = false,
            usageHelpAutoWidth = true,
            description = "Announces that a candidate is retired (RETIRE_CANDIDATE) on the job's control topic: the"
                    + " job stops scoring it from the effective time.",
            footer = {
                "",
                "Exit codes: 0 announced, 1 failed while writing to Kafka, 2 usage or configuration error (also"
                        + " the live model's id: nothing is written)."
            })
    public static final class Retire extends Announcement {
        /** name:version as {@link ModelDescriptor} allows them. */
        private static final Pattern MODEL_ID =
                Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*:[A-Za-z0-9][A-Za-z0-9._+-]*");

        @Option(
                names = "--model",
                required = true,
                order = 1,
                paramLabel = "NAME:VERSION",
                description = "the candidate to retire")
        String model;

        @Option(
                names = "--was-live",
                order = 2,
                description = "the model is the YAML's models.live, made a candidate by a switch-live to another"
                        + " (without this flag its id is refused: this command cannot see the switches; the job"
                        + " refuses the model live at the time)")
        boolean wasLive;

        @Override
        ModelControl.Builder announcement(ShadowJobConfig cfg) {
            String id = modelId(spec, model);
            ModelDescriptor live = cfg.allModels().get(0);
            if (id.equals(live.id()) && !wasLive) {
                throw new ConfigException(
                        configFile.toString(),
                        "models.live",
                        id + " is the job's live model, not a candidate: only candidates can be retired"
                                + " (after a switch-live away from it, pass --was-live); nothing announced");
            }
            return ModelControl.newBuilder()
                    .setAction(ModelControlAction.RETIRE_CANDIDATE)
                    .setModelId(id)
                    .setDescriptor(null)
                    .setDescriptorFile(null);
        }
    }

    /** A name:version from option --model, or a usage error. */
    static String modelId(CommandSpec spec, String model) {
        String id = model.trim();
        if (!Retire.MODEL_ID.matcher(id).matches()) {
            throw new ParameterException(
                    spec.commandLine(), "option --model must be name:version, was '" + model + "'");
        }
        return id;
    }

    /** {@code models switch-live}: a candidate becomes the live model from the effective time. */
    @Command(
            name = "switch-live",
            sortOptions = false,
            sortSynopsis = false,
            usageHelpAutoWidth = true,
            description = "Announces that a candidate becomes the live model (SWITCH_LIVE) on the job's control"
                    + " topic: from the first report window at or after the effective time it is the model every"
                    + " candidate is compared with, and the previous live model a candidate (\"old live\"), so"
                    + " switching back is the same command.",
            footer = {
                "",
                "Exit codes: 0 announced, 1 failed while writing to Kafka, 2 usage or configuration error (also a"
                        + " job whose config rules the switch out: a logged live model, a canary section;"
                        + " nothing is written)."
            })
    public static final class SwitchLive extends Announcement {
        @Option(
                names = "--model",
                required = true,
                order = 1,
                paramLabel = "NAME:VERSION",
                description = "the candidate that becomes live (a YAML candidate, an announced one, or the old live"
                        + " model to switch back)")
        String model;

        @Override
        ModelControl.Builder announcement(ShadowJobConfig cfg) {
            String id = modelId(spec, model);
            String ruledOut = cfg.noSwitchLive();
            if (ruledOut != null) {
                int colon = ruledOut.indexOf(": ");
                throw new ConfigException(
                        configFile.toString(),
                        ruledOut.substring(0, colon),
                        ruledOut.substring(colon + 2) + "; nothing announced");
            }
            return ModelControl.newBuilder()
                    .setAction(ModelControlAction.SWITCH_LIVE)
                    .setModelId(id)
                    .setDescriptor(null)
                    .setDescriptorFile(null);
        }
    }

    /** What the commands share: the config, the record's common fields, the write. */
    abstract static class Announcement implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--config",
                required = true,
                order = 0,
                paramLabel = "FILE",
                description = "the running job's YAML config, loaded and checked as the job loads it:"
                        + " topics.control, experiment_id, models.live, kafka.bootstrap_servers and"
                        + " kafka.properties (security ...) come from it")
        Path configFile;

        @Option(
                names = "--effective-time",
                order = 10,
                paramLabel = "INSTANT",
                converter = InstantConverter.class,
                description = "event time from which the change applies, ISO-8601 (2026-01-05T10:00:00Z);"
                        + " default: the record's issued_at (now)")
        Instant effectiveTime;

        @Option(
                names = "--issued-by",
                order = 11,
                paramLabel = "TEXT",
                description = "who announces it, for the audit trail (default: the user name, ${sys:user.name})")
        String issuedBy;

        @Option(
                names = "--timeout",
                order = 12,
                paramLabel = "DURATION",
                description = "longest the write may wait on Kafka (metadata, acknowledgement) before exit 1"
                        + " (default 30s)")
        Duration timeout = Duration.ofSeconds(30);

        @Option(
                names = {"-h", "--help"},
                order = 20,
                usageHelp = true,
                description = "print this help and exit")
        boolean help;

        /** Where the announcement is reported (stdout); messages go to the command line's err. */
        PrintStream out = System.out;

        /** The action, model id, descriptor and descriptor_file, after the checks of the action. */
        abstract ModelControl.Builder announcement(ShadowJobConfig cfg);

        /** More of the announcement for the line printed. */
        String details(ModelControl c) {
            return "";
        }

        @Override
        public final Integer call() {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new ParameterException(spec.commandLine(), "option --timeout must be positive");
            }
            if (!Files.isRegularFile(configFile)) {
                throw new UsageException("option --config: file " + configFile + " does not exist");
            }
            ShadowJobConfig cfg = ShadowJobConfig.load(configFile);
            String topic = cfg.controlTopic;
            if (topic == null) {
                throw new ConfigException(
                        configFile.toString(),
                        "topics.control",
                        "not set: this job reads no control topic, so models cannot be added to, retired from or"
                                + " switched live in it while it runs (a new model set is a new experiment)");
            }
            String by = issuedBy != null ? issuedBy.trim() : System.getProperty("user.name");
            ModelControl record = announcement(cfg)
                    .setExperimentId(cfg.experimentId)
                    .setEffectiveTime(millis(effectiveTime))
                    .setIssuedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
                    .setIssuedBy(by == null || by.isEmpty() ? null : by)
                    .build();
            RecordMetadata written;
            try {
                written = write(cfg, topic, record);
            } catch (Exception e) { // NOPMD: every failure to write is exit 1 with its cause
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                PrintWriter err = spec.commandLine().getErr();
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                err.println("models " + spec.name() + ": could not write " + record.getAction() + " "
                        + record.getModelId() + " to topic " + topic + " (" + cfg.bootstrapServers + "): " + cause);
                err.flush();
                return ToolCommandLine.FAILED;
            }
            PrintWriter w = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), false);
            w.printf(
                    Locale.ROOT,
                    "announced %s %s for experiment %s on topic %s partition %d offset %d; effective %s%s%n",
                    record.getAction(),
                    record.getModelId(),
                    record.getExperimentId(),
                    written.topic(),
                    written.partition(),
                    written.offset(),
                    record.getEffectiveTime() != null
                            ? record.getEffectiveTime().toString()
                            : "when issued, " + record.getIssuedAt(),
                    details(record));
            w.flush();
            return 0;
        }

        private static Instant millis(Instant t) {
            return t == null ? null : Instant.ofEpochMilli(t.toEpochMilli());
        }

        /** One record, acks=all and idempotent, flushed; the broker's acknowledgement. */
        private RecordMetadata write(ShadowJobConfig cfg, String topic, ModelControl record) throws Exception {
            long ms = Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            Properties p = cfg.clientProperties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "shadowml-models-" + spec.name());
            p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(ms));
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.min(ms, 30_000)));
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(ms));
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(
                        topic,
                        null,
                        record.getIssuedAt().toEpochMilli(),
                        key(record).getBytes(StandardCharsets.UTF_8),
                        AvroCodec.encode(record)));
                producer.flush();
                return sent.get(ms, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** The key under which the switches share one place on the compacted topic. */
    public static final String SWITCH_LIVE_KEY = "SWITCH_LIVE";

    /**
     * The record's key on the compacted topic: the model id, but for SWITCH_LIVE, whose own key keeps the
     * switched-to model's ADD_CANDIDATE from being compacted away (a start without state needs it).
     */
    static String key(ModelControl record) {
        return record.getAction() == ModelControlAction.SWITCH_LIVE ? SWITCH_LIVE_KEY : record.getModelId();
    }

    /** ISO-8601 instants, with a message that says so. */
    static final class InstantConverter implements ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            try {
                return Instant.parse(value.trim());
            } catch (DateTimeParseException e) {
                throw new TypeConversionException(
                        "'" + value + "' is not an ISO-8601 instant such as 2026-01-05T10:00:00Z");
            }
        }
    }
}
