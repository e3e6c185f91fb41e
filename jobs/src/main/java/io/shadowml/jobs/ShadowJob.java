package io.shadowml.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.function.SerializableFunction;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.canary.ServedToEntity;
import io.shadowml.jobs.canary.StickyAssignmentCheck;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.control.ModelControlValidator;
import io.shadowml.jobs.control.NoModelChanges;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.control.YamlModel;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.jobs.join.LabelEvent;
import io.shadowml.jobs.join.LabelJoinOperator;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.jobs.metrics.AttachWindowBounds;
import io.shadowml.jobs.metrics.CountLateEvents;
import io.shadowml.jobs.metrics.LocalWindowAggregator;
import io.shadowml.jobs.metrics.MergeShardPartials;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.SegmentSpec;
import io.shadowml.jobs.metrics.ShardPartial;
import io.shadowml.jobs.metrics.WindowPartial;
import io.shadowml.jobs.report.GenerationKey;
import io.shadowml.jobs.report.ReportAssembler;
import io.shadowml.jobs.report.ReportAssemblerOperator;
import io.shadowml.jobs.report.ResolveLiveGeneration;
import io.shadowml.jobs.report.VerdictPolicy;
import io.shadowml.jobs.sampling.DeterministicSample;
import io.shadowml.jobs.sampling.SampleLabels;
import io.shadowml.jobs.sampling.SampleRequests;
import io.shadowml.jobs.scoring.MicroBatchScoringOperator;
import io.shadowml.jobs.validate.DeadLetters;
import io.shadowml.jobs.validate.LabelValidator;
import io.shadowml.jobs.validate.PlausibleTime;
import io.shadowml.jobs.validate.RequestValidator;
import io.shadowml.models.ModelDescriptor;

/**
 * The shadow-comparison job. It is given its sources and sinks, so tests and backtests run the very
 * same pipeline as production; {@link #main} wires the Kafka ones from the YAML config.
 *
 * <pre>
 * requests ─ validate ─ score (live + candidates, micro-batched) ─┬─ scored events (sampled)
 *                │                                                ├─ join with labels by request id ─┐
 * labels ─── validate ────────────────────────────────────────────┘                                  │
 *    └────────┴─ dead letters ──── metric events, pre-aggregated per window where they are produced ─┘
 *                                        ─ partials ─ windows per shard ─ merge ─ reports, verdicts
 * </pre>
 */
public class ShadowJob {
    static final OutputTag<ShardPartial> LATE_PARTIALS = new OutputTag<>("late-partials") {};

    private final ShadowJobConfig config;
    private final Source<Decoded<Request>, ?, ?> requestSource;
    private final Source<Decoded<Label>, ?, ?> labelSource;
    private final ShadowSinks sinks;
    /** Announcements of candidates added and retired (topics.control); null: the YAML's models throughout. */
    private Source<Decoded<ModelControl>, ?, ?> controlSource;

    public ShadowJob(
            ShadowJobConfig config,
            Source<Decoded<Request>, ?, ?> requestSource,
            Source<Decoded<Label>, ?, ?> labelSource,
            ShadowSinks sinks) {
        this.config = config;
        this.requestSource = requestSource;
        this.labelSource = labelSource;
        this.sinks = sinks;
    }

    /** Reads the model table's changes from {@code source} (the control topic); null: none. */
    public ShadowJob withControlSource(Source<Decoded<ModelControl>, ?, ?> source) {
        this.controlSource = source;
        return this;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1 && !(args.length == 2 && args[0].equals("--config"))) {
            System.err.println("usage: ShadowJob [--config] <shadow-job.yaml>");
            System.exit(2);
        }
        ShadowJobConfig config = ShadowJobConfig.load(Path.of(args[args.length - 1]));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        enableCheckpointing(env, config);
        new ShadowJob(
                        config,
                        KafkaIO.requestSource(config, false),
                        KafkaIO.labelSource(config, false),
                        KafkaIO.sinks(config))
                .withControlSource(config.controlTopic == null ? null : KafkaIO.controlSource(config, false))
                .build(env);
        env.execute("shadowml " + config.experimentId);
    }

    /**
     * Exactly-once checkpoints at the configured interval; the Kafka sinks commit their transactions
     * on them. Not for BATCH execution (backtests), which has no checkpoints.
     */
    public static void enableCheckpointing(StreamExecutionEnvironment env, ShadowJobConfig config) {
        env.enableCheckpointing(config.checkpointInterval.toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // Set here rather than left to the cluster, so that a weeks-long run behaves the same on every
        // cluster (fault_tolerance in the config, jobs/README.md "Guarantees").
        env.getCheckpointConfig().setCheckpointTimeout(config.checkpointTimeout.toMillis());
        env.getCheckpointConfig().setTolerableCheckpointFailureNumber(config.tolerableCheckpointFailures);
        env.setMaxParallelism(config.maxParallelism);
        Configuration restart = new Configuration();
        restart.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, config.restartMaxBackoff);
        // Never give up: bad records are dead letters, so what fails the job is transient (a lost
        // TaskManager, an unreachable broker) and worth waiting out.
        restart.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        env.configure(restart);
    }

    /** Adds the whole pipeline to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        // No operator keeps or changes a record it has passed on (ObjectReuseTest), so chained operators
        // may hand records over without Flink's defensive deep copy.
        env.getConfig().enableObjectReuse();
        // Slots beyond the YAML's candidates take the ones the control topic announces (models.candidate_slots).
        ModelLayout models = new ModelLayout(config.allModels()).withSlots(config.candidateSlots);
        ModelLayout layout = models.withArms(ArmLayout.of(config.canary, models));
        SegmentSpec segments = new SegmentSpec(config.segmentFields);
        String experimentId = config.experimentId;

        WatermarkStrategy<Decoded<Request>> requestTime = eventTime(config, Request::getEventTime);
        WatermarkStrategy<Decoded<Label>> labelTime = eventTime(config, Label::getLabelTime);

        SingleOutputStreamOperator<Request> validRequests = env.fromSource(requestSource, requestTime, "requests")
                .uid("requests-source")
                .process(new RequestValidator(experimentId, config.allModels(), config.plausibleTime, config.limits))
                .name("validate-requests")
                .uid("validate-requests");
        SingleOutputStreamOperator<Label> validLabels = env.fromSource(labelSource, labelTime, "labels")
                .uid("labels-source")
                .process(new LabelValidator(experimentId, layout, config.plausibleTime, config.limits))
                .name("validate-labels")
                .uid("validate-labels");

        DataStream<DeadLetter> deadLetters =
                validRequests.getSideOutput(DeadLetters.TAG).union(validLabels.getSideOutput(DeadLetters.TAG));
        DataStream<DeadLetter> deadLetterSink = deadLetters;
        // A restore whose YAML has other candidates applies the change from one event time, the same in every
        // operator: fixed here, in the job graph.
        List<YamlModel> yamlCandidates = yamlCandidates(config);
        long yamlEffectiveTime =
                (config.modelsEffectiveTime != null ? config.modelsEffectiveTime : Instant.now()).toEpochMilli();
        DataStream<SlotAssignment> modelChanges;
        DataStream<SlotAssignment> logicalChanges = null;
        DataStream<Verdict> rejectedModels = null;
        if (controlSource != null) {
            // One subtask applies the announcements, so every consumer sees the changes in one order.
            SingleOutputStreamOperator<SlotAssignment> changes = env.fromSource(
                            controlSource, WatermarkStrategy.noWatermarks(), "model-control")
                    .uid("model-control-source")
                    .setParallelism(1)
                    .transform(
                            "apply-model-control",
                            TypeInformation.of(SlotAssignment.class),
                            new ModelControlValidator(
                                            experimentId,
                                            layout,
                                            config.labelHorizon.toMillis(),
                                            config.reportWindow.toMillis())
                                    .withSwitchLimits(config.noSwitchLive(), config.modelSampleRates)
                                    .withYaml(yamlCandidates, yamlEffectiveTime))
                    .setParallelism(1)
                    .name("apply-model-control")
                    .uid("apply-model-control");
            // To the sink only: the control stream carries no event time, and the reports' dead-letter count
            // is of requests and labels (rejected announcements count in control_dead_lettered).
            deadLetterSink = deadLetters.union(changes.getSideOutput(DeadLetters.TAG));
            rejectedModels = changes.getSideOutput(ModelControlValidator.REJECTED);
            modelChanges = changes;
            logicalChanges = changes.getSideOutput(ModelControlValidator.LOGICAL);
        } else {
            modelChanges = null;
        }
        deadLetterSink.sinkTo(sinks.deadLetters()).name("dead-letter-sink").uid("dead-letter-sink");

        // Traffic sampling (sample_rate): what is outside the sample is counted, then costs nothing more.
        DataStream<Request> requests = validRequests;
        DataStream<Label> labels = validLabels;
        // Metric events beside the scored and joined ones, each pre-aggregated where it is produced.
        Map<String, DataStream<MetricEvent>> otherEvents = new LinkedHashMap<>();
        if (config.sampleRate < 1) {
            DeterministicSample sample =
                    new DeterministicSample(config.sampleRate, DeterministicSample.EXPERIMENT_SALT);
            SingleOutputStreamOperator<Request> sampledRequests = validRequests
                    .process(new SampleRequests(sample, config.sampleByEntity))
                    .name("sample-requests")
                    .uid("sample-requests");
            otherEvents.put("unsampled-requests", sampledRequests.getSideOutput(SampleRequests.UNSAMPLED));
            requests = sampledRequests;
            if (!config.sampleByEntity) {
                SingleOutputStreamOperator<Label> sampledLabels = validLabels
                        .process(new SampleLabels(sample))
                        .name("sample-labels")
                        .uid("sample-labels");
                otherEvents.put("unsampled-labels", sampledLabels.getSideOutput(SampleLabels.UNSAMPLED));
                labels = sampledLabels;
            }
        }

        MicroBatchScoringOperator scoring = new MicroBatchScoringOperator(
                        experimentId,
                        config.allModels(),
                        config.candidateSlots,
                        config.batchMaxSize,
                        config.batchMaxWait.toMillis(),
                        config.modelThreads,
                        config.scoredEventsSampleRate,
                        segments)
                .withCandidateTimeBudget(config.candidateTimeBudget)
                .withModelSamples(modelSamples(config), config.sampleByEntity)
                .withArms(layout.arms())
                .withModelTable(
                        config.labelHorizon.toMillis(),
                        config.reportWindow.toMillis(),
                        config.modelSampleRates,
                        yamlCandidates,
                        yamlEffectiveTime,
                        modelChanges != null);
        TypeInformation<MetricEvent> metricEvents = TypeInformation.of(MetricEvent.class);
        // Without a control topic, one input: chained to the validator, requests cross no serializer.
        SingleOutputStreamOperator<MetricEvent> scored = (modelChanges == null
                        ? requests.transform("score", metricEvents, scoring)
                        : requests.connect(modelChanges.broadcast()).transform("score", metricEvents, scoring))
                .uid("score");
        scored.getSideOutput(MicroBatchScoringOperator.SCORED_EVENTS)
                .sinkTo(sinks.scoredEvents())
                .name("scored-events-sink")
                .uid("scored-events-sink");

        DataStream<MetricEvent> joined = scored.keyBy(e -> e.requestId)
                .connect(labels.map(LabelEvent::of)
                        .name("label-events")
                        .uid("label-events")
                        .keyBy(l -> l.requestId))
                .transform(
                        "join-labels",
                        TypeInformation.of(MetricEvent.class),
                        // Expiry buckets of one report window: settled outcomes reach their window before it closes.
                        new LabelJoinOperator(
                                experimentId, config.labelHorizon, config.reportWindow, config.labelInput.implicit))
                .uid("join-labels");

        DataStream<MetricEvent> deadLetterEvents = deadLetters
                .map(d -> MetricEvent.of(
                        MetricEvent.DEAD_LETTER, d.getSourceTopic() + "/" + d.getPartition() + "/" + d.getOffset()))
                .returns(MetricEvent.class)
                .name("count-dead-letters")
                .uid("count-dead-letters");

        // Each producer of metric events folds them into per-window accumulators in its own subtask;
        // only those partials cross the network to the metric windows.
        int shards = config.metricShards;
        long window = config.reportWindow.toMillis();
        long maturity = config.labelMaturity.toMillis();
        TypeInformation<ShardPartial> partialType = TypeInformation.of(ShardPartial.class);
        DataStream<ShardPartial> scoredPartials = scored.transform(
                        "pre-aggregate-scored",
                        partialType,
                        new LocalWindowAggregator(experimentId, window, maturity, layout, segments, shards))
                .uid("pre-aggregate-scored");
        DataStream<ShardPartial> joinedPartials = joined.transform(
                        "pre-aggregate-joined",
                        partialType,
                        new LocalWindowAggregator(experimentId, window, maturity, layout, segments, shards))
                .uid("pre-aggregate-joined");
        DataStream<ShardPartial> deadLetterPartials = deadLetterEvents
                .transform(
                        "pre-aggregate-dead-letters",
                        partialType,
                        new LocalWindowAggregator(experimentId, window, maturity, layout, segments, shards))
                .uid("pre-aggregate-dead-letters");
        DataStream<ShardPartial> allPartials = scoredPartials.union(joinedPartials, deadLetterPartials);
        if (config.canary != null) {
            // Sticky assignment: the arms each entity was served by, keyed by entity.
            DataStream<MetricEvent> entities = requests.filter(new ServedToEntity(layout.arms()))
                    .name("served-entities")
                    .uid("served-entities")
                    .keyBy(r -> r.getEntityId())
                    .process(new StickyAssignmentCheck(layout.arms(), config.canary.stickyTtl()))
                    .name("sticky-assignment")
                    .uid("sticky-assignment");
            otherEvents.put("entities", entities);
        }
        for (Map.Entry<String, DataStream<MetricEvent>> events : otherEvents.entrySet()) {
            // Chained to its producer: these records never cross the network one by one.
            String name = "pre-aggregate-" + events.getKey();
            allPartials = allPartials.union(events.getValue()
                    .transform(
                            name,
                            partialType,
                            new LocalWindowAggregator(experimentId, window, maturity, layout, segments, shards))
                    .uid(name));
        }
        SingleOutputStreamOperator<WindowPartial> partials = allPartials
                // Per shard and live generation: each generation's evidence is reported apart.
                .keyBy(p -> ShardPartial.windowKey(p.shard, p.generation, shards))
                .window(TumblingEventTimeWindows.of(config.reportWindow))
                .sideOutputLateData(LATE_PARTIALS)
                .aggregate(new MergeShardPartials(layout, segments), new AttachWindowBounds(shards))
                .name("window-metrics")
                .uid("window-metrics");
        partials.getSideOutput(LATE_PARTIALS)
                .map(new CountLateEvents(experimentId))
                .name("count-late-events")
                .uid("count-late-events");
        DataStream<WindowPartial> generationPartials = partials;
        if (logicalChanges != null) {
            generationPartials = partials.connect(logicalChanges.broadcast())
                    .transform(
                            "resolve-live-generation",
                            TypeInformation.of(WindowPartial.class),
                            new ResolveLiveGeneration())
                    .uid("resolve-live-generation");
        }
        // One key per live generation (GenerationKey): generation 0's is the experiment id.
        SingleOutputStreamOperator<ComparisonReport> reports = generationPartials
                .keyBy(p -> GenerationKey.of(experimentId, p.generation))
                // The model table's changes per generation; without a control topic none (a stream of the
                // partials' volume).
                .connect((logicalChanges != null
                                ? logicalChanges
                                : partials.flatMap(new NoModelChanges<WindowPartial>())
                                        .returns(SlotAssignment.class)
                                        .name("no-model-changes")
                                        .uid("no-model-changes"))
                        .keyBy(c -> GenerationKey.of(experimentId, c.generation)))
                .transform(
                        "assemble-reports",
                        TypeInformation.of(ComparisonReport.class),
                        new ReportAssemblerOperator(new ReportAssembler(
                                        layout,
                                        new VerdictPolicy(config.verdict, layout.models() - 1),
                                        config.modelSampleRates)
                                .withCanary(config.canary)))
                .uid("assemble-reports");
        reports.sinkTo(sinks.reports()).name("reports-sink").uid("reports-sink");
        DataStream<Verdict> verdicts = reports.getSideOutput(ReportAssembler.VERDICTS);
        if (rejectedModels != null) {
            verdicts = verdicts.union(rejectedModels);
        }
        verdicts.sinkTo(sinks.verdicts()).name("verdicts-sink").uid("verdicts-sink");
    }

    /** The YAML's candidates as a restore announces them, their descriptors read here (on the client). */
    static List<YamlModel> yamlCandidates(ShadowJobConfig config) {
        List<YamlModel> yaml = new ArrayList<>();
        for (int i = 0; i < config.candidateModels.size(); i++) {
            ModelDescriptor d = config.candidateModels.get(i);
            String json;
            try {
                json = Files.readString(Path.of(d.descriptorFile()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + d.descriptorFile(), e);
            }
            yaml.add(new YamlModel(d.id(), json, d.descriptorFile(), config.modelSampleRates[i + 1]));
        }
        return yaml;
    }

    /** Per model, its own sample where it is smaller than the experiment's (candidate_sample_rates). */
    static DeterministicSample[] modelSamples(ShadowJobConfig config) {
        DeterministicSample[] samples = new DeterministicSample[config.modelSampleRates.length];
        for (int m = 0; m < samples.length; m++) {
            if (config.modelSampleRates[m] < config.sampleRate) {
                // The experiment's salt: a candidate's requests are a subset of the experiment's sample.
                samples[m] = new DeterministicSample(config.modelSampleRates[m], DeterministicSample.EXPERIMENT_SALT);
            }
        }
        return samples;
    }

    /**
     * The watermarks of a source: bounded out-of-orderness and idleness from the config, each record at
     * its own {@code time}, or at its Kafka record timestamp when it did not decode or has no time
     * (such records are dead-lettered; the fallback only places them in time). Public for pipelines that
     * read the job's sources the way it does (the throughput benchmark's ceiling).
     */
    public static <T> WatermarkStrategy<Decoded<T>> eventTime(
            ShadowJobConfig config, SerializableFunction<T, Instant> time) {
        PlausibleTime plausible = config.plausibleTime;
        WatermarkStrategy<Decoded<T>> strategy = WatermarkStrategy.<Decoded<T>>forBoundedOutOfOrderness(
                        config.maxOutOfOrderness)
                // Without an event time, a record's time is the timestamp it carries (Decoded.kafkaTimestamp):
                // for a Kafka source that is the record timestamp Flink passes in as well; the backtest's
                // FileSource emits records without a timestamp and carries the one the replay tool would give.
                // An implausible time (PlausibleTime: the validator dead-letters it) must not move the
                // watermark either, so such a record is placed at its Kafka timestamp too.
                .withTimestampAssigner((d, sourceTs) -> {
                    Instant t = d.value == null ? null : time.apply(d.value);
                    return t != null && plausible.accepts(t.toEpochMilli(), d.kafkaTimestamp)
                            ? t.toEpochMilli()
                            : d.kafkaTimestamp;
                })
                .withIdleness(config.idleness);
        // Both sources in one alignment group: when one topic holds a backlog (a backfill, a replay, a
        // restart after downtime), it is read in step with the other instead of far ahead of it, so the
        // join holds what it would hold live (labels are not kept waiting for requests read later).
        return config.maxSourceDrift == null
                ? strategy
                : strategy.withWatermarkAlignment(
                        "shadowml-" + config.experimentId, config.maxSourceDrift, Duration.ofSeconds(1));
    }
}
