package io.shadowml.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The rollout gates of deploy/kubernetes/rollout-gates, as Argo Rollouts and Flagger use them: their
 * queries with the arguments / template variables filled in, the part of Argo's condition language
 * (expr) the templates use, Argo's measurement and metric assessment (analysis/analysis.go,
 * utils/evaluate/evaluate.go of argo-rollouts v1.8), and Flagger's thresholdRange check
 * (pkg/controller/scheduler_metrics.go). Shared by {@link RolloutGatesTest} (no cluster) and
 * {@link LocalClusterIT} (the queries against a real Prometheus).
 */
final class RolloutGates {
    static final String PREFIX = "flink_taskmanager_job_task_operator_experiment_";

    /** Every gauge a gate may read: the job's canary and shadow verdict gauges (deploy/README.md). */
    static final Set<String> GAUGES = Set.of(
            PREFIX + "arm_canary_verdict",
            PREFIX + "arm_canary_estimate",
            PREFIX + "arm_canary_cs_low",
            PREFIX + "arm_canary_cs_high",
            PREFIX + "arm_scored",
            PREFIX + "arm_share",
            PREFIX + "arm_expected_share",
            PREFIX + "arm_labelled",
            PREFIX + "arm_error_rate",
            PREFIX + "arm_accuracy",
            PREFIX + "arm_mean_loss",
            PREFIX + "arm_parity_flip_rate",
            PREFIX + "srm_e_value",
            PREFIX + "srm_mismatch",
            PREFIX + "sticky_violation_rate",
            PREFIX + "model_verdict");

    static final String ARGO_FILE = "kubernetes/rollout-gates/analysis-template.yaml";
    static final String FLAGGER_FILE = "kubernetes/rollout-gates/flagger-metric-template.yaml";

    private static final Pattern ARG = Pattern.compile("\\{\\{\\s*args\\.([\\w-]+)\\s*}}");
    private static final Pattern FLAGGER_ACTION = Pattern.compile("\\{\\{-?\\s*(.*?)\\s*-?}}");
    private static final Pattern VARIABLE = Pattern.compile("variables\\.(\\w+)");

    private RolloutGates() {}

    /**
     * One query of a template, its placeholders filled in: {@code spec} is the Argo metric or the Flagger
     * MetricTemplate, {@code values} the Argo args (defaults included) or the Flagger variables.
     */
    record Query(
            String tool, String template, String metric, String promql, JsonNode spec, Map<String, String> values) {
        String id() {
            return tool + " " + template + (metric == null ? "" : "/" + metric);
        }
    }

    static List<ObjectNode> argo(Path deploy) throws IOException {
        return documents(deploy.resolve(ARGO_FILE));
    }

    static List<ObjectNode> flagger(Path deploy) throws IOException {
        return documents(deploy.resolve(FLAGGER_FILE));
    }

    private static List<ObjectNode> documents(Path file) throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode d : KubernetesManifestsTest.readAll(file)) {
            out.add((ObjectNode) d);
        }
        return out;
    }

    /**
     * Every query of both files. {@code values}: the Argo args and Flagger template variables (the same
     * names: experiment, arm, model); an Argo arg not given takes the template's default.
     */
    static List<Query> queries(Path deploy, Map<String, String> values) throws IOException {
        List<Query> out = new ArrayList<>();
        for (ObjectNode t : argo(deploy)) {
            Map<String, String> args = args(t, values);
            for (JsonNode m : t.path("spec").path("metrics")) {
                out.add(new Query(
                        "argo",
                        t.path("metadata").path("name").asText(),
                        m.path("name").asText(),
                        substituteArgs(
                                m.path("provider")
                                        .path("prometheus")
                                        .path("query")
                                        .asText(),
                                args),
                        m,
                        args));
            }
        }
        for (ObjectNode t : flagger(deploy)) {
            out.add(new Query(
                    "flagger",
                    t.path("metadata").path("name").asText(),
                    null,
                    renderFlagger(t.path("spec").path("query").asText(), values),
                    t,
                    values));
        }
        return out;
    }

    /** The template's args with their defaults, overridden by {@code values} for the args it declares. */
    static Map<String, String> args(JsonNode template, Map<String, String> values) {
        Map<String, String> args = new LinkedHashMap<>();
        for (JsonNode a : template.path("spec").path("args")) {
            String name = a.path("name").asText();
            String v = values.containsKey(name)
                    ? values.get(name)
                    : a.path("value").asText(null);
            if (v != null) {
                args.put(name, v);
            }
        }
        return args;
    }

    /** The names of the args a text refers to. */
    static Set<String> argRefs(String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = ARG.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Argo's {{args.NAME}} placeholders; an arg without a value fails (Argo: "args.NAME was not resolved"). */
    static String substituteArgs(String text, Map<String, String> args) {
        Matcher m = ARG.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = args.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("args." + m.group(1) + " was not resolved in " + text);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The Go template actions of a Flagger query ({{ ... }}), trimmed. */
    static List<String> flaggerActions(String query) {
        List<String> out = new ArrayList<>();
        Matcher m = FLAGGER_ACTION.matcher(query);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The template variables ({{ variables.NAME }}) a Flagger query uses. */
    static Set<String> flaggerVariables(String query) {
        Set<String> out = new LinkedHashSet<>();
        for (String action : flaggerActions(query)) {
            Matcher v = VARIABLE.matcher(action);
            while (v.find()) {
                out.add(v.group(1));
            }
        }
        return out;
    }

    /**
     * Renders {{ variables.NAME }} as Flagger does (text/template with missingkey=error: a variable the
     * Canary does not set fails); any other action is refused here.
     */
    static String renderFlagger(String query, Map<String, String> variables) {
        Matcher m = FLAGGER_ACTION.matcher(query);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Matcher v = Pattern.compile("variables\\.(\\w+)").matcher(m.group(1));
            if (!v.matches()) {
                throw new IllegalArgumentException("unsupported template action {{ " + m.group(1) + " }}");
            }
            String value = variables.get(v.group(1));
            if (value == null) {
                throw new IllegalArgumentException("map has no entry for key \"" + v.group(1) + "\"");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    // ------------------------------------------------------------------------ Argo Rollouts

    static final String SUCCESSFUL = "Successful";
    static final String FAILED = "Failed";
    static final String INCONCLUSIVE = "Inconclusive";
    static final String ERROR = "Error";
    static final String RUNNING = "Running";

    /**
     * The phase of one measurement whose Prometheus result is {@code result} (the instant vector's
     * values, as the Prometheus provider passes them), as evaluate.EvaluateResult decides it: a
     * condition that cannot be evaluated (result[0] of an empty vector) is an Error; with both
     * conditions, neither holding is Inconclusive; with one, the other is its negation.
     */
    static String measure(JsonNode metric, Map<String, String> args, double... result) {
        String success = substituteArgs(metric.path("successCondition").asText(""), args);
        String failure = substituteArgs(metric.path("failureCondition").asText(""), args);
        boolean ok;
        boolean failed;
        try {
            ok = !success.isEmpty() && new Condition(success, result).evaluate();
            failed = !failure.isEmpty() && new Condition(failure, result).evaluate();
        } catch (Condition.EvalException e) {
            return ERROR;
        }
        if (success.isEmpty() && failure.isEmpty()) {
            return SUCCESSFUL;
        } else if (failure.isEmpty()) {
            failed = !ok;
        } else if (success.isEmpty()) {
            ok = !failed;
        }
        if (failed) {
            return FAILED;
        }
        return ok ? SUCCESSFUL : INCONCLUSIVE;
    }

    /** The metric's phase after each of a sequence of measurements, as analysis.assessMetricStatus gives it. */
    static final class Assessment {
        private final JsonNode metric;
        int count;
        int failed;
        int inconclusive;
        int consecutiveError;
        int consecutiveSuccess;
        String phase = RUNNING;
        /** Measurements taken until the phase was decided (errors included). */
        int measurements;

        Assessment(JsonNode metric) {
            this.metric = metric;
        }

        /** Adds one measurement (ignored once the metric is decided); returns the metric's phase. */
        String add(String measurement) {
            if (!phase.equals(RUNNING)) {
                return phase;
            }
            measurements++;
            switch (measurement) {
                case SUCCESSFUL -> {
                    count++;
                    consecutiveError = 0;
                    consecutiveSuccess++;
                }
                case FAILED -> {
                    failed++;
                    count++;
                    consecutiveError = 0;
                    consecutiveSuccess = 0;
                }
                case INCONCLUSIVE -> {
                    inconclusive++;
                    count++;
                    consecutiveError = 0;
                    consecutiveSuccess = 0;
                }
                case ERROR -> {
                    consecutiveError++;
                    consecutiveSuccess = 0;
                }
                default -> throw new IllegalArgumentException(measurement);
            }
            phase = assess();
            return phase;
        }

        private String assess() {
            int failureLimit = intField("failureLimit", 0);
            int inconclusiveLimit = intField("inconclusiveLimit", 0);
            int consecutiveErrorLimit = intField("consecutiveErrorLimit", 4);
            int successLimit = intField("consecutiveSuccessLimit", 0);
            // assessMetricFailureInconclusiveOrError: the later checks override the earlier ones.
            String p = null;
            if (failureLimit >= 0 && failed > failureLimit) {
                p = FAILED;
            }
            if (inconclusive > inconclusiveLimit) {
                p = INCONCLUSIVE;
            }
            if (consecutiveError > consecutiveErrorLimit) {
                p = ERROR;
            }
            if (p != null) {
                return p;
            }
            if (successLimit > 0 && consecutiveSuccess >= successLimit) {
                return SUCCESSFUL;
            }
            Integer effectiveCount = effectiveCount(metric);
            if (effectiveCount != null && count >= effectiveCount) {
                boolean failureApplicable = failureLimit >= 0;
                boolean successApplicable = successLimit > 0;
                if (failureApplicable && successApplicable) {
                    return INCONCLUSIVE;
                } else if (successApplicable) {
                    return FAILED;
                }
                return SUCCESSFUL;
            }
            return RUNNING;
        }

        private int intField(String name, int dflt) {
            JsonNode n = metric.path(name);
            return n.isMissingNode() ? dflt : n.asInt();
        }
    }

    /** Metric.EffectiveCount: count if > 0; 1 without count and interval; null (indefinite) with only an interval. */
    static Integer effectiveCount(JsonNode metric) {
        int count = metric.path("count").asInt(0);
        if (count == 0) {
            return metric.path("interval").asText("").isEmpty() ? 1 : null;
        }
        return count;
    }

    /**
     * The part of expr-lang the conditions use: {@code result[i]} (an index past the end is an error, as in
     * expr), {@code len(result)}, {@code isNaN(x)}, numbers, unary minus, comparisons (IEEE: NaN compares
     * false, != true), {@code !}, {@code &&} and {@code ||} (both short-circuit, as expr compiles them to
     * jumps), parentheses. Anything else fails the test that uses it.
     */
    static final class Condition {
        static final class EvalException extends RuntimeException {
            private static final long serialVersionUID = 1L;

            EvalException(String message) {
                super(message);
            }
        }

        private final String text;
        private final double[] result;
        private int pos;

        Condition(String text, double[] result) {
            this.text = text;
            this.result = result;
        }

        /** Parses the whole condition first (a syntax error is the test's, whatever the result). */
        boolean evaluate() {
            pos = 0;
            Object v = or(true);
            skip();
            if (pos != text.length()) {
                throw new IllegalArgumentException("unexpected '" + text.substring(pos) + "' in " + text);
            }
            if (!(v instanceof Boolean b)) {
                throw new IllegalArgumentException("not a boolean: " + text);
            }
            return b;
        }

        private Object or(boolean run) {
            Object left = and(run);
            while (peek("||")) {
                pos += 2;
                boolean l = run && bool(left);
                Object right = and(run && !l);
                left = run ? (Object) (l || bool(right)) : Boolean.FALSE;
            }
            return left;
        }

        private Object and(boolean run) {
            Object left = not(run);
            while (peek("&&")) {
                pos += 2;
                boolean l = run && bool(left);
                Object right = not(run && l);
                left = run ? (Object) (l && bool(right)) : Boolean.FALSE;
            }
            return left;
        }

        private Object not(boolean run) {
            if (peek("!") && !peek("!=")) {
                pos++;
                Object v = not(run);
                return run ? (Object) !bool(v) : Boolean.FALSE;
            }
            return comparison(run);
        }

        private Object comparison(boolean run) {
            Object left = unary(run);
            for (String op : List.of("==", "!=", ">=", "<=", ">", "<")) {
                if (peek(op)) {
                    pos += op.length();
                    Object right = unary(run);
                    if (!run) {
                        return Boolean.FALSE;
                    }
                    double a = num(left);
                    double b = num(right);
                    return switch (op) {
                        case "==" -> a == b;
                        case "!=" -> a != b;
                        case ">=" -> a >= b;
                        case "<=" -> a <= b;
                        case ">" -> a > b;
                        default -> a < b;
                    };
                }
            }
            return left;
        }

        private Object unary(boolean run) {
            if (peek("-")) {
                pos++;
                Object v = unary(run);
                return run ? (Object) (-num(v)) : Double.valueOf(0);
            }
            return primary(run);
        }

        private Object primary(boolean run) {
            skip();
            if (peek("(")) {
                pos++;
                Object v = or(run);
                expect(")");
                return v;
            }
            if (peek("len(")) {
                pos += 4;
                expect("result");
                expect(")");
                return (double) result.length;
            }
            if (peek("isNaN(")) {
                pos += 6;
                Object v = or(run);
                expect(")");
                return run && Double.isNaN(num(v));
            }
            if (peek("result[")) {
                pos += 7;
                skip();
                int start = pos;
                while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                    pos++;
                }
                int i = Integer.parseInt(text.substring(start, pos));
                expect("]");
                if (!run) {
                    return Double.valueOf(0);
                }
                if (i >= result.length) {
                    throw new EvalException("index out of range: " + i + " (array of length " + result.length + ")");
                }
                return result[i];
            }
            int start = pos;
            while (pos < text.length()
                    && (Character.isDigit(text.charAt(pos))
                            || ".eE".indexOf(text.charAt(pos)) >= 0
                            || ("+-".indexOf(text.charAt(pos)) >= 0
                                    && pos > start
                                    && "eE".indexOf(text.charAt(pos - 1)) >= 0))) {
                pos++;
            }
            if (start == pos) {
                throw new IllegalArgumentException("unsupported at '" + text.substring(pos) + "' in " + text);
            }
            return Double.parseDouble(text.substring(start, pos));
        }

        private boolean peek(String s) {
            skip();
            return text.startsWith(s, pos);
        }

        private void expect(String s) {
            if (!peek(s)) {
                throw new IllegalArgumentException("expected '" + s + "' at " + pos + " in " + text);
            }
            pos += s.length();
        }

        private void skip() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private static boolean bool(Object v) {
            if (v instanceof Boolean b) {
                return b;
            }
            throw new IllegalArgumentException("not a boolean: " + v);
        }

        private static double num(Object v) {
            if (v instanceof Double d) {
                return d;
            }
            throw new IllegalArgumentException("not a number: " + v);
        }
    }

    // ------------------------------------------------------------------------------ Flagger

    /** Flagger's check of a metric value: inside [min, max] where given (a value is required: NaN fails). */
    static boolean flaggerPasses(JsonNode thresholdRange, double value) {
        if (Double.isNaN(value)) {
            return false; // ErrNoValuesFound
        }
        if (thresholdRange.has("min") && value < thresholdRange.path("min").asDouble()) {
            return false;
        }
        return !(thresholdRange.has("max") && value > thresholdRange.path("max").asDouble());
    }
}
