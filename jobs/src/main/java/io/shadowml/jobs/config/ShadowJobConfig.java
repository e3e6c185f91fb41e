package io.shadowml.jobs.config;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaParseException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.validate.InputLimits;
import io.shadowml.jobs.validate.PlausibleTime;
import io.shadowml.models.ModelConfigException;
import io.shadowml.models.ModelDescriptor;

/**
 * Everything the shadow job needs, read from one YAML file (jobs/examples/shadow-job.yaml is the commented reference of every key).
 * Relative model paths resolve against the config file's folder.
 */
public final class ShadowJobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum StartPosition {
        EARLIEST,
        LATEST,
        TIMESTAMP,
        COMMITTED
    }

    public final String source;
    public final String experimentId;

    public final String bootstrapServers;
    public final Map<String, String> kafkaProperties;
    public final String groupId;
    public final StartPosition start;
    public final long startTimestampMs;
    public final String transactionalIdPrefix;
    public final Duration transactionTimeout;

    public final String requestsTopic;
    public final String labelsTopic;
    public final String reportsTopic;
    public final String verdictsTopic;
    public final String scoredEventsTopic; // null = not written
    public final String deadLetterTopic;
    /**
     * Announcements of candidates added and retired while the job runs (topics.control, compacted, key =
     * model id); null: the model set is the YAML's for the job's whole life.
     */
    public final String controlTopic;

    public final ModelDescriptor liveModel;
    public final List<ModelDescriptor> candidateModels;
    /**
     * Candidate positions the job keeps (models.candidate_slots): the YAML's candidates fill the first, the
     * control topic's announcements the others. Fixed for the job's life: every accumulator holds one
     * entry per slot.
     */
    public final int candidateSlots;

    /**
     * The event time from which a restore applies a change of the YAML's candidates (models.effective_time);
     * null: when the job is submitted.
     */
    public final Instant modelsEffectiveTime;

    public final int modelThreads;
    /** Longest a candidate's call for one batch may take (models.candidate_time_budget); null: no limit. */
    public final Duration candidateTimeBudget;

    public final Duration labelHorizon;
    /**
     * Age (event time) at which a request's evidence enters the paired tests and the verdict, labelled or
     * not: labels later than this after their request count only "so far" (jobs/METRICS.md, "Matured
     * evidence"). At most {@link #labelHorizon}, its default.
     */
    public final Duration labelMaturity;
    /** Share of the traffic the experiment scores (jobs/METRICS.md, "Sampling"); 1 = all. */
    public final double sampleRate;
    /** Sample by entity id (an entity is in or out as a whole) instead of by request id. */
    public final boolean sampleByEntity;
    /**
     * Per model in {@link #allModels()} order, the share of all traffic it scores: {@link #sampleRate} for
     * the live model and for a candidate without its own {@code candidate_sample_rates} entry.
     */
    public final double[] modelSampleRates;

    public final Duration reportWindow;
    public final List<String> segmentFields;
    public final Duration maxOutOfOrderness;
    public final Duration idleness;

    public final int batchMaxSize;
    public final Duration batchMaxWait;

    public final Duration checkpointInterval;
    /** A checkpoint not complete after this long is abandoned (and counts as a failure). */
    public final Duration checkpointTimeout;
    /** Checkpoint failures in a row the job tolerates before it restarts. */
    public final int tolerableCheckpointFailures;
    /** Key groups of every keyed state: the highest parallelism a savepoint can ever be restored with. */
    public final int maxParallelism;
    /** The longest pause between restarts (exponential-delay strategy, restarts never give up). */
    public final Duration restartMaxBackoff;

    public final double scoredEventsSampleRate;
    public final int metricShards;
    /**
     * How far in event time one source may read ahead of the other (watermark alignment); null (not
     * set, the default) = no alignment. For backfills: keeps the label topic from being read long before the
     * requests it labels. Not for live use when label times lag far behind request times: scoring would
     * wait for the labels.
     */
    public final Duration maxSourceDrift;
    /** Event and label times the job accepts (event_time.not_before, event_time.max_future_skew). */
    public final PlausibleTime plausibleTime;
    /** Lengths of ids and segments (limits.*). */
    public final InputLimits limits;

    public final VerdictPolicyConfig verdict;
    /** Canary / A-B analysis of served_by; null without the canary section. */
    public final CanaryConfig canary;
    /** Other versions of the Request/Label schemas (JSON) that single-object encoded inputs may use. */
    public final List<String> writerSchemas;
    /** How the request and label topics are written (inputs.requests / inputs.labels). */
    public final InputsConfig.TopicInput requestInput;

    public final InputsConfig.TopicInput labelInput;

    private ShadowJobConfig(String source, ConfigNode root) {
        this.source = source;
        this.experimentId = root.string("experiment_id");

        ConfigNode kafka = root.child("kafka");
        this.bootstrapServers = kafka.string("bootstrap_servers");
        this.kafkaProperties = Map.copyOf(kafka.stringMap("properties"));
        this.groupId = kafka.string("group_id", "shadowml-" + experimentId);
        String startText = kafka.string("start", "earliest");
        try {
            this.start = StartPosition.valueOf(startText.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw kafka.error(
                    "start", "must be one of earliest, latest, timestamp, committed; was '" + startText + "'");
        }
        this.startTimestampMs = kafka.longValue("start_timestamp_ms", -1);
        if (start == StartPosition.TIMESTAMP && startTimestampMs < 0) {
            throw kafka.error("start_timestamp_ms", "is required when start is 'timestamp'");
        }
        for (String owned : List.of(
                "bootstrap.servers",
                "group.id",
                "transactional.id",
                "key.deserializer",
                "value.deserializer",
                "key.serializer",
                "value.serializer")) {
            if (kafkaProperties.containsKey(owned)) {
                throw kafka.error(
                        "properties." + owned,
                        "is set by the job itself; use the dedicated setting"
                                + " (bootstrap_servers, group_id, transactional_id_prefix) or remove it");
            }
        }
        String isolation = kafkaProperties.get("isolation.level");
        if (isolation != null && !isolation.equals("read_committed") && !isolation.equals("read_uncommitted")) {
            throw kafka.error(
                    "properties.isolation.level",
                    "must be read_committed (the default) or read_uncommitted; was '" + isolation + "'");
        }
        this.transactionalIdPrefix = kafka.string("transactional_id_prefix", "shadowml-" + experimentId);
        this.transactionTimeout = kafka.duration("transaction_timeout", Duration.ofMinutes(15));
        kafka.rejectUnknownKeys();

        ConfigNode topics = root.child("topics");
        this.requestsTopic = topics.string("requests");
        this.labelsTopic = topics.string("labels");
        this.reportsTopic = topics.string("reports");
        this.verdictsTopic = topics.string("verdicts");
        this.scoredEventsTopic = topics.string("scored_events", null);
        this.deadLetterTopic = topics.string("dead_letter");
        this.controlTopic = topics.string("control", null);
        topics.rejectUnknownKeys();

        ConfigNode models = root.child("models");
        Path base = Path.of(source).toAbsolutePath().getParent();
        boolean loggedLive = models.isMapping("live");
        List<String> candidatePaths = models.stringList("candidates", true);
        List<ModelDescriptor> candidates = new ArrayList<>();
        for (int i = 0; i < candidatePaths.size(); i++) {
            candidates.add(descriptor(models, "candidates[" + i + "]", base, candidatePaths.get(i)));
        }
        this.liveModel = loggedLive
                ? loggedLive(models.child("live"), candidates.get(0))
                : descriptor(models, "live", base, models.string("live"));
        for (int i = 0; i < candidates.size(); i++) {
            checkComparable(models, "candidates[" + i + "]", liveModel, candidates.get(i));
        }
        this.candidateModels = List.copyOf(candidates);
        checkVectorInputs(models, allModels());
        this.modelsEffectiveTime = instant(models, "effective_time");
        this.modelThreads = models.positiveInt("intra_op_threads", 1);
        this.candidateTimeBudget = models.duration("candidate_time_budget", null);
        if (1 + candidates.size() > 64) {
            throw models.error("candidates", "at most 63 candidates are supported");
        }
        // Room for announced candidates only where there is a control topic to announce them on.
        int defaultSlots = candidates.size() + (controlTopic == null ? 0 : DEFAULT_SPARE_SLOTS);
        this.candidateSlots = models.positiveInt("candidate_slots", Math.min(63, defaultSlots));
        if (candidateSlots < candidates.size() || candidateSlots > 63) {
            throw models.error(
                    "candidate_slots",
                    "must be between the number of candidates (" + candidates.size() + ") and 63, was "
                            + candidateSlots);
        }
        if (candidateSlots > candidates.size() && controlTopic == null) {
            throw models.error(
                    "candidate_slots",
                    "only announced candidates fill slots beyond models.candidates: set topics.control");
        }
        models.rejectUnknownKeys();

        ConfigNode inputs = root.optionalChild("inputs");
        Path configFolder = Path.of(source).toAbsolutePath().getParent();
        this.requestInput = InputsConfig.requests(inputs, configFolder, allModels());
        this.labelInput = InputsConfig.labels(inputs, configFolder, liveModel);
        inputs.rejectUnknownKeys();

        this.labelHorizon = root.duration("label_horizon", Duration.ofDays(14));
        this.labelMaturity = root.duration("label_maturity", labelHorizon);
        if (labelMaturity.compareTo(labelHorizon) > 0) {
            throw root.error(
                    "label_maturity",
                    "is " + labelMaturity + ", longer than label_horizon " + labelHorizon
                            + ": no label joins a request after its horizon");
        }
        if (labelInput.implicit && !labelMaturity.equals(labelHorizon)) {
            throw root.error(
                    "label_maturity",
                    "is " + labelMaturity + " but must equal label_horizon " + labelHorizon
                            + " with implicit labels: a request's negative class is known only at its horizon");
        }
        this.reportWindow = root.duration("report_window", Duration.ofHours(1));
        this.segmentFields = root.stringList("segment_fields", false);

        ConfigNode eventTime = root.optionalChild("event_time");
        this.maxOutOfOrderness = eventTime.duration("max_out_of_orderness", Duration.ofSeconds(30));
        this.idleness = eventTime.duration("idleness", Duration.ofMinutes(1));
        this.maxSourceDrift = eventTime.duration("max_source_drift", null);
        this.plausibleTime = new PlausibleTime(
                instant(eventTime, "not_before", DEFAULT_NOT_BEFORE),
                eventTime.duration("max_future_skew", Duration.ofHours(1)));
        eventTime.rejectUnknownKeys();

        ConfigNode limitsNode = root.optionalChild("limits");
        this.limits = new InputLimits(
                limitsNode.positiveInt("max_id_length", InputLimits.DEFAULT_MAX_ID_LENGTH),
                limitsNode.positiveInt("max_segments", InputLimits.DEFAULT_MAX_SEGMENTS),
                limitsNode.positiveInt("max_segment_length", InputLimits.DEFAULT_MAX_SEGMENT_LENGTH));
        limitsNode.rejectUnknownKeys();

        ConfigNode batching = root.optionalChild("batching");
        this.batchMaxSize = batching.positiveInt("max_size", 64);
        this.batchMaxWait = batching.duration("max_wait", Duration.ofMillis(50));
        batching.rejectUnknownKeys();

        this.checkpointInterval = root.duration("checkpoint_interval", Duration.ofSeconds(30));
        ConfigNode faultTolerance = root.optionalChild("fault_tolerance");
        this.checkpointTimeout = faultTolerance.duration("checkpoint_timeout", Duration.ofMinutes(10));
        this.tolerableCheckpointFailures = faultTolerance.positiveInt("tolerable_checkpoint_failures", 3);
        this.maxParallelism = faultTolerance.positiveInt("max_parallelism", 128);
        if (maxParallelism > 32_768) {
            throw faultTolerance.error(
                    "max_parallelism", "must be at most 32768 (Flink's limit), was " + maxParallelism);
        }
        this.restartMaxBackoff = faultTolerance.duration("restart_max_backoff", Duration.ofMinutes(1));
        faultTolerance.rejectUnknownKeys();
        this.scoredEventsSampleRate =
                root.doubleIn("scored_events_sample_rate", scoredEventsTopic == null ? 0.0 : 1.0, 0.0, 1.0);
        if (scoredEventsTopic == null && scoredEventsSampleRate > 0) {
            throw root.error(
                    "scored_events_sample_rate",
                    "is " + scoredEventsSampleRate
                            + " but topics.scored_events is not set, so sampled events would go nowhere");
        }
        this.sampleRate = root.doubleIn("sample_rate", 1.0, 0.0, 1.0);
        if (sampleRate == 0) {
            throw root.error("sample_rate", "is 0: no request would be scored; use a rate in (0, 1]");
        }
        String sampleBy = root.string("sample_by", "request_id");
        if (!sampleBy.equals("request_id") && !sampleBy.equals("entity_id")) {
            throw root.error("sample_by", "must be request_id or entity_id, was '" + sampleBy + "'");
        }
        this.sampleByEntity = sampleBy.equals("entity_id");
        this.modelSampleRates = modelSampleRates(root, root.numberMap("candidate_sample_rates"));
        this.metricShards = root.positiveInt("metric_shards", 4);
        this.verdict = VerdictPolicyConfig.read(root.optionalChild("verdict"), liveModel.task());
        this.canary = CanaryConfig.read(root, allModels(), labelHorizon, verdict.alpha());
        this.writerSchemas =
                readWriterSchemas(root, Path.of(source).toAbsolutePath().getParent());
        root.rejectUnknownKeys();
    }

    /** An ISO-8601 instant, or null when absent. */
    private static Instant instant(ConfigNode node, String key) {
        String text = node.string(key, null);
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw node.error(key, "must be an ISO-8601 instant such as 2026-12-03T10:00:00Z, was '" + text + "'");
        }
    }

    /**
     * Each model's share of the traffic: a candidate's own rate (a share of all traffic, within the
     * experiment's sample, so its requests are a subset of the sample) or the experiment's.
     */
    private double[] modelSampleRates(ConfigNode root, Map<String, Double> candidateRates) {
        // Announced candidates (slots beyond the YAML's) score the experiment's sample.
        double[] rates = new double[1 + candidateSlots];
        Arrays.fill(rates, sampleRate);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < candidateModels.size(); i++) {
            index.put(candidateModels.get(i).id(), i + 1);
        }
        for (Map.Entry<String, Double> e : candidateRates.entrySet()) {
            String field = "candidate_sample_rates." + e.getKey();
            Integer m = index.get(e.getKey());
            if (m == null) {
                throw root.error(field, "is not a candidate; candidates are " + index.keySet());
            }
            double rate = e.getValue();
            if (!(rate > 0 && rate <= sampleRate)) {
                throw root.error(
                        field,
                        "must be in (0, sample_rate = " + sampleRate + "] (a share of all traffic), was " + rate);
            }
            rates[m] = rate;
        }
        return rates;
    }

    /** Slots for announced candidates beside the YAML's, when topics.control is set. */
    static final int DEFAULT_SPARE_SLOTS = 4;

    /** Earlier times are taken for mistakes (zero, seconds for milliseconds), not history. */
    static final Instant DEFAULT_NOT_BEFORE = Instant.parse("2000-01-01T00:00:00Z");

    /** An ISO-8601 instant (2026-01-01T00:00:00Z) or date (2026-01-01, midnight UTC). */
    private static Instant instant(ConfigNode node, String key, Instant fallback) {
        String text = node.string(key, null);
        if (text == null) {
            return fallback;
        }
        try {
            return text.length() == 10
                    ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw node.error(
                    key, "'" + text + "' is not an ISO-8601 instant or date (e.g. 2026-01-01T00:00:00Z, 2026-01-01)");
        }
    }

    private static ModelDescriptor descriptor(ConfigNode models, String key, Path base, String path) {
        Path resolved = base.resolve(path).normalize();
        if (!Files.isRegularFile(resolved)) {
            throw models.error(key, "model descriptor " + resolved + " does not exist");
        }
        try {
            return ModelDescriptor.load(resolved);
        } catch (ModelConfigException e) {
            throw new ConfigException(models.error(key, e.getMessage()).getMessage(), e);
        }
    }

    /**
     * {@code models.live} as a mapping: the live model is not ONNX, its outputs are logged with each request
     * (Request.production_score, or production_probabilities for multiclass; a mapped path for json and
     * registry-avro topics). It answers the candidates' question (the first candidate's task, classes and
     * inputs) under its own name, version and threshold.
     */
    private static ModelDescriptor loggedLive(ConfigNode live, ModelDescriptor firstCandidate) {
        String source = live.string("source");
        if (!source.equals("logged")) {
            throw live.error(
                    "source",
                    "must be 'logged' (a live model given as a mapping is logged by the serving system; an ONNX"
                            + " live model is given as the path of its model.json); was '" + source + "'");
        }
        String name = live.string("name");
        String version = live.string("version");
        double threshold = live.doubleIn("threshold", ModelDescriptor.DEFAULT_THRESHOLD, 0.0, 1.0);
        live.rejectUnknownKeys();
        try {
            return firstCandidate.loggedAs(name, version, threshold);
        } catch (IllegalArgumentException e) {
            throw live.error(e.getMessage().startsWith("version") ? "version" : "name", e.getMessage());
        }
    }

    /** A candidate is compared event by event with the live model, so both must answer the same question. */
    private static void checkComparable(ConfigNode models, String key, ModelDescriptor live, ModelDescriptor c) {
        if (c.task() != live.task()) {
            throw models.error(
                    key,
                    c.id() + " is a " + c.task() + " model but the live model " + live.id() + " is " + live.task());
        }
        if (c.numClasses() != live.numClasses()) {
            throw models.error(
                    key, c.id() + " has " + c.numClasses() + " classes, the live model " + live.numClasses());
        }
        if (c.id().equals(live.id())) {
            throw models.error(key, "candidate " + c.id() + " has the live model's name and version");
        }
    }

    /**
     * Dense inputs come from the one vector field of the Request contract, so a vector model must name it,
     * and all vector models must agree on its length (otherwise no request could satisfy them all).
     */
    private static void checkVectorInputs(ConfigNode models, List<ModelDescriptor> all) {
        Integer length = null;
        for (int i = 0; i < all.size(); i++) {
            ModelDescriptor m = all.get(i);
            if (!m.isVectorInput()) {
                continue;
            }
            String key = i == 0 ? "live" : "candidates[" + (i - 1) + "]";
            if (!"vector".equals(m.vectorField())) {
                throw models.error(
                        key,
                        m.id() + " reads vector field '" + m.vectorField()
                                + "' but requests carry dense inputs in 'vector' (see avro/Request.avsc)");
            }
            if (length != null && length != m.featureCount()) {
                throw models.error(
                        key, m.id() + " expects vectors of " + m.featureCount() + " values, another model " + length);
            }
            length = m.featureCount();
        }
    }

    /**
     * Each listed .avsc must be a version of the Request or Label contract that the job's version can
     * read by Avro's resolution rules; checked here so that a bad one fails at start, not per record.
     */
    private static List<String> readWriterSchemas(ConfigNode root, Path base) {
        List<String> paths = root.stringList("writer_schemas", false);
        List<String> schemas = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++) {
            String key = "writer_schemas[" + i + "]";
            Path file = base.resolve(paths.get(i)).normalize();
            Schema writer;
            try {
                writer = new Schema.Parser().parse(Files.readString(file));
            } catch (IOException e) {
                throw root.error(key, "cannot read " + file + ": " + e);
            } catch (SchemaParseException e) {
                throw root.error(key, file + " is not an Avro schema: " + e.getMessage());
            }
            Schema reader = writer.getFullName().equals(Request.getClassSchema().getFullName())
                    ? Request.getClassSchema()
                    : writer.getFullName().equals(Label.getClassSchema().getFullName()) ? Label.getClassSchema() : null;
            if (reader == null) {
                throw root.error(
                        key,
                        file + " defines " + writer.getFullName() + ", not a version of "
                                + Request.getClassSchema().getFullName() + " or "
                                + Label.getClassSchema().getFullName());
            }
            SchemaCompatibility.SchemaPairCompatibility compatibility =
                    SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
            if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                throw root.error(
                        key,
                        "the job cannot read records written with " + file + ": "
                                + compatibility.getResult().getIncompatibilities());
            }
            schemas.add(writer.toString());
        }
        return List.copyOf(schemas);
    }

    /** Every model in report order: live first, then candidates. */
    public List<ModelDescriptor> allModels() {
        List<ModelDescriptor> all = new ArrayList<>();
        all.add(liveModel);
        all.addAll(candidateModels);
        return all;
    }

    /**
     * The sources' isolation level: read_committed unless {@code kafka.properties.isolation.level} says
     * otherwise, so records of aborted upstream transactions are never scored or joined.
     */
    public String sourceIsolationLevel() {
        return kafkaProperties.getOrDefault("isolation.level", "read_committed");
    }

    /** Client properties for every Kafka client the job creates (security settings pass straight through). */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        return p;
    }

    public static ShadowJobConfig load(Path file) {
        String source = file.toString();
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read the config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + ": the config must be a YAML mapping", null);
        }
        return new ShadowJobConfig(source, new ConfigNode(source, "", root));
    }

    /**
     * Why this config rules out SWITCH_LIVE altogether (the job dead-letters it, {@code models switch-live}
     * refuses it), or null.
     */
    public String noSwitchLive() {
        if (allModels().get(0).isLogged()) {
            return "models.live: the live model's outputs are logged with the requests (no ONNX model to move):"
                    + " SWITCH_LIVE needs an ONNX live model";
        }
        if (canary != null) {
            return "canary: its arms name the models that serve, so SWITCH_LIVE is not applied; shift the served"
                    + " traffic instead";
        }
        return null;
    }
}
