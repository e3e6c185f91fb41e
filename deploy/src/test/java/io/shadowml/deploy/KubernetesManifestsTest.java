package io.shadowml.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * The Kubernetes manifests (deploy/kubernetes) parse, carry the required fields, and agree with each
 * other, with the job config in the ConfigMap (loaded with {@link ShadowJobConfig}), with the image
 * Dockerfile and with the Prometheus configuration of deploy/monitoring. No cluster needed: kustomize
 * is not available, so {@link #render} implements the subset of it the manifests use (resources,
 * namespace, labels, strategic-merge patches by kind + name, where lists are replaced as they are for
 * custom resources).
 */
class KubernetesManifestsTest {
    private static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Path DEPLOY = deployDir();
    private static final Path K8S = DEPLOY.resolve("kubernetes");
    private static final String JAR_PATH = "/opt/flink/usrlib/shadowml-jobs-job.jar";
    private static final long DAY_MS = Duration.ofDays(1).toMillis();

    @TempDir
    Path tmp;

    static Path deployDir() {
        Path p = Path.of(System.getProperty("shadowml.deploy.dir", "")).toAbsolutePath();
        return Files.isDirectory(p.resolve("kubernetes")) ? p : Path.of("").toAbsolutePath();
    }

    @Test
    void everyYamlFileParses() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Stream.concat(Files.walk(K8S), Files.walk(DEPLOY.resolve("monitoring")))) {
            files = s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .toList();
        }
        assertTrue(files.size() >= 12, "manifests found: " + files);
        for (Path f : files) {
            List<JsonNode> docs = readAll(f);
            assertFalse(docs.isEmpty(), f + " holds no document");
            for (JsonNode d : docs) {
                assertTrue(d.isObject(), f + ": every document is a mapping");
                if (!f.getFileName().toString().startsWith("kustomization") && f.startsWith(K8S)) {
                    assertTrue(
                            d.hasNonNull("apiVersion")
                                    && d.hasNonNull("kind")
                                    && d.path("metadata").hasNonNull("name"),
                            f + ": apiVersion, kind and metadata.name");
                }
            }
        }
        JsonNode dashboard = new ObjectMapper()
                .readTree(DEPLOY.resolve("monitoring/grafana/shadow-comparison.json")
                        .toFile());
        assertEquals("Shadow comparison", dashboard.path("title").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void renderedManifestsAreConsistent(String dir) throws Exception {
        List<ObjectNode> resources = render(K8S.resolve(dir));
        ObjectNode fd = only(resources, "FlinkDeployment");
        JsonNode spec = fd.path("spec");
        String where = dir + ": ";

        // --- FlinkDeployment: required fields ---
        assertEquals("flink.apache.org/v1beta1", fd.path("apiVersion").asText());
        assertEquals("v2_2", spec.path("flinkVersion").asText(), where + "Flink 2.2 (operator enum FlinkVersion.v2_2)");
        assertTrue(spec.path("image").asText().matches("[^\\s:]+(:[\\w.-]+)?"), where + "image " + spec.path("image"));
        assertFalse(spec.path("serviceAccount").asText().isEmpty(), where + "serviceAccount");
        for (String role : List.of("jobManager", "taskManager")) {
            assertFalse(spec.path(role).path("resource").path("memory").asText().isEmpty(), where + role + " memory");
            assertTrue(spec.path(role).path("resource").path("cpu").asDouble() > 0, where + role + " cpu");
        }
        JsonNode job = spec.path("job");
        assertEquals("local://" + JAR_PATH, job.path("jarURI").asText(), where + "jarURI");
        assertEquals("io.shadowml.jobs.ShadowJob", job.path("entryClass").asText());
        assertNotNull(
                getClass().getClassLoader().getResource("io/shadowml/jobs/ShadowJob.class"), "entry class exists");
        assertEquals("savepoint", job.path("upgradeMode").asText(), where + "upgradeMode");
        int parallelism = job.path("parallelism").asInt();
        assertTrue(parallelism >= 1, where + "parallelism");

        JsonNode conf = spec.path("flinkConfiguration");
        assertEquals("rocksdb", conf.path("state.backend.type").asText());
        for (String key : List.of(
                "execution.checkpointing.dir",
                "execution.checkpointing.savepoint-dir",
                "high-availability.storageDir")) {
            assertTrue(
                    conf.path(key).asText().startsWith("s3://"),
                    where + key + " on durable storage: " + conf.path(key));
        }
        assertEquals(
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                conf.path("metrics.reporter.prom.factory.class").asText());
        String promPort = conf.path("metrics.reporter.prom.port").asText();
        assertTrue(promPort.matches("\\d+"), where + "a single reporter port in a pod: " + promPort);

        // --- Prometheus: annotations, container port, PodMonitor, scrape config all name the reporter port ---
        JsonNode pod = spec.path("podTemplate");
        assertEquals(
                "true",
                pod.path("metadata")
                        .path("annotations")
                        .path("prometheus.io/scrape")
                        .asText());
        assertEquals(
                promPort,
                pod.path("metadata")
                        .path("annotations")
                        .path("prometheus.io/port")
                        .asText(),
                where + "annotation port");
        JsonNode container = only(pod.path("spec").path("containers"), "flink-main-container");
        JsonNode metricsPort = find(container.path("ports"), "name", "metrics");
        assertEquals(promPort, metricsPort.path("containerPort").asText(), where + "container port 'metrics'");
        ObjectNode podMonitor = only(resources, "PodMonitor");
        assertEquals(
                "metrics",
                podMonitor
                        .path("spec")
                        .path("podMetricsEndpoints")
                        .get(0)
                        .path("port")
                        .asText());
        podMonitor
                .path("spec")
                .path("selector")
                .path("matchLabels")
                .fields()
                .forEachRemaining(e -> assertEquals(
                        e.getValue().asText(),
                        pod.path("metadata").path("labels").path(e.getKey()).asText(),
                        where + "PodMonitor selects the Flink pods by " + e.getKey()));
        String scrape = Files.readString(DEPLOY.resolve("monitoring/prometheus/prometheus-kubernetes.yml"));
        assertTrue(
                scrape.contains("__meta_kubernetes_pod_annotation_prometheus_io_port")
                        && scrape.contains("__meta_kubernetes_pod_annotation_prometheus_io_scrape"),
                "scrape config uses the pod annotations");
        assertTrue(
                scrape.contains("__meta_kubernetes_pod_label_app_kubernetes_io_part_of"),
                "scrape config keeps shadowml pods");
        assertEquals(
                "shadowml",
                pod.path("metadata")
                        .path("labels")
                        .path("app.kubernetes.io/part-of")
                        .asText());

        // --- alert rules: the PrometheusRule carries exactly the rule file's groups ---
        JsonNode rules = YAML.readTree(
                DEPLOY.resolve("monitoring/prometheus/shadowml-alerts.yml").toFile());
        assertEquals(
                rules.path("groups"),
                only(resources, "PrometheusRule").path("spec").path("groups"),
                where + "PrometheusRule == monitoring/prometheus/shadowml-alerts.yml");

        // --- config file: args --config <path>, path inside the ConfigMap mount ---
        List<String> args = new ArrayList<>();
        job.path("args").forEach(a -> args.add(a.asText()));
        assertEquals(2, args.size(), where + "args " + args);
        assertEquals("--config", args.get(0));
        Path configPath = Path.of(args.get(1));
        JsonNode configMount = mountOfVolume(pod, container, "configMap");
        assertEquals(
                configPath.getParent().toString(), configMount.path("mountPath").asText(), where + "config mount path");
        ObjectNode configMap = named(
                resources,
                "ConfigMap",
                volume(pod, configMount.path("name").asText())
                        .path("configMap")
                        .path("name")
                        .asText());
        String configYaml =
                configMap.path("data").path(configPath.getFileName().toString()).asText(null);
        assertNotNull(configYaml, where + "ConfigMap key " + configPath.getFileName());

        // --- models: PVC mounted where the config's model paths point ---
        JsonNode modelsMount = mountOfVolume(pod, container, "persistentVolumeClaim");
        String modelsDir = modelsMount.path("mountPath").asText();
        String pvcName = volume(pod, modelsMount.path("name").asText())
                .path("persistentVolumeClaim")
                .path("claimName")
                .asText();
        named(resources, "PersistentVolumeClaim", pvcName);
        JsonNode rawConfig = YAML.readTree(configYaml);
        List<String> modelPaths =
                new ArrayList<>(List.of(rawConfig.path("models").path("live").asText()));
        rawConfig.path("models").path("candidates").forEach(c -> modelPaths.add(c.asText()));
        for (String m : modelPaths) {
            assertTrue(m.startsWith(modelsDir + "/"), where + "model " + m + " lies in the models mount " + modelsDir);
        }
        // Load it as the job does; the PVC's layout is the repository's models/shipped/.
        Path repoModels = DEPLOY.getParent().resolve("models/shipped");
        Path configFile = tmp.resolve(dir.replace('/', '_') + ".yaml");
        Files.writeString(configFile, configYaml.replace(modelsDir + "/", repoModels + "/"));
        ShadowJobConfig cfg = ShadowJobConfig.load(configFile);
        assertTrue(
                cfg.metricShards >= parallelism,
                where + "metric_shards " + cfg.metricShards + " >= parallelism " + parallelism);
        String truststore = cfg.kafkaProperties.get("ssl.truststore.location");
        if (truststore != null) {
            assertTrue(
                    container
                            .path("volumeMounts")
                            .findValuesAsText("mountPath")
                            .contains(Path.of(truststore).getParent().toString()),
                    where + "truststore " + truststore + " is mounted");
        }

        // --- Kafka topics: exactly the config's topics, fit for a weeks-long shadow test ---
        List<ObjectNode> topics = all(resources, "KafkaTopic");
        Set<String> declared = new TreeSet<>();
        Set<String> clusters = new HashSet<>();
        for (ObjectNode t : topics) {
            assertEquals("kafka.strimzi.io/v1beta2", t.path("apiVersion").asText());
            declared.add(t.path("spec").path("topicName").asText());
            clusters.add(
                    t.path("metadata").path("labels").path("strimzi.io/cluster").asText());
            assertTrue(
                    t.path("spec").path("replicas").asInt() >= 3,
                    where + t.path("metadata").path("name") + " replicas");
            assertTrue(t.path("spec").path("config").path("min.insync.replicas").asInt() >= 2);
        }
        Set<String> used = new TreeSet<>(
                List.of(cfg.requestsTopic, cfg.labelsTopic, cfg.reportsTopic, cfg.verdictsTopic, cfg.deadLetterTopic));
        if (cfg.scoredEventsTopic != null) {
            used.add(cfg.scoredEventsTopic);
        }
        assertEquals(used, declared, where + "KafkaTopics == the config's topics");
        assertEquals(1, clusters.size(), where + "one Strimzi cluster: " + clusters);
        String cluster = clusters.iterator().next();
        assertFalse(cluster.isEmpty(), where + "strimzi.io/cluster label");
        assertTrue(
                cfg.bootstrapServers.startsWith(cluster + "-kafka-bootstrap"),
                where + "bootstrap " + cfg.bootstrapServers + " is the Strimzi cluster " + cluster);

        long horizon = cfg.labelHorizon.toMillis();
        JsonNode requests = topic(topics, cfg.requestsTopic).path("spec");
        JsonNode labels = topic(topics, cfg.labelsTopic).path("spec");
        assertTrue(requests.path("partitions").asInt() >= parallelism, where + "request partitions >= parallelism");
        assertTrue(labels.path("partitions").asInt() >= parallelism, where + "label partitions >= parallelism");
        assertTrue(retention(requests) >= horizon + 7 * DAY_MS, where + "requests kept >= label horizon + 7 d");
        assertTrue(retention(labels) >= retention(requests), where + "labels kept at least as long as requests");
        assertEquals(
                "delete",
                topic(topics, cfg.reportsTopic)
                        .path("spec")
                        .path("config")
                        .path("cleanup.policy")
                        .asText(),
                "reports are keyed by experiment: compaction would drop history");
        assertTrue(
                retention(topic(topics, cfg.reportsTopic).path("spec")) >= 90 * DAY_MS,
                where + "reports outlive the experiment");
        assertEquals(
                "compact",
                topic(topics, cfg.verdictsTopic)
                        .path("spec")
                        .path("config")
                        .path("cleanup.policy")
                        .asText(),
                "verdicts: latest per candidate");

        // --- namespaces: overlays put everything in one namespace ---
        if (!dir.equals("base")) {
            Set<String> ns = new HashSet<>();
            resources.forEach(r -> ns.add(r.path("metadata").path("namespace").asText()));
            assertEquals(Set.of("shadowml-" + dir.substring(dir.lastIndexOf('/') + 1)), ns, where + "namespace");
        }
    }

    @Test
    void imageAndLocalClusterAgree() throws IOException {
        String dockerfile = Files.readString(K8S.resolve("image/Dockerfile"));
        assertTrue(dockerfile.contains(" " + JAR_PATH), "Dockerfile copies the job jar to " + JAR_PATH);
        assertTrue(dockerfile.contains("FROM flink:2.2.1"), "image on Flink 2.2.1");
        String localConfig = Files.readString(DEPLOY.resolve("monitoring/prometheus/prometheus-local.yml"));
        String start = Files.readString(DEPLOY.resolve("local/env.sh"));
        assertTrue(start.contains("PROM_PORTS:-9249-9259"), "local reporter port range");
        assertTrue(
                localConfig.contains("127.0.0.1:9249") && localConfig.contains("127.0.0.1:9250"),
                "local scrape targets");
    }

    // ------------------------------------------------------------------ minimal kustomize

    /** Renders a kustomization directory: resources (files or directories), namespace, labels, patches. */
    static List<ObjectNode> render(Path dir) throws IOException {
        JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        assertEquals("Kustomization", k.path("kind").asText(), dir + "/kustomization.yaml");
        Set<String> known = Set.of("apiVersion", "kind", "resources", "namespace", "labels", "patches");
        k.fieldNames()
                .forEachRemaining(f -> assertTrue(
                        known.contains(f), dir + ": kustomization field " + f + " not rendered by this test"));
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(render(p));
            } else {
                for (JsonNode d : readAll(p)) {
                    out.add((ObjectNode) d);
                }
            }
        }
        for (JsonNode patchRef : k.path("patches")) {
            assertTrue(patchRef.has("path") && !patchRef.has("target"), dir + ": only strategic-merge patch files");
            for (JsonNode patch : readAll(dir.resolve(patchRef.path("path").asText()))) {
                ObjectNode target = named(
                        out,
                        patch.path("kind").asText(),
                        patch.path("metadata").path("name").asText());
                merge(target, patch);
            }
        }
        for (JsonNode l : k.path("labels")) {
            for (ObjectNode r : out) {
                ObjectNode meta = (ObjectNode) r.path("metadata");
                ObjectNode labels = meta.has("labels") ? (ObjectNode) meta.get("labels") : meta.putObject("labels");
                l.path("pairs").fields().forEachRemaining(e -> labels.set(e.getKey(), e.getValue()));
            }
        }
        if (k.hasNonNull("namespace")) {
            out.forEach(r -> ((ObjectNode) r.path("metadata"))
                    .put("namespace", k.path("namespace").asText()));
        }
        return out;
    }

    /** Strategic merge as kustomize applies it to custom resources: maps merge, everything else is replaced. */
    static void merge(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode existing = target.get(e.getKey());
            if (existing instanceof ObjectNode o && e.getValue().isObject()) {
                merge(o, e.getValue());
            } else {
                target.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }

    // ----------------------------------------------------------------------------- helpers

    static List<JsonNode> readAll(Path file) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode d = it.next();
                if (d != null && !d.isNull() && !d.isMissingNode()) {
                    docs.add(d);
                }
            }
        }
        return docs;
    }

    // ------------------------------------------------------------------ hardening (issue 11)

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void podsRunAsNonRootOnAReadOnlyRootFilesystem(String dir) throws Exception {
        JsonNode pod =
                only(render(K8S.resolve(dir)), "FlinkDeployment").path("spec").path("podTemplate");
        JsonNode podSecurity = pod.path("spec").path("securityContext");
        assertTrue(podSecurity.path("runAsNonRoot").asBoolean(), dir + ": runAsNonRoot");
        assertTrue(podSecurity.path("runAsUser").asInt() > 0, dir + ": a non-root uid");
        assertEquals(
                "RuntimeDefault",
                podSecurity.path("seccompProfile").path("type").asText(),
                dir + ": seccomp");
        JsonNode container = only(pod.path("spec").path("containers"), "flink-main-container");
        JsonNode security = container.path("securityContext");
        assertTrue(security.path("readOnlyRootFilesystem").asBoolean(), dir + ": read-only root filesystem");
        assertFalse(security.path("allowPrivilegeEscalation").asBoolean(true), dir + ": no privilege escalation");
        List<String> dropped = new ArrayList<>();
        security.path("capabilities").path("drop").forEach(c -> dropped.add(c.asText()));
        assertEquals(List.of("ALL"), dropped, dir + ": every capability dropped");
        assertTrue(security.path("capabilities").path("add").isMissingNode(), dir + ": none added back");
        // What Flink writes must be on writable volumes: io.tmp.dirs (RocksDB's working directory too) and logs.
        JsonNode conf =
                only(render(K8S.resolve(dir)), "FlinkDeployment").path("spec").path("flinkConfiguration");
        for (String writable : List.of(conf.path("io.tmp.dirs").asText(), "/opt/flink/log")) {
            JsonNode mount = find(container.path("volumeMounts"), "mountPath", writable);
            assertTrue(
                    volume(pod, mount.path("name").asText()).has("emptyDir"),
                    dir + ": " + writable + " is an emptyDir");
            assertFalse(mount.path("readOnly").asBoolean(), dir + ": " + writable + " writable");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void onlyPrometheusReachesTheMetricsPortAndNobodyOutsideTheRestPort(String dir) throws Exception {
        List<ObjectNode> resources = render(K8S.resolve(dir));
        JsonNode spec = only(resources, "FlinkDeployment").path("spec");
        JsonNode conf = spec.path("flinkConfiguration");
        int metrics = conf.path("metrics.reporter.prom.port").asInt();
        int rest = conf.path("rest.port").asInt();
        ObjectNode policy = only(resources, "NetworkPolicy");
        JsonNode p = policy.path("spec");
        p.path("podSelector")
                .path("matchLabels")
                .fields()
                .forEachRemaining(e -> assertEquals(
                        e.getValue().asText(),
                        spec.path("podTemplate")
                                .path("metadata")
                                .path("labels")
                                .path(e.getKey())
                                .asText(),
                        dir + ": the policy selects the Flink pods by " + e.getKey()));
        List<String> types = new ArrayList<>();
        p.path("policyTypes").forEach(t -> types.add(t.asText()));
        assertTrue(types.contains("Ingress"), dir + ": an ingress policy");
        // Every Flink port is fixed, so every rule can name its ports.
        for (String key :
                List.of("jobmanager.rpc.port", "blob.server.port", "taskmanager.rpc.port", "taskmanager.data.port")) {
            assertTrue(conf.path(key).asText().matches("\\d+"), dir + ": " + key + " fixed");
        }
        boolean prometheusAllowed = false;
        for (JsonNode rule : p.path("ingress")) {
            assertFalse(rule.path("ports").isMissingNode(), dir + ": a rule without ports opens every port: " + rule);
            Set<Integer> ports = new HashSet<>();
            rule.path("ports").forEach(port -> ports.add(port.path("port").asInt()));
            for (JsonNode from : rule.path("from")) {
                assertTrue(from.path("ipBlock").isMissingNode(), dir + ": no ipBlock sources: " + from);
                boolean isPrometheus = from.path("podSelector")
                        .path("matchLabels")
                        .path("app.kubernetes.io/name")
                        .asText()
                        .equals("prometheus");
                if (ports.contains(metrics)) {
                    assertTrue(isPrometheus, dir + ": only Prometheus may reach the metrics port, not " + from);
                    prometheusAllowed = true;
                }
                if (ports.contains(rest) && from.has("namespaceSelector")) {
                    // Another namespace: only the Flink Kubernetes Operator, which drives the job through REST.
                    assertEquals(
                            "flink-operator",
                            from.path("namespaceSelector")
                                    .path("matchLabels")
                                    .path("kubernetes.io/metadata.name")
                                    .asText(),
                            dir + ": REST from outside the namespace only for the operator: " + from);
                    assertEquals(Set.of(rest), ports, dir + ": the operator reaches REST only");
                }
            }
        }
        assertTrue(prometheusAllowed, dir + ": Prometheus can scrape " + metrics);
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/staging", "overlays/production"})
    void kafkaCredentialsComeFromASecretNotTheConfigMap(String dir) throws Exception {
        List<ObjectNode> resources = render(K8S.resolve(dir));
        JsonNode pod = only(resources, "FlinkDeployment").path("spec").path("podTemplate");
        JsonNode container = only(pod.path("spec").path("containers"), "flink-main-container");
        for (ObjectNode cm : all(resources, "ConfigMap")) {
            String text = cm.path("data").toString().toLowerCase(java.util.Locale.ROOT);
            assertFalse(text.contains("password="), dir + ": a password in ConfigMap " + cm.path("metadata"));
        }
        String configYaml = named(resources, "ConfigMap", "shadowml-job-config")
                .path("data")
                .path("shadow-job.yaml")
                .asText();
        JsonNode properties = YAML.readTree(configYaml).path("kafka").path("properties");
        java.util.regex.Pattern reference = java.util.regex.Pattern.compile("\\$\\{(\\w+):([^:}]+):([^}]+)}");
        for (java.util.Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            boolean secret = e.getKey().equals("sasl.jaas.config") || e.getKey().endsWith(".password");
            if (!secret) {
                continue;
            }
            java.util.regex.Matcher m = reference.matcher(e.getValue().asText());
            assertTrue(m.matches(), dir + ": " + e.getKey() + " must be a config-provider reference, not a value");
            String provider = m.group(1);
            assertEquals(
                    "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                    properties.path("config.providers." + provider + ".class").asText(),
                    dir + ": provider " + provider);
            JsonNode mount = find(container.path("volumeMounts"), "mountPath", m.group(2));
            assertTrue(mount.path("readOnly").asBoolean(), dir + ": credentials mounted read-only");
            assertTrue(
                    volume(pod, mount.path("name").asText()).has("secret"),
                    dir + ": " + m.group(2) + " is a Secret volume");
        }
        if (dir.endsWith("production")) {
            assertEquals("SASL_SSL", properties.path("security.protocol").asText(), "production authenticates");
            assertTrue(properties.has("sasl.jaas.config"), "production: credentials by reference");
            String secretName = volume(pod, "kafka-credentials")
                    .path("secret")
                    .path("secretName")
                    .asText();
            assertEquals(
                    secretName,
                    named(resources, "KafkaUser", secretName)
                            .path("metadata")
                            .path("name")
                            .asText(),
                    "the KafkaUser whose secret is mounted (Strimzi names the secret after the user)");
        }
    }

    private static List<ObjectNode> all(List<ObjectNode> resources, String kind) {
        return resources.stream()
                .filter(r -> r.path("kind").asText().equals(kind))
                .toList();
    }

    private static ObjectNode only(List<ObjectNode> resources, String kind) {
        List<ObjectNode> found = all(resources, kind);
        assertEquals(1, found.size(), "exactly one " + kind);
        return found.get(0);
    }

    private static ObjectNode named(List<ObjectNode> resources, String kind, String name) {
        return all(resources, kind).stream()
                .filter(r -> r.path("metadata").path("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
    }

    private static JsonNode only(JsonNode list, String name) {
        return find(list, "name", name);
    }

    private static JsonNode find(JsonNode list, String field, String value) {
        for (JsonNode n : list) {
            if (n.path(field).asText().equals(value)) {
                return n;
            }
        }
        throw new AssertionError("no entry with " + field + "=" + value + " in " + list);
    }

    private static JsonNode volume(JsonNode pod, String name) {
        return find(pod.path("spec").path("volumes"), "name", name);
    }

    /** The container's mount of the single volume of the given type (configMap, persistentVolumeClaim, ...). */
    private static JsonNode mountOfVolume(JsonNode pod, JsonNode container, String type) {
        List<String> names = new ArrayList<>();
        pod.path("spec").path("volumes").forEach(v -> {
            if (v.has(type)) {
                names.add(v.path("name").asText());
            }
        });
        assertEquals(1, names.size(), "one " + type + " volume: " + names);
        return find(container.path("volumeMounts"), "name", names.get(0));
    }

    private static JsonNode topic(List<ObjectNode> topics, String name) {
        return topics.stream()
                .filter(t -> t.path("spec").path("topicName").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no KafkaTopic for " + name));
    }

    private static long retention(JsonNode topicSpec) {
        JsonNode r = topicSpec.path("config").path("retention.ms");
        return r.isMissingNode() ? Long.MAX_VALUE : r.asLong();
    }
}
