package io.shadowml.deploy;

import static io.shadowml.deploy.RolloutGates.ERROR;
import static io.shadowml.deploy.RolloutGates.FAILED;
import static io.shadowml.deploy.RolloutGates.INCONCLUSIVE;
import static io.shadowml.deploy.RolloutGates.RUNNING;
import static io.shadowml.deploy.RolloutGates.SUCCESSFUL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * The rollout gates of deploy/kubernetes/rollout-gates (Argo Rollouts AnalysisTemplates, Flagger
 * MetricTemplates) without a cluster: only fields the CRDs have (argo-rollouts v1.8
 * pkg/apis/rollouts/v1alpha1/analysis_types.go and its validation of a metric; flagger
 * pkg/apis/flagger/v1beta1/metric.go), queries that read only the job's verdict and canary gauges, and
 * conditions / threshold ranges that map the gauges' codes to the decisions deploy/README.md documents
 * (evaluated and assessed as the controllers do, see {@link RolloutGates}). The Rollout of deploy/README.md
 * and the commented Flagger Canary must use the templates as they are.
 */
class RolloutGatesTest {
    private static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Path DEPLOY = KubernetesManifestsTest.deployDir();

    // argo-rollouts v1alpha1 JSON field names
    private static final Set<String> ANALYSIS_SPEC = Set.of("metrics", "args", "dryRun", "measurementRetention");
    private static final Set<String> ARGUMENT = Set.of("name", "value", "valueFrom");
    private static final Set<String> METRIC = Set.of(
            "name",
            "interval",
            "initialDelay",
            "count",
            "successCondition",
            "failureCondition",
            "failureLimit",
            "inconclusiveLimit",
            "consecutiveErrorLimit",
            "provider",
            "consecutiveSuccessLimit");
    private static final Set<String> PROMETHEUS_METRIC =
            Set.of("address", "query", "authentication", "timeout", "insecure", "headers", "rangeQuery");
    // flagger v1beta1
    private static final Set<String> METRIC_TEMPLATE_SPEC = Set.of("provider", "query");
    private static final Set<String> METRIC_TEMPLATE_PROVIDER =
            Set.of("type", "address", "headers", "secretRef", "region", "insecureSkipVerify");
    private static final Set<String> FLAGGER_FUNCTIONS =
            Set.of("name", "namespace", "target", "service", "ingress", "route", "interval", "variables");
    private static final Set<String> CANARY_METRIC =
            Set.of("name", "interval", "threshold", "thresholdRange", "query", "templateRef", "templateVariables");

    /** A Go duration as time.ParseDuration reads it (units h, m, s, ms, us, ns; no days). */
    private static final Pattern GO_DURATION = Pattern.compile("(\\d+(\\.\\d+)?(h|m|s|ms|us|ns))+");

    private static final Map<String, String> VALUES =
            Map.of("experiment", "fraud-mlp-v2", "arm", "canary", "model", "fraud-mlp:2.0.0");

    @TempDir
    Path tmp;

    // ------------------------------------------------------------------------ Argo Rollouts

    @Test
    void argoTemplatesHaveOnlyTheCrdsFieldsAndPassItsValidation() throws IOException {
        List<ObjectNode> templates = RolloutGates.argo(DEPLOY);
        assertEquals(
                Set.of("shadowml-canary-verdict", "shadowml-canary-guards", "shadowml-shadow-verdict"),
                names(templates));
        for (ObjectNode t : templates) {
            String where = t.path("metadata").path("name").asText() + ": ";
            assertEquals("argoproj.io/v1alpha1", t.path("apiVersion").asText(), where);
            assertEquals("AnalysisTemplate", t.path("kind").asText(), where);
            JsonNode spec = t.path("spec");
            assertFields(spec, ANALYSIS_SPEC, where + "spec");
            Set<String> declared = new TreeSet<>();
            for (JsonNode a : spec.path("args")) {
                assertFields(a, ARGUMENT, where + "arg");
                assertTrue(declared.add(a.path("name").asText()), where + "duplicate arg " + a);
                assertTrue(a.path("value").isMissingNode() || a.path("value").isTextual(), where + "string value " + a);
            }
            assertTrue(declared.contains("experiment"), where + "arg experiment");
            assertTrue(declared.contains("prometheus-address"), where + "arg prometheus-address");
            Set<String> used = new TreeSet<>();
            Set<String> metricNames = new HashSet<>();
            assertFalse(spec.path("metrics").isEmpty(), where + "metrics");
            for (JsonNode m : spec.path("metrics")) {
                String mw = where + m.path("name").asText() + ": ";
                assertFields(m, METRIC, mw);
                assertTrue(metricNames.add(m.path("name").asText()), mw + "unique metric name");
                validateMetric(m, mw);
                assertEquals(Set.of("prometheus"), fieldNames(m.path("provider")), mw + "provider");
                JsonNode prom = m.path("provider").path("prometheus");
                assertFields(prom, PROMETHEUS_METRIC, mw + "prometheus");
                assertEquals("{{args.prometheus-address}}", prom.path("address").asText(), mw + "address");
                assertFalse(prom.path("query").asText().isBlank(), mw + "query");
                assertTrue(m.has("successCondition") || m.has("failureCondition"), mw + "a condition");
                used.addAll(RolloutGates.argRefs(m.toString()));
            }
            assertEquals(declared, used, where + "every arg declared is used, every arg used is declared");
        }
    }

    /** utils/analysis/factory.go ValidateMetric (the limits and counts part). */
    private static void validateMetric(JsonNode m, String where) {
        int count = m.path("count").asInt(0);
        int failureLimit = m.path("failureLimit").asInt(0);
        int successLimit = m.path("consecutiveSuccessLimit").asInt(0);
        int inconclusiveLimit = m.path("inconclusiveLimit").asInt(0);
        for (String f : List.of(
                "count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit")) {
            assertTrue(m.path(f).isMissingNode() || m.path(f).isInt(), where + f + " is an integer here");
        }
        assertTrue(successLimit >= 0, where + "consecutiveSuccessLimit >= 0");
        assertTrue(failureLimit >= -1, where + "failureLimit >= -1");
        assertFalse(successLimit == 0 && failureLimit == -1, where + "not both disabled");
        assertTrue(inconclusiveLimit >= 0, where + "inconclusiveLimit >= 0");
        assertTrue(m.path("consecutiveErrorLimit").asInt(0) >= 0, where + "consecutiveErrorLimit >= 0");
        if (count > 0) {
            if (failureLimit >= 0) {
                assertTrue(
                        count >= failureLimit + successLimit,
                        where + "count >= failureLimit + consecutiveSuccessLimit");
            } else {
                assertTrue(count >= successLimit, where + "count >= consecutiveSuccessLimit");
            }
            assertTrue(count >= inconclusiveLimit, where + "count >= inconclusiveLimit");
        }
        assertFalse(count > 1 && !m.has("interval"), where + "interval with count > 1");
        for (String d : List.of("interval", "initialDelay")) {
            if (m.has(d)) {
                assertTrue(GO_DURATION.matcher(m.path(d).asText()).matches(), where + d + " " + m.path(d));
            }
        }
    }

    @Test
    void argoConditionsMapTheGaugeCodes() throws IOException {
        Map<String, JsonNode> metrics = argoMetrics();
        Map<String, String> guardArgs = RolloutGates.args(template("shadowml-canary-guards"), VALUES);
        Map<String, String> args = new LinkedHashMap<>(VALUES);

        // canary verdict: -1 ROLLBACK, 0 CONTINUE, 1 PROCEED; no series (no data yet) decides nothing
        JsonNode canary = metrics.get("canary-verdict");
        assertEquals(SUCCESSFUL, RolloutGates.measure(canary, args, 1));
        assertEquals(INCONCLUSIVE, RolloutGates.measure(canary, args, 0));
        assertEquals(FAILED, RolloutGates.measure(canary, args, -1));
        assertEquals(INCONCLUSIVE, RolloutGates.measure(canary, args));
        // shadow verdict: -1 REJECT, 0 CONTINUE, 1 PROMOTE
        JsonNode shadow = metrics.get("shadow-verdict");
        assertEquals(SUCCESSFUL, RolloutGates.measure(shadow, args, 1));
        assertEquals(INCONCLUSIVE, RolloutGates.measure(shadow, args, 0));
        assertEquals(FAILED, RolloutGates.measure(shadow, args, -1));
        assertEquals(INCONCLUSIVE, RolloutGates.measure(shadow, args));
        // sample ratio mismatch 0/1
        JsonNode srm = metrics.get("sample-ratio");
        assertEquals(FAILED, RolloutGates.measure(srm, guardArgs, 1));
        assertEquals(SUCCESSFUL, RolloutGates.measure(srm, guardArgs, 0));
        assertEquals(SUCCESSFUL, RolloutGates.measure(srm, guardArgs));
        // the arm's error rate against max-error-rate (0.01 by default); NaN = nothing scored yet
        JsonNode errors = metrics.get("arm-error-rate");
        assertEquals("0.01", guardArgs.get("max-error-rate"));
        assertEquals(FAILED, RolloutGates.measure(errors, guardArgs, 0.02));
        assertEquals(SUCCESSFUL, RolloutGates.measure(errors, guardArgs, 0.01));
        assertEquals(SUCCESSFUL, RolloutGates.measure(errors, guardArgs, 0.0));
        assertEquals(SUCCESSFUL, RolloutGates.measure(errors, guardArgs, Double.NaN));
        assertEquals(SUCCESSFUL, RolloutGates.measure(errors, guardArgs));
        Map<String, String> strict = new LinkedHashMap<>(guardArgs);
        strict.put("max-error-rate", "0.001");
        assertEquals(FAILED, RolloutGates.measure(errors, strict, 0.002));

        // The evaluator itself: result[0] of no data is an error (why every condition tests len first).
        assertThrows(
                RolloutGates.Condition.EvalException.class,
                () -> new RolloutGates.Condition("result[0] == 1", new double[0]).evaluate());
        assertTrue(
                new RolloutGates.Condition("!(result[0] != -1) || isNaN(result[1])", new double[] {-1, 2}).evaluate());
        assertFalse(
                new RolloutGates.Condition("result[0] == 1 && result[1] > 1e-3", new double[] {1, 1e-4}).evaluate());
    }

    @Test
    void theCanaryGateWaitsWeeksForADecision() throws IOException {
        JsonNode gate = argoMetrics().get("canary-verdict");
        assertEquals("1h", gate.path("interval").asText());
        int count = gate.path("count").asInt();
        assertTrue(count >= 14 * 24, "at least two weeks of hourly readings: " + count);

        // Undecided for days, then PROCEED twice in a row: Successful at once, no waiting for the count.
        assertEquals(SUCCESSFUL, run(gate, 0, 24 * 5, 1, 1), "CONTINUE x120, PROCEED x2");
        assertEquals(24 * 5 + 2, last.measurements);
        // A single PROCEED between CONTINUEs is not enough.
        assertEquals(RUNNING, run(gate, 0, 10, 1, 0, 1));
        assertEquals(SUCCESSFUL, run(gate, 0, 10, 1, 0, 1, 1));
        // The first ROLLBACK ends it, after any number of CONTINUEs and missing data.
        assertEquals(FAILED, run(gate, 0, 300, -1));
        assertEquals(301, last.measurements);
        assertEquals(FAILED, runValues(gate, new double[][] {{}, {}, {0}, {-1}}));
        // No data for a day does not end it.
        assertEquals(RUNNING, runValues(gate, repeat(new double[0], 24)));
        // Undecided through the whole count: Inconclusive (the Rollout pauses for a human), not before.
        assertEquals(RUNNING, run(gate, 0, count - 1));
        assertEquals(INCONCLUSIVE, run(gate, 0, count));
        // PROCEED only at the very end of the count, once: still Inconclusive.
        assertEquals(INCONCLUSIVE, run(gate, 0, count - 1, 1));
        // Prometheus unreachable: errors are retried every 10 s; consecutiveErrorLimit of them end it.
        int errors = gate.path("consecutiveErrorLimit").asInt();
        assertTrue(errors * 10 >= 300, "tolerates 5 minutes of errors: " + errors);
        RolloutGates.Assessment a = new RolloutGates.Assessment(gate);
        for (int i = 0; i < errors; i++) {
            assertEquals(RUNNING, a.add(ERROR));
        }
        assertEquals(RUNNING, a.add(INCONCLUSIVE), "a reading resets the error streak");
        for (int i = 0; i < errors; i++) {
            a.add(ERROR);
        }
        assertEquals(ERROR, a.add(ERROR));
    }

    @Test
    void theGuardsRunUntilTheRolloutEndsAndAbortOnTwoFailedReadings() throws IOException {
        Map<String, JsonNode> metrics = argoMetrics();
        for (String name : List.of("sample-ratio", "arm-error-rate")) {
            JsonNode guard = metrics.get(name);
            assertEquals(null, RolloutGates.effectiveCount(guard), name + ": no count, runs until terminated");
            assertEquals(1, guard.path("failureLimit").asInt(), name);
        }
        JsonNode srm = metrics.get("sample-ratio");
        assertEquals(RUNNING, run(srm, 0, 24 * 4 * 30), "a month without mismatch");
        assertEquals(RUNNING, runValues(srm, new double[][] {{0}, {}, {1}, {0}}), "one mismatch reading");
        assertEquals(FAILED, runValues(srm, new double[][] {{0}, {1}, {0}, {1}}));
        JsonNode errors = metrics.get("arm-error-rate");
        assertEquals(FAILED, runValues(errors, new double[][] {{0.0}, {0.05}, {Double.NaN}, {0.03}}));
        assertEquals(RUNNING, runValues(errors, new double[][] {{Double.NaN}, {}, {0.001}, {0.009}}));

        JsonNode shadow = metrics.get("shadow-verdict");
        assertEquals(1, RolloutGates.effectiveCount(shadow), "one measurement");
        assertEquals(SUCCESSFUL, run(shadow, 1, 1));
        assertEquals(FAILED, run(shadow, -1, 1));
        assertEquals(INCONCLUSIVE, run(shadow, 0, 1));
        assertEquals(INCONCLUSIVE, runValues(shadow, new double[][] {{}}));
    }

    // ------------------------------------------------------------------------------ Flagger

    @Test
    void flaggerTemplatesHaveOnlyTheCrdsFields() throws IOException {
        List<ObjectNode> templates = RolloutGates.flagger(DEPLOY);
        assertEquals(
                Set.of("shadowml-canary-verdict", "shadowml-sample-ratio", "shadowml-arm-error-rate"),
                names(templates));
        for (ObjectNode t : templates) {
            String where = t.path("metadata").path("name").asText() + ": ";
            assertEquals("flagger.app/v1beta1", t.path("apiVersion").asText(), where);
            assertEquals("MetricTemplate", t.path("kind").asText(), where);
            assertFields(t.path("spec"), METRIC_TEMPLATE_SPEC, where + "spec");
            assertFields(t.path("spec").path("provider"), METRIC_TEMPLATE_PROVIDER, where + "provider");
            assertEquals(
                    "prometheus", t.path("spec").path("provider").path("type").asText(), where);
            assertTrue(t.path("spec").path("provider").path("address").asText().startsWith("http"), where + "address");
            String query = t.path("spec").path("query").asText();
            for (String action : RolloutGates.flaggerActions(query)) {
                String function = action.split("[.\\s]", 2)[0];
                assertTrue(FLAGGER_FUNCTIONS.contains(function), where + "template function " + function);
            }
            assertTrue(RolloutGates.flaggerVariables(query).contains("experiment"), where + "variables.experiment");
            assertTrue(
                    query.strip().endsWith("or on() vector(0)"),
                    where + "a value while the arm has no data (no value = a failed check)");
            assertThrows(
                    IllegalArgumentException.class,
                    () -> RolloutGates.renderFlagger(query, Map.of()),
                    where + "a variable the Canary does not set is an error");
        }
    }

    @Test
    void theFlaggerCanaryExampleUsesTheTemplatesAndItsThresholdsMapTheCodes() throws IOException {
        Map<String, ObjectNode> templates = new LinkedHashMap<>();
        RolloutGates.flagger(DEPLOY)
                .forEach(t -> templates.put(t.path("metadata").path("name").asText(), t));
        JsonNode canary = commentedCanary();
        assertEquals("flagger.app/v1beta1", canary.path("apiVersion").asText());
        assertEquals("Canary", canary.path("kind").asText());
        JsonNode analysis = canary.path("spec").path("analysis");
        assertTrue(GO_DURATION.matcher(analysis.path("interval").asText()).matches(), "analysis.interval");
        assertTrue(analysis.path("threshold").asInt() >= 1, "threshold");
        assertEquals(
                analysis.path("stepWeight").asInt(),
                analysis.path("maxWeight").asInt(),
                "one weight for the whole analysis (the job tests the split against expected_split)");
        assertEquals(canaryPercent(), analysis.path("maxWeight").asDouble(), 1e-9, "maxWeight = the canary's share");

        Map<String, JsonNode> ranges = new LinkedHashMap<>();
        for (JsonNode m : analysis.path("metrics")) {
            String name = m.path("name").asText();
            assertFields(m, CANARY_METRIC, "Canary metric " + name);
            ObjectNode t = templates.get(m.path("templateRef").path("name").asText());
            assertNotNull(t, name + ": templateRef names a template of the file");
            Map<String, String> variables = new LinkedHashMap<>();
            m.path("templateVariables")
                    .fields()
                    .forEachRemaining(
                            e -> variables.put(e.getKey(), e.getValue().asText()));
            assertEquals(
                    RolloutGates.flaggerVariables(t.path("spec").path("query").asText()),
                    variables.keySet(),
                    name + ": templateVariables = the variables the query uses");
            RolloutGates.renderFlagger(t.path("spec").path("query").asText(), variables);
            assertTrue(m.has("thresholdRange"), name + ": thresholdRange");
            ranges.put(t.path("metadata").path("name").asText(), m.path("thresholdRange"));
        }
        assertEquals(templates.keySet(), ranges.keySet(), "the example uses every template");

        JsonNode verdict = ranges.get("shadowml-canary-verdict");
        assertFalse(RolloutGates.flaggerPasses(verdict, -1), "ROLLBACK fails the check");
        assertTrue(RolloutGates.flaggerPasses(verdict, 0), "CONTINUE passes");
        assertTrue(RolloutGates.flaggerPasses(verdict, 1), "PROCEED passes");
        JsonNode srm = ranges.get("shadowml-sample-ratio");
        assertFalse(RolloutGates.flaggerPasses(srm, 1));
        assertTrue(RolloutGates.flaggerPasses(srm, 0));
        JsonNode errors = ranges.get("shadowml-arm-error-rate");
        assertFalse(RolloutGates.flaggerPasses(errors, 0.02));
        assertTrue(RolloutGates.flaggerPasses(errors, 0.005));
        assertTrue(RolloutGates.flaggerPasses(errors, 0)); // the fallback value, and what `>= 0` keeps of NaN

        // Promotion waits for PROCEED: a confirm-promotion hook whose query selects verdict == 1.
        JsonNode hook = null;
        for (JsonNode h : analysis.path("webhooks")) {
            if (h.path("type").asText().equals("confirm-promotion")) {
                hook = h;
            }
        }
        assertNotNull(hook, "a confirm-promotion webhook");
        String cmd = hook.path("metadata").path("cmd").asText();
        assertTrue(cmd.contains(RolloutGates.PREFIX + "arm_canary_verdict{") && cmd.contains(") == 1"), cmd);
        assertOnlyJobGauges(cmd, "confirm-promotion hook");
    }

    // --------------------------------------------------------------------------- both tools

    @Test
    void everyQueryReadsOnlyTheJobsGaugesAggregatedByItsLabels() throws IOException {
        List<RolloutGates.Query> queries = RolloutGates.queries(DEPLOY, VALUES);
        assertEquals(
                7,
                queries.size(),
                "queries: " + queries.stream().map(RolloutGates.Query::id).toList());
        for (RolloutGates.Query q : queries) {
            assertFalse(q.promql().contains("{{"), q.id() + ": every placeholder filled: " + q.promql());
            Set<String> gauges = assertOnlyJobGauges(q.promql(), q.id());
            assertEquals(1, gauges.size(), q.id() + ": one gauge");
            String gauge = gauges.iterator().next();
            assertTrue(q.promql().contains("experiment=\"fraud-mlp-v2\""), q.id() + ": selects the experiment");
            String by = gauge.contains("_arm_")
                    ? "by (experiment, arm)"
                    : gauge.endsWith("model_verdict") ? "by (experiment, model)" : "by (experiment)";
            if (gauge.contains("_arm_")) {
                assertTrue(q.promql().contains("arm=\"canary\""), q.id() + ": selects the arm");
            }
            // Every subtask with data reports the gauge: aggregate; a verdict with min (ROLLBACK anywhere
            // counts, PROCEED needs all), a guard with max (a mismatch or error rate anywhere counts).
            String aggregation = gauge.endsWith("verdict") ? "min " + by : "max " + by;
            assertTrue(q.promql().replaceAll("\\s+", " ").contains(aggregation + " ("), q.id() + ": " + aggregation);
        }
    }

    @Test
    void everyQueryIsValidPromQl() throws Exception {
        Path promtool = Path.of(System.getProperty("promtool.binary", "/usr/bin/promtool"));
        assumeTrue(Files.isExecutable(promtool), "promtool not installed (Debian package prometheus)");
        StringBuilder rules = new StringBuilder("groups:\n  - name: rollout-gates\n    rules:\n");
        int i = 0;
        for (RolloutGates.Query q : RolloutGates.queries(DEPLOY, VALUES)) {
            rules.append("      - record: shadowml:rollout_gate:").append(i++).append('\n');
            rules.append("        expr: ")
                    .append(new ObjectMapper().writeValueAsString(q.promql()))
                    .append('\n');
        }
        Path file = tmp.resolve("gates.yml");
        Files.writeString(file, rules);
        Process p = new ProcessBuilder(promtool.toString(), "check", "rules", file.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, p.exitValue(), "promtool check rules:\n" + out + "\n" + rules);
        assertTrue(out.contains("SUCCESS: " + i + " rules found"), out);
    }

    @Test
    void theReadmeRolloutReferencesTheTemplatesWithTheirRequiredArgs() throws IOException {
        Map<String, ObjectNode> templates = new LinkedHashMap<>();
        RolloutGates.argo(DEPLOY)
                .forEach(t -> templates.put(t.path("metadata").path("name").asText(), t));
        JsonNode rollout = readmeYaml("kind: Rollout");
        assertEquals("argoproj.io/v1alpha1", rollout.path("apiVersion").asText());
        JsonNode canary = rollout.path("spec").path("strategy").path("canary");
        List<JsonNode> analyses = new ArrayList<>();
        analyses.add(canary.path("analysis"));
        JsonNode steps = canary.path("steps");
        int weightStep = -1;
        int gateStep = -1;
        for (int s = 0; s < steps.size(); s++) {
            JsonNode step = steps.get(s);
            if (step.has("analysis")) {
                analyses.add(step.path("analysis"));
                for (JsonNode ref : step.path("analysis").path("templates")) {
                    if (ref.path("templateName").asText().equals("shadowml-canary-verdict")) {
                        gateStep = s;
                    }
                    if (ref.path("templateName").asText().equals("shadowml-shadow-verdict")) {
                        assertEquals(-1, weightStep, "the shadow verdict gates before any traffic");
                    }
                }
            }
            if (step.has("setWeight")) {
                assertEquals(-1, gateStep, "no weight change after the canary gate (the split is tested)");
                assertEquals(-1, weightStep, "one canary weight: the split is tested against expected_split");
                weightStep = s;
                assertEquals(canaryPercent(), step.path("setWeight").asDouble(), 1e-9, "setWeight = canary share");
            }
        }
        assertTrue(weightStep >= 0 && gateStep > weightStep, "the canary gate follows the weight step");
        assertEquals(weightStep, canary.path("analysis").path("startingStep").asInt(), "guards from the weight on");
        Set<String> referenced = new TreeSet<>();
        for (JsonNode analysis : analyses) {
            Map<String, String> given = new LinkedHashMap<>();
            analysis.path("args")
                    .forEach(a ->
                            given.put(a.path("name").asText(), a.path("value").asText()));
            for (JsonNode ref : analysis.path("templates")) {
                ObjectNode t = templates.get(ref.path("templateName").asText());
                assertNotNull(t, "template " + ref);
                referenced.add(ref.path("templateName").asText());
                for (JsonNode a : t.path("spec").path("args")) {
                    if (!a.has("value") && !a.has("valueFrom")) {
                        assertTrue(given.containsKey(a.path("name").asText()), ref + ": required arg " + a);
                    }
                }
                Set<String> declared = new TreeSet<>();
                t.path("spec")
                        .path("args")
                        .forEach(a -> declared.add(a.path("name").asText()));
                assertTrue(declared.containsAll(given.keySet()), ref + ": args " + given.keySet() + " declared");
                // Every query resolves with these args.
                for (JsonNode m : t.path("spec").path("metrics")) {
                    RolloutGates.substituteArgs(m.toString(), RolloutGates.args(t, given));
                }
            }
        }
        assertEquals(templates.keySet(), referenced, "the README's Rollout uses every template");
        // served_by comes from the Rollout's ephemeral labels: the arms of the job's canary section.
        Set<String> arms = new TreeSet<>();
        canary.path("canaryMetadata").path("labels").elements().forEachRemaining(v -> arms.add(v.asText()));
        canary.path("stableMetadata").path("labels").elements().forEachRemaining(v -> arms.add(v.asText()));
        assertEquals(localArms(), arms, "served_by values = canary.arms of deploy/local/shadow-job.local.yaml");
    }

    // ----------------------------------------------------------------------------- helpers

    /** The metric names a PromQL text reads; fails on any that is not one of the job's gauges listed. */
    private static Set<String> assertOnlyJobGauges(String promql, String where) {
        Set<String> found = new TreeSet<>();
        // A selector is a metric name followed by { (label matchers); every flink_* name is a gauge.
        Matcher selector = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{").matcher(promql);
        while (selector.find()) {
            found.add(selector.group(1));
        }
        Matcher flink = Pattern.compile("\\bflink_[a-zA-Z0-9_:]+").matcher(promql);
        while (flink.find()) {
            found.add(flink.group());
        }
        assertFalse(found.isEmpty(), where + ": reads a gauge");
        for (String name : found) {
            assertTrue(RolloutGates.GAUGES.contains(name), where + ": " + name + " is not one of the job's gauges");
        }
        return found;
    }

    private Map<String, JsonNode> argoMetrics() throws IOException {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (ObjectNode t : RolloutGates.argo(DEPLOY)) {
            t.path("spec").path("metrics").forEach(m -> out.put(m.path("name").asText(), m));
        }
        return out;
    }

    private static ObjectNode template(String name) throws IOException {
        for (ObjectNode t : RolloutGates.argo(DEPLOY)) {
            if (t.path("metadata").path("name").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no template " + name);
    }

    private RolloutGates.Assessment last;

    /** Assesses {@code times} readings of {@code value}, then one reading of each of {@code then}. */
    private String run(JsonNode metric, double value, int times, double... then) {
        double[][] values = new double[times + then.length][];
        for (int i = 0; i < times; i++) {
            values[i] = new double[] {value};
        }
        for (int i = 0; i < then.length; i++) {
            values[times + i] = new double[] {then[i]};
        }
        return runValues(metric, values);
    }

    /** Each entry: one Prometheus result (empty = no series). */
    private String runValues(JsonNode metric, double[][] results) {
        Map<String, String> args = new LinkedHashMap<>();
        try {
            for (ObjectNode t : RolloutGates.argo(DEPLOY)) {
                args.putAll(RolloutGates.args(t, VALUES));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        last = new RolloutGates.Assessment(metric);
        String phase = RUNNING;
        for (double[] r : results) {
            phase = last.add(RolloutGates.measure(metric, args, r));
        }
        return phase;
    }

    private static double[][] repeat(double[] r, int n) {
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = r;
        }
        return out;
    }

    /** The Flagger Canary example: the commented lines from "# apiVersion: flagger.app/v1beta1" on. */
    private static JsonNode commentedCanary() throws IOException {
        List<String> lines = Files.readAllLines(DEPLOY.resolve(RolloutGates.FLAGGER_FILE));
        int start = lines.indexOf("# apiVersion: flagger.app/v1beta1");
        assertTrue(start > 0, "commented Canary example");
        StringBuilder yaml = new StringBuilder();
        for (String l : lines.subList(start, lines.size())) {
            assertTrue(l.startsWith("#"), "the example runs to the end of the file: " + l);
            yaml.append(l.startsWith("# ") ? l.substring(2) : l.substring(1)).append('\n');
        }
        return YAML.readTree(yaml.toString());
    }

    /** The first ```yaml block of deploy/README.md that contains {@code marker}. */
    private static JsonNode readmeYaml(String marker) throws IOException {
        String readme = Files.readString(DEPLOY.resolve("README.md"));
        Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        while (m.find()) {
            if (m.group(1).contains(marker)) {
                return YAML.readTree(m.group(1));
            }
        }
        throw new AssertionError("no yaml block with " + marker + " in deploy/README.md");
    }

    private static JsonNode localCanary() throws IOException {
        // submit.sh fills in @KAFKA_BOOTSTRAP@ / @MODELS_DIR@ (a plain YAML scalar cannot start with @)
        String config =
                Files.readString(DEPLOY.resolve("local/shadow-job.local.yaml")).replaceAll("@(\\w+)@", "$1");
        JsonNode c = YAML.readTree(config).path("canary");
        assertFalse(c.isMissingNode(), "deploy/local/shadow-job.local.yaml has a canary section");
        return c;
    }

    private static Set<String> localArms() throws IOException {
        Set<String> arms = new TreeSet<>();
        localCanary().path("arms").fieldNames().forEachRemaining(arms::add);
        return arms;
    }

    /** The canary arm's share of expected_split in percent (the arm not served by live). */
    private static double canaryPercent() throws IOException {
        JsonNode c = localCanary();
        double total = 0;
        double canary = 0;
        for (var it = c.path("expected_split").fields(); it.hasNext(); ) {
            var e = it.next();
            total += e.getValue().asDouble();
            if (!c.path("arms").path(e.getKey()).asText().equals("live")) {
                canary += e.getValue().asDouble();
            }
        }
        return 100 * canary / total;
    }

    private static Set<String> names(List<ObjectNode> docs) {
        Set<String> out = new TreeSet<>();
        docs.forEach(d -> out.add(d.path("metadata").path("name").asText()));
        return out;
    }

    private static Set<String> fieldNames(JsonNode n) {
        Set<String> out = new TreeSet<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static void assertFields(JsonNode n, Set<String> allowed, String where) {
        assertTrue(n.isObject(), where + " is a mapping");
        for (String f : fieldNames(n)) {
            assertTrue(allowed.contains(f), where + ": field " + f + " is not in the CRD (" + allowed + ")");
        }
    }
}
