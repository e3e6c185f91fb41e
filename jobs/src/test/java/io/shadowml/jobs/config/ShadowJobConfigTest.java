package io.shadowml.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.models.ModelDescriptor.Task;

class ShadowJobConfigTest {
    private static final Path SHIPPED =
            Path.of("../models/shipped").toAbsolutePath().normalize();
    private static final String FRAUD_LIVE =
            SHIPPED.resolve("fraud/live/model.json").toString();
    private static final String FRAUD_CANDIDATE =
            SHIPPED.resolve("fraud/candidate/model.json").toString();
    private static final String FASHION_CANDIDATE =
            SHIPPED.resolve("fashion/candidate/model.json").toString();

    @TempDir
    Path dir;

    private static String complete() {
        return String.join(
                "\n",
                "experiment_id: fraud-mlp-vs-logreg",
                "kafka:",
                "  bootstrap_servers: broker-1:9092,broker-2:9092",
                "  properties:",
                "    security.protocol: SASL_SSL",
                "    sasl.mechanism: PLAIN",
                "  group_id: shadow-group",
                "  start: timestamp",
                "  start_timestamp_ms: 1767571200000",
                "  transactional_id_prefix: shadow-tx",
                "  transaction_timeout: 10m",
                "topics:",
                "  requests: req",
                "  labels: lab",
                "  reports: rep",
                "  verdicts: ver",
                "  scored_events: sco",
                "  dead_letter: dlq",
                "models:",
                "  live: " + FRAUD_LIVE,
                "  candidates:",
                "    - " + FRAUD_CANDIDATE,
                "  intra_op_threads: 2",
                "label_horizon: 7d",
                "report_window: 30m",
                "segment_fields: [region, channel]",
                "event_time:",
                "  max_out_of_orderness: 10s",
                "  idleness: 2m",
                "batching:",
                "  max_size: 32",
                "  max_wait: 20ms",
                "checkpoint_interval: PT1M",
                "scored_events_sample_rate: 0.25",
                "metric_shards: 8",
                "verdict:",
                "  min_labelled_pairs: 1000",
                "  alpha: 0.01",
                "  max_candidate_error_rate: 0.02",
                "  tuning_pairs: 5000",
                "  primary_metric: accuracy",
                "  guardrails:",
                "    recall: 0.02",
                "    log_loss: 0.05",
                "");
    }

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("shadow-job.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static String replaceLine(String yaml, String oldLine, String newLine) {
        assertTrue(yaml.contains(oldLine + "\n"), "template has " + oldLine);
        return yaml.replace(oldLine + "\n", newLine.isEmpty() ? "" : newLine + "\n");
    }

    /** Loading fails with a ConfigException naming the file and the field. */
    private void assertFails(String yaml, String field, String... words) throws IOException {
        Path f = write(yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> ShadowJobConfig.load(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), "message names the file: " + m);
        assertTrue(m.contains("'" + field + "'"), "message names field '" + field + "': " + m);
        for (String w : words) {
            assertTrue(m.contains(w), "message contains '" + w + "': " + m);
        }
    }

    @Test
    void completeConfigLoads() throws IOException {
        ShadowJobConfig c = ShadowJobConfig.load(write(complete()));
        assertEquals("fraud-mlp-vs-logreg", c.experimentId);
        assertEquals("broker-1:9092,broker-2:9092", c.bootstrapServers);
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN"), c.kafkaProperties);
        assertEquals("SASL_SSL", c.clientProperties().getProperty("security.protocol"));
        assertEquals("shadow-group", c.groupId);
        assertEquals(ShadowJobConfig.StartPosition.TIMESTAMP, c.start);
        assertEquals(1_767_571_200_000L, c.startTimestampMs);
        assertEquals("shadow-tx", c.transactionalIdPrefix);
        assertEquals(Duration.ofMinutes(10), c.transactionTimeout);
        assertEquals("req", c.requestsTopic);
        assertEquals("lab", c.labelsTopic);
        assertEquals("rep", c.reportsTopic);
        assertEquals("ver", c.verdictsTopic);
        assertEquals("sco", c.scoredEventsTopic);
        assertEquals("dlq", c.deadLetterTopic);
        assertEquals("fraud-logreg", c.liveModel.name());
        assertEquals("1.0.0", c.liveModel.version());
        assertEquals(1, c.candidateModels.size());
        assertEquals("fraud-mlp", c.candidateModels.get(0).name());
        assertEquals(Task.BINARY, c.liveModel.task());
        assertEquals(
                List.of("fraud-logreg", "fraud-mlp"),
                c.allModels().stream().map(m -> m.name()).toList());
        assertEquals(2, c.modelThreads);
        assertEquals(Duration.ofDays(7), c.labelHorizon);
        assertEquals(Duration.ofMinutes(30), c.reportWindow);
        assertEquals(List.of("region", "channel"), c.segmentFields);
        assertEquals(Duration.ofSeconds(10), c.maxOutOfOrderness);
        assertEquals(Duration.ofMinutes(2), c.idleness);
        assertEquals(32, c.batchMaxSize);
        assertEquals(Duration.ofMillis(20), c.batchMaxWait);
        assertEquals(Duration.ofMinutes(1), c.checkpointInterval);
        assertEquals(0.25, c.scoredEventsSampleRate);
        assertEquals(8, c.metricShards);
        assertEquals(1000, c.verdict.minLabelledPairs());
        assertEquals(0.01, c.verdict.alpha());
        assertEquals(0.02, c.verdict.maxCandidateErrorRate());
        assertEquals(5000, c.verdict.tuningPairs());
        assertEquals(VerdictMetric.ACCURACY, c.verdict.primaryMetric());
        assertEquals(Map.of(VerdictMetric.RECALL, 0.02, VerdictMetric.LOG_LOSS, 0.05), c.verdict.guardrails());
    }

    @Test
    void plausibleTimesAndLimitsHaveDefaultsAndCanBeSet() throws IOException {
        ShadowJobConfig defaults = ShadowJobConfig.load(write(complete()));
        long jan2000 = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
        assertTrue(defaults.plausibleTime.accepts(jan2000, jan2000));
        assertFalse(defaults.plausibleTime.accepts(jan2000 - 1, jan2000));
        assertTrue(defaults.plausibleTime.accepts(jan2000 + 3_600_000L, jan2000));
        assertFalse(defaults.plausibleTime.accepts(jan2000 + 3_600_001L, jan2000));
        assertNull(defaults.limits.idProblem("request_id", "x".repeat(256)));
        assertNotNull(defaults.limits.idProblem("request_id", "x".repeat(257)));

        String yaml = replaceLine(
                complete(),
                "  idleness: 2m",
                "  idleness: 2m\n  not_before: 2026-01-01\n  max_future_skew: 5m\nlimits:\n  max_id_length: 8\n"
                        + "  max_segments: 2\n  max_segment_length: 4");
        ShadowJobConfig c = ShadowJobConfig.load(write(yaml));
        long jan2026 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        assertTrue(c.plausibleTime.accepts(jan2026, jan2026));
        assertFalse(c.plausibleTime.accepts(jan2026 - 1, jan2026));
        assertFalse(c.plausibleTime.accepts(jan2026 + 300_001L, jan2026));
        assertNotNull(c.limits.idProblem("request_id", "123456789"));
        assertNotNull(c.limits.segmentsProblem(Map.of("a", "1", "b", "2", "c", "3")));
        assertNotNull(c.limits.segmentsProblem(Map.of("a", "12345")));
        assertNull(c.limits.segmentsProblem(Map.of("a", "1234", "b", "2")));
    }

    @Test
    void badNotBeforeAndLimitsNameTheField() throws IOException {
        assertFails(
                replaceLine(complete(), "  idleness: 2m", "  idleness: 2m\n  not_before: last tuesday"),
                "event_time.not_before",
                "ISO-8601");
        assertFails(
                replaceLine(complete(), "  idleness: 2m", "  idleness: 2m\nlimits:\n  max_id_length: 0"),
                "limits.max_id_length");
        assertFails(
                replaceLine(complete(), "  idleness: 2m", "  idleness: 2m\nlimits:\n  max_ids: 3"), "limits.max_ids");
    }

    @Test
    void sourcesReadCommittedUnlessTold() throws IOException {
        assertEquals("read_committed", ShadowJobConfig.load(write(complete())).sourceIsolationLevel());
        String yaml = replaceLine(
                complete(),
                "    sasl.mechanism: PLAIN",
                "    sasl.mechanism: PLAIN\n    isolation.level: read_uncommitted");
        assertEquals("read_uncommitted", ShadowJobConfig.load(write(yaml)).sourceIsolationLevel());
        assertFails(
                replaceLine(
                        complete(),
                        "    sasl.mechanism: PLAIN",
                        "    sasl.mechanism: PLAIN\n    isolation.level: dirty"),
                "kafka.properties.isolation.level",
                "read_committed");
    }

    @Test
    void verdictDefaultsFollowTheTask() throws IOException {
        String yaml = complete();
        yaml = yaml.substring(0, yaml.indexOf("verdict:\n"));
        ShadowJobConfig c = ShadowJobConfig.load(write(yaml));
        assertEquals(VerdictMetric.LOG_LOSS, c.verdict.primaryMetric());
        assertEquals(Map.of(), c.verdict.guardrails());
        assertEquals(10_000, c.verdict.tuningPairs());
        assertEquals(500, c.verdict.minLabelledPairs());
        assertEquals(0.05, c.verdict.alpha());
    }

    @Test
    void unknownGuardrailMetric() throws IOException {
        assertFails(
                replaceLine(complete(), "    recall: 0.02", "    recal: 0.02"),
                "verdict.guardrails.recal",
                "not a metric of a binary model",
                "recall",
                "segment_accuracy");
    }

    @Test
    void guardrailMarginOutOfRange() throws IOException {
        assertFails(
                replaceLine(complete(), "    recall: 0.02", "    recall: 2"),
                "verdict.guardrails.recall",
                "[0.0, 1.0]");
    }

    @Test
    void primaryMetricThatCanOnlyBeAGuardrail() throws IOException {
        assertFails(
                replaceLine(complete(), "  primary_metric: accuracy", "  primary_metric: recall"),
                "verdict.primary_metric",
                "guardrail only");
    }

    @Test
    void primaryMetricOfAnotherTask() throws IOException {
        assertFails(
                replaceLine(complete(), "  primary_metric: accuracy", "  primary_metric: squared_error"),
                "verdict.primary_metric",
                "not a metric of a binary model");
    }

    @Test
    void relativeModelPathsResolveAgainstTheConfigFolder() throws IOException {
        String rel = dir.toAbsolutePath().relativize(Path.of(FRAUD_LIVE)).toString();
        String relCandidate =
                dir.toAbsolutePath().relativize(Path.of(FRAUD_CANDIDATE)).toString();
        String yaml = replaceLine(complete(), "  live: " + FRAUD_LIVE, "  live: " + rel);
        yaml = replaceLine(yaml, "    - " + FRAUD_CANDIDATE, "    - " + relCandidate);
        ShadowJobConfig c = ShadowJobConfig.load(write(yaml));
        assertEquals("fraud-logreg", c.liveModel.name());
        assertEquals("fraud-mlp", c.candidateModels.get(0).name());
        ShadowJobConfig json = ShadowJobConfig.load(Path.of("examples/shadow-job-json.yaml"));
        assertEquals(InputsConfig.Format.JSON, json.requestInput.format);
        assertEquals(InputsConfig.Format.REGISTRY_AVRO, json.labelInput.format);
        assertTrue(json.labelInput.implicit);
    }

    @Test
    void withoutScoredEventsTopicNothingIsSampled() throws IOException {
        String yaml = replaceLine(complete(), "  scored_events: sco", "");
        yaml = replaceLine(yaml, "scored_events_sample_rate: 0.25", "");
        yaml = replaceLine(yaml, "  group_id: shadow-group", "");
        ShadowJobConfig c = ShadowJobConfig.load(write(yaml));
        assertNull(c.scoredEventsTopic);
        assertEquals(0.0, c.scoredEventsSampleRate);
        assertEquals("shadowml-fraud-mlp-vs-logreg", c.groupId);
    }

    @Test
    void missingExperimentId() throws IOException {
        assertFails(replaceLine(complete(), "experiment_id: fraud-mlp-vs-logreg", ""), "experiment_id", "required");
    }

    @Test
    void unknownTopLevelKey() throws IOException {
        assertFails(complete() + "report_windw: 5m\n", "report_windw", "not a known setting");
    }

    @Test
    void unknownNestedKey() throws IOException {
        assertFails(
                replaceLine(complete(), "  max_wait: 20ms", "  max_wait_ms: 20"),
                "batching.max_wait_ms",
                "not a known setting");
    }

    @Test
    void badStartPosition() throws IOException {
        assertFails(replaceLine(complete(), "  start: timestamp", "  start: sometimes"), "kafka.start", "sometimes");
    }

    @Test
    void timestampStartWithoutTimestamp() throws IOException {
        assertFails(
                replaceLine(complete(), "  start_timestamp_ms: 1767571200000", ""),
                "kafka.start_timestamp_ms",
                "required");
    }

    @Test
    void badDuration() throws IOException {
        assertFails(
                replaceLine(complete(), "report_window: 30m", "report_window: 5 parsecs"),
                "report_window",
                "5 parsecs");
    }

    @Test
    void modelsEffectiveTimeIsAnInstantAndUnsetByDefault() throws IOException {
        assertNull(ShadowJobConfig.load(write(complete())).modelsEffectiveTime);
        String set = replaceLine(
                complete(), "  intra_op_threads: 2", "  intra_op_threads: 2\n  effective_time: 2026-12-03T10:15:00Z");
        assertEquals(Instant.ofEpochSecond(1_796_292_900L), ShadowJobConfig.load(write(set)).modelsEffectiveTime);
        assertFails(
                replaceLine(complete(), "  intra_op_threads: 2", "  intra_op_threads: 2\n  effective_time: tomorrow"),
                "models.effective_time",
                "ISO-8601",
                "tomorrow");
    }

    @Test
    void zeroBatchSize() throws IOException {
        assertFails(replaceLine(complete(), "  max_size: 32", "  max_size: 0"), "batching.max_size", "positive");
    }

    @Test
    void candidateForAnotherTask() throws IOException {
        assertFails(
                replaceLine(complete(), "    - " + FRAUD_CANDIDATE, "    - " + FASHION_CANDIDATE),
                "models.candidates[0]",
                "MULTICLASS",
                "BINARY");
    }

    @Test
    void candidateIdenticalToLive() throws IOException {
        assertFails(
                replaceLine(complete(), "    - " + FRAUD_CANDIDATE, "    - " + FRAUD_LIVE),
                "models.candidates[0]",
                "live model's name and version");
    }

    @Test
    void descriptorThatDoesNotExist() throws IOException {
        String missing = dir.resolve("nope/model.json").toString();
        assertFails(
                replaceLine(complete(), "  live: " + FRAUD_LIVE, "  live: " + missing),
                "models.live",
                missing,
                "does not exist");
        assertFails(
                replaceLine(complete(), "    - " + FRAUD_CANDIDATE, "    - " + missing),
                "models.candidates[0]",
                "does not exist");
    }

    @Test
    void sampleRateAboveOne() throws IOException {
        assertFails(
                replaceLine(complete(), "scored_events_sample_rate: 0.25", "scored_events_sample_rate: 1.5"),
                "scored_events_sample_rate",
                "1.5");
    }

    @Test
    void labelMaturityDefaultsToTheHorizonAndCannotExceedIt() throws IOException {
        ShadowJobConfig c = ShadowJobConfig.load(write(complete()));
        assertEquals(Duration.ofDays(7), c.labelMaturity);
        assertEquals(
                Duration.ofDays(3),
                ShadowJobConfig.load(write(
                                replaceLine(complete(), "label_horizon: 7d", "label_horizon: 7d\nlabel_maturity: 3d")))
                        .labelMaturity);
        assertFails(
                replaceLine(complete(), "label_horizon: 7d", "label_horizon: 7d\nlabel_maturity: 8d"),
                "label_maturity",
                "longer than label_horizon");
    }

    @Test
    void sampleRateAndSampleBy() throws IOException {
        ShadowJobConfig all = ShadowJobConfig.load(write(complete()));
        assertEquals(1.0, all.sampleRate);
        assertFalse(all.sampleByEntity);
        ShadowJobConfig tenth = ShadowJobConfig.load(write(replaceLine(
                complete(), "label_horizon: 7d", "label_horizon: 7d\nsample_rate: 0.1\nsample_by: entity_id")));
        assertEquals(0.1, tenth.sampleRate);
        assertTrue(tenth.sampleByEntity);
        assertFails(
                replaceLine(complete(), "label_horizon: 7d", "label_horizon: 7d\nsample_rate: 0"),
                "sample_rate",
                "is 0");
        assertFails(
                replaceLine(complete(), "label_horizon: 7d", "label_horizon: 7d\nsample_rate: 2"), "sample_rate", "2");
        assertFails(
                replaceLine(complete(), "label_horizon: 7d", "label_horizon: 7d\nsample_by: user"),
                "sample_by",
                "request_id or entity_id");
    }

    @Test
    void candidateSampleRatesAreSharesOfTheTrafficWithinTheSample() throws IOException {
        ShadowJobConfig all = ShadowJobConfig.load(write(complete()));
        String candidate = all.candidateModels.get(0).id();
        assertEquals(
                List.of(1.0, 1.0), Arrays.stream(all.modelSampleRates).boxed().toList());
        String rates = "label_horizon: 7d\nsample_rate: 0.5\ncandidate_sample_rates: {\"" + candidate + "\": 0.2}";
        ShadowJobConfig own = ShadowJobConfig.load(write(replaceLine(complete(), "label_horizon: 7d", rates)));
        assertEquals(
                List.of(0.5, 0.2), Arrays.stream(own.modelSampleRates).boxed().toList());
        assertFails(
                replaceLine(complete(), "label_horizon: 7d", rates.replace("0.2}", "0.6}")),
                "candidate_sample_rates." + candidate,
                "(0, sample_rate = 0.5]");
        assertFails(
                replaceLine(
                        complete(),
                        "label_horizon: 7d",
                        "label_horizon: 7d\ncandidate_sample_rates: {\"nobody:1\": 0.1}"),
                "candidate_sample_rates.nobody:1",
                "is not a candidate");
    }

    @Test
    void noCandidates() throws IOException {
        String yaml = replaceLine(complete(), "  candidates:", "  candidates: []");
        yaml = replaceLine(yaml, "    - " + FRAUD_CANDIDATE, "");
        assertFails(yaml, "models.candidates", "at least one");
    }

    @Test
    void configThatIsNotAMapping() throws IOException {
        Path f = write("- just\n- a list\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ShadowJobConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void clientPropertyTheJobSetsItself() throws IOException {
        assertFails(
                replaceLine(complete(), "    sasl.mechanism: PLAIN", "    bootstrap.servers: elsewhere:9092"),
                "kafka.properties.bootstrap.servers",
                "set by the job");
    }

    @Test
    void sampleRateWithoutScoredEventsTopic() throws IOException {
        assertFails(
                replaceLine(complete(), "  scored_events: sco", ""),
                "scored_events_sample_rate",
                "topics.scored_events is not set");
    }

    @Test
    void vectorModelReadingAFieldRequestsDoNotHave() throws IOException {
        Path shipped = Path.of(FASHION_CANDIDATE).getParent();
        Path copy = Files.createDirectories(dir.resolve("embedding-model"));
        Files.copy(shipped.resolve("model.onnx"), copy.resolve("model.onnx"));
        String descriptor = Files.readString(shipped.resolve("model.json"));
        assertTrue(descriptor.contains("\"vector_field\": \"vector\""), descriptor);
        Files.writeString(
                copy.resolve("model.json"),
                descriptor.replace("\"vector_field\": \"vector\"", "\"vector_field\": \"embedding\""));
        String live = SHIPPED.resolve("fashion/live/model.json").toString();
        String yaml = replaceLine(complete(), "  live: " + FRAUD_LIVE, "  live: " + live);
        yaml = replaceLine(yaml, "    - " + FRAUD_CANDIDATE, "    - " + copy.resolve("model.json"));
        assertFails(yaml, "models.candidates[0]", "'embedding'", "'vector'");
    }

    @Test
    void documentedExampleLoads() {
        // jobs/examples/shadow-job.yaml is what jobs/README.md tells users to start from.
        ShadowJobConfig c = ShadowJobConfig.load(Path.of("examples/shadow-job.yaml"));
        assertEquals("fraud-logreg", c.liveModel.name());
        assertEquals("fraud-mlp", c.candidateModels.get(0).name());
    }

    @Test
    void writerSchemasAreCheckedAtStart() throws IOException {
        Path evolved = dir.resolve("request-v2.avsc");
        Files.writeString(
                evolved,
                io.shadowml.jobs.io.AvroDecodingDeserializerTest.evolvedRequestSchema()
                        .toString(true));
        ShadowJobConfig ok = ShadowJobConfig.load(write(complete() + "writer_schemas: [" + evolved + "]\n"));
        assertEquals(1, ok.writerSchemas.size());
        assertTrue(ok.writerSchemas.get(0).contains("device_type"));

        assertFails(
                complete() + "writer_schemas: [" + dir.resolve("missing.avsc") + "]\n",
                "writer_schemas[0]",
                "cannot read");
        Path notAvro = dir.resolve("broken.avsc");
        Files.writeString(notAvro, "{\"type\": \"record\"");
        assertFails(complete() + "writer_schemas: [" + notAvro + "]\n", "writer_schemas[0]", "not an Avro schema");
        Path other = dir.resolve("other.avsc");
        Files.writeString(other, "{\"type\": \"record\", \"name\": \"Click\", \"fields\": []}");
        assertFails(complete() + "writer_schemas: [" + other + "]\n", "writer_schemas[0]", "not a version of");
        // A Request whose request_id became an int cannot be resolved to the job's string field.
        Path incompatible = dir.resolve("request-int-id.avsc");
        Files.writeString(
                incompatible,
                "{\"type\": \"record\", \"name\": \"Request\", \"namespace\": \"io.shadowml.avro\","
                        + " \"fields\": [{\"name\": \"request_id\", \"type\": \"int\"}]}");
        assertFails(
                complete() + "writer_schemas: [" + incompatible + "]\n", "writer_schemas[0]", "cannot read records");
    }

    @Test
    void canaryArmsControlFirstSharesNormalisedDefaults() throws IOException {
        String canary = String.join(
                "\n",
                "canary:",
                "  arms: {canary: \"fraud-mlp:2.0.0\", prod: live}",
                "  expected_split: {prod: 9, canary: 1}",
                "  business_metric: {name: fraud_loss, feature: amount}",
                "");
        ShadowJobConfig c = ShadowJobConfig.load(write(complete() + canary));
        CanaryConfig k = c.canary;
        assertEquals(java.util.List.of("prod", "canary"), k.arms());
        assertEquals(0, k.armModels()[0]);
        assertEquals(1, k.armModels()[1]);
        assertEquals(0.9, k.expectedShares()[0], 1e-12);
        assertEquals(0.1, k.expectedShares()[1], 1e-12);
        assertEquals(c.verdict.alpha(), k.alpha());
        assertEquals(0.001, k.srmAlpha());
        assertEquals(c.labelHorizon, k.stickyTtl());
        assertEquals(CanaryConfig.When.MISSED_POSITIVE, k.business().when());
        assertEquals(null, ShadowJobConfig.load(write(complete())).canary);
    }

    @Test
    void canaryMistakesNameTheField() throws IOException {
        assertFails(
                complete() + "canary:\n  arms: {prod: live, canary: \"other:1\"}\n", "canary.arms.canary", "other:1");
        assertFails(
                complete() + "canary:\n  arms: {a: \"fraud-mlp:2.0.0\", b: \"fraud-mlp:2.0.0\"}\n",
                "canary.arms.b",
                "already serves");
        assertFails(
                complete()
                        + "canary:\n  arms: {prod: live, canary: \"fraud-mlp:2.0.0\"}\n  expected_split: {prod: 1}\n",
                "canary.expected_split",
                "prod",
                "canary");
        assertFails(
                complete()
                        + "canary:\n  arms: {prod: live, canary: \"fraud-mlp:2.0.0\"}\n"
                        + "  business_metric: {name: loss, feature: amount, when: sometimes}\n",
                "canary.business_metric.when",
                "missed_positive");
        assertFails(
                complete() + "canary:\n  arms: {prod: live, canary: \"fraud-mlp:2.0.0\"}\n  margn: 0.1\n",
                "canary.margn",
                "not a known setting");
    }
}
