package io.shadowml.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A mapping that cannot work fails at start, naming the file, the field and the path. */
class InputsConfigTest {
    private static final Path SHIPPED =
            Path.of("../models/shipped").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private Path write(String inputs) throws Exception {
        String yaml = String.join(
                "\n",
                "experiment_id: inputs",
                "kafka:",
                "  bootstrap_servers: localhost:9092",
                "topics: {requests: req, labels: lab, reports: rep, verdicts: ver, dead_letter: dlq}",
                "models:",
                "  live: " + SHIPPED.resolve("fraud/live/model.json"),
                "  candidates: [" + SHIPPED.resolve("fraud/candidate/model.json") + "]",
                inputs,
                "");
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private void assertRejected(String inputs, String field, String problem) throws Exception {
        Path file = write(inputs);
        ConfigException e = assertThrows(ConfigException.class, () -> ShadowJobConfig.load(file), inputs);
        assertTrue(
                e.getMessage().startsWith(file + ": field '" + field + "': "),
                () -> "expected field " + field + " in: " + e.getMessage());
        assertTrue(e.getMessage().contains(problem), () -> "expected '" + problem + "' in: " + e.getMessage());
    }

    @Test
    void theDefaultIsTheJobsOwnAvro() throws Exception {
        ShadowJobConfig cfg = ShadowJobConfig.load(write(""));
        assertEquals(InputsConfig.Format.SHADOWML_AVRO, cfg.requestInput.format);
        assertEquals(InputsConfig.Format.SHADOWML_AVRO, cfg.labelInput.format);
        ShadowJobConfig json = ShadowJobConfig.load(write("inputs: {requests: {format: JSON}}"));
        assertEquals(InputsConfig.Format.JSON, json.requestInput.format);
        assertEquals(InputsConfig.Format.SHADOWML_AVRO, json.labelInput.format);
    }

    @Test
    void badMappingsFailAtStart() throws Exception {
        assertRejected("inputs: {requests: {format: protobuf}}", "inputs.requests.format", "must be one of");
        assertRejected(
                "inputs: {requests: {fields: {request_id: id}}}",
                "inputs.requests.fields",
                "applies to format json or registry-avro");
        assertRejected(
                "inputs: {requests: {format: json, fields: {request_id: \"a..b\"}}}",
                "inputs.requests.fields.request_id",
                "empty field name");
        assertRejected(
                "inputs: {requests: {format: json, fields: {request_id: \"scores[x]\"}}}",
                "inputs.requests.fields.request_id",
                "array index");
        assertRejected(
                "inputs: {requests: {format: json, fields: {request_id: $timestamp}}}",
                "inputs.requests.fields.request_id",
                "$timestamp is a time");
        assertRejected(
                "inputs: {requests: {format: json, fields: {event_time: $key}}}",
                "inputs.requests.fields.event_time",
                "$key is not a time");
        assertRejected(
                "inputs: {requests: {format: json, fields: {event_time_format: epoch_days}}}",
                "inputs.requests.fields.event_time_format",
                "must be one of epoch_ms, epoch_s, epoch_us, iso8601");
        assertRejected(
                "inputs: {requests: {format: json, fields: {features: {amonut: txn.amount}}}}",
                "inputs.requests.fields.features.amonut",
                "no model reads a feature 'amonut'");
        assertRejected(
                "inputs: {requests: {format: json, fields: {feature_defaults: {amount: \"zero\"}}}}",
                "inputs.requests.fields.feature_defaults.amount",
                "must be a finite number");
        assertRejected(
                "inputs: {requests: {format: json, fields: {reqest_id: id}}}",
                "inputs.requests.fields.reqest_id",
                "is not a known setting");
        assertRejected(
                "inputs: {labels: {format: json, fields: {class_names: [a, b, c]}}}",
                "inputs.labels.fields.class_names",
                "lists 3 names, the models have 2 classes");
        assertRejected(
                "inputs: {labels: {format: json, registry: {url: \"http://r\"}}}",
                "inputs.labels.registry",
                "applies to format registry-avro only");
        assertRejected(
                "inputs: {labels: {format: registry-avro}}",
                "inputs.labels.registry",
                "is required for format registry-avro");
        assertRejected(
                "inputs: {labels: {format: registry-avro, registry: {url: \"ftp://r\"}}}",
                "inputs.labels.registry.url",
                "must be an http:// or https:// URL");
        assertRejected(
                "inputs: {labels: {format: registry-avro, registry: {schemas: {one: a.avsc}}}}",
                "inputs.labels.registry.schemas.one",
                "schema ids");
        assertRejected(
                "inputs: {labels: {format: registry-avro, registry: {schemas: {\"1\": missing.avsc}}}}",
                "inputs.labels.registry.schemas.1",
                "cannot read");
        assertRejected("inputs: {tables: {}}", "inputs.tables", "is not a known setting");
    }

    @Test
    void aLiveModelThatIsNotOnnxIsDeclaredAsLogged() throws Exception {
        String yaml = Files.readString(write(""))
                .replace(
                        "  live: " + SHIPPED.resolve("fraud/live/model.json"),
                        "  live: {source: logged, name: fraud-gbm, version: '7.1', threshold: 0.35}");
        Path file = dir.resolve("logged.yaml");
        Files.writeString(file, yaml);
        ShadowJobConfig cfg = ShadowJobConfig.load(file);
        assertTrue(cfg.liveModel.isLogged());
        assertEquals("fraud-gbm:7.1", cfg.liveModel.id());
        assertEquals(0.35, cfg.liveModel.threshold());
        assertEquals(cfg.candidateModels.get(0).task(), cfg.liveModel.task());
        assertEquals(cfg.candidateModels.get(0).featureNames(), cfg.liveModel.featureNames());
        for (String[] bad : new String[][] {
            {"{source: onnx, name: a, version: '1'}", "models.live.source", "must be 'logged'"},
            {"{source: logged, name: 'a b', version: '1'}", "models.live.name", "must match"},
            {"{source: logged, name: a}", "models.live.version", "is required"},
            {"{source: logged, name: a, version: '1', treshold: 0.4}", "models.live.treshold", "not a known setting"},
        }) {
            Files.writeString(
                    file, yaml.replace("{source: logged, name: fraud-gbm, version: '7.1', threshold: 0.35}", bad[0]));
            ConfigException e = assertThrows(ConfigException.class, () -> ShadowJobConfig.load(file), bad[0]);
            assertTrue(e.getMessage().contains("field '" + bad[1] + "'"), e.getMessage());
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
        }
    }

    @Test
    void mappedPathsAreCheckedAgainstTheListedWriterSchemas() throws Exception {
        Files.writeString(
                dir.resolve("chargeback.avsc"),
                "{\"type\": \"record\", \"name\": \"Chargeback\", \"fields\": [{\"name\": \"txn_id\", \"type\": \"string\"},"
                        + " {\"name\": \"decided\", \"type\": \"long\"}, {\"name\": \"outcome\", \"type\": {\"type\": \"map\","
                        + " \"values\": \"boolean\"}}]}");
        String base =
                "inputs: {labels: {format: registry-avro, registry: {schemas: {\"3\": chargeback.avsc}}, fields: ";
        // A map may hold any key; a record only its fields.
        ShadowJobConfig.load(write(base + "{request_id: txn_id, label_time: decided, value: outcome.fraud}}}"));
        assertRejected(
                base + "{request_id: txn.id, label_time: decided, value: outcome.fraud}}}",
                "inputs.labels.fields.request_id",
                "path 'txn.id' is not in schema id 3");
        assertRejected(
                base + "{request_id: txn_id, label_time: decided.at, value: outcome.fraud}}}",
                "inputs.labels.fields.label_time",
                "'decided' is long in the schema, not a record or map");
    }
}
