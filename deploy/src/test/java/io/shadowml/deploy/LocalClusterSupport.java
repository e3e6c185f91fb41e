package io.shadowml.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What the tests on the real local cluster (profile cluster-it) share: running the deploy/local scripts
 * against a work dir under target/cluster-it, the processes they started, Flink's REST API, waiting.
 */
abstract class LocalClusterSupport {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String REST = "http://127.0.0.1:18081";

    final Path deploy = Path.of(System.getProperty("shadowml.deploy.dir", "."))
            .toAbsolutePath()
            .normalize();
    final Path local = deploy.resolve("local");
    final Path itDir = deploy.resolve("target/cluster-it");
    final Path work = itDir.resolve("work");
    final Path jobJar = Path.of(System.getProperty("shadowml.job.jar"));
    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final long t0 = System.nanoTime();

    /** Runs stop.sh (cancelling the job) and asserts that none of {@code pids} survived it. */
    void stopCluster(List<Long> pids) throws Exception {
        if (pids.isEmpty()) {
            pids.addAll(pids());
        }
        try {
            script(Duration.ofMinutes(3), Map.of("JOB_STOP", "cancel"), "stop.sh");
        } finally {
            for (long pid : pids) {
                assertFalse(
                        ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                        "process " + pid + " survived stop.sh");
            }
        }
        step("cluster stopped, no process left");
    }

    /** Stops the job with a savepoint (draining: the final watermark first) and waits until it has finished. */
    String stopWithSavepoint(String jobId, boolean drain) throws Exception {
        JsonNode trigger = JSON.readTree(post(
                "/jobs/" + jobId + "/stop",
                "{\"drain\": " + drain + ", \"targetDirectory\": \"file://" + work.resolve("savepoints") + "\"}"));
        String triggerId = trigger.path("request-id").asText();
        String[] location = new String[1];
        await(Duration.ofSeconds(120), "stop-with-savepoint " + triggerId, () -> {
            JsonNode s = JSON.readTree(get(REST + "/jobs/" + jobId + "/savepoints/" + triggerId));
            if (!s.path("status").path("id").asText().equals("COMPLETED")) {
                return false;
            }
            assertFalse(s.path("operation").has("failure-cause"), "savepoint failed: " + s);
            location[0] = s.path("operation").path("location").asText();
            return true;
        });
        await(
                Duration.ofSeconds(60),
                "job FINISHED",
                () -> JSON.readTree(get(REST + "/jobs/" + jobId))
                        .path("state")
                        .asText()
                        .equals("FINISHED"));
        return location[0];
    }

    /**
     * Every TCP port the processes listen on is bound to the loopback interface (issue 11: the local
     * cluster is reachable from this machine only). Read from /proc: each process's socket inodes
     * (/proc/PID/fd) against the listening sockets of /proc/net/tcp and tcp6.
     */
    static void assertListensOnLoopbackOnly(List<Long> pids) throws IOException {
        Map<String, String> listening = new LinkedHashMap<>(); // inode -> local address (hex)
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path t = Path.of(table);
            if (!Files.isReadable(t)) {
                continue;
            }
            for (String line :
                    Files.readAllLines(t).subList(1, Files.readAllLines(t).size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[3].equals("0A")) { // TCP_LISTEN
                    listening.put(f[9], f[1]);
                }
            }
        }
        assertFalse(listening.isEmpty(), "no listening sockets found in /proc/net/tcp*");
        List<String> exposed = new ArrayList<>();
        int seen = 0;
        for (long pid : pids) {
            Path fds = Path.of("/proc/" + pid + "/fd");
            try (Stream<Path> s = Files.list(fds)) {
                for (Path fd : s.toList()) {
                    String target;
                    try {
                        target = Files.readSymbolicLink(fd).toString();
                    } catch (IOException e) {
                        continue; // closed meanwhile
                    }
                    if (!target.startsWith("socket:[")) {
                        continue;
                    }
                    String address = listening.get(target.substring(8, target.length() - 1));
                    if (address != null) {
                        seen++;
                        if (!isLoopback(address)) {
                            exposed.add("pid " + pid + " listens on " + address);
                        }
                    }
                }
            }
        }
        assertTrue(seen > 0, "none of " + pids + " listens on anything?");
        assertTrue(exposed.isEmpty(), "ports beyond loopback: " + exposed);
    }

    /** A /proc/net/tcp* local address ("0100007F:1F90", or 32 hex digits for IPv6) on loopback. */
    static boolean isLoopback(String hexAddress) {
        String ip = hexAddress.substring(0, hexAddress.indexOf(':'));
        if (ip.length() == 8) {
            return ip.endsWith("7F"); // little-endian: 127.x.x.x
        }
        // IPv6 as four little-endian 32-bit words: ::1, or ::ffff:127.x.x.x
        return ip.equals("00000000000000000000000001000000")
                || (ip.startsWith("0000000000000000FFFF0000") && ip.endsWith("7F"));
    }

    /** Submits the job with submit.sh from {@code template} (a config with its placeholders), from {@code savepoint} if not null. */
    String submit(Path template, String savepoint) throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CONFIG", template.toString());
        if (savepoint != null) {
            env.put("SAVEPOINT", savepoint);
        }
        List<String> out = script(Duration.ofMinutes(3), env, "submit.sh");
        String job = out.get(out.size() - 1).trim();
        assertTrue(job.matches("[0-9a-f]{32}"), "job id: " + job);
        return job;
    }

    /** The consumer group's committed offsets have reached the end of {@code topics}. */
    static void awaitEverythingRead(String bootstrap, String group, List<String> topics) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            await(Duration.ofMinutes(5), "the job to read everything", () -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get();
                Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
                for (String topic : topics) {
                    admin.describeTopics(List.of(topic))
                            .allTopicNames()
                            .get()
                            .get(topic)
                            .partitions()
                            .forEach(i -> latest.put(new TopicPartition(topic, i.partition()), OffsetSpec.latest()));
                }
                for (var e : admin.listOffsets(latest).all().get().entrySet()) {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    if (c == null || c.offset() < e.getValue().offset()) {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    // ------------------------------------------------------------------------------- helpers

    List<String> script(Duration timeout, String name, String... args) throws Exception {
        return script(timeout, Map.of(), name, args);
    }

    List<String> script(Duration timeout, Map<String, String> env, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", local.resolve(name).toString()));
        cmd.addAll(List.of(args));
        Map<String, String> e = new LinkedHashMap<>(env);
        e.put("WORK_DIR", work.toString());
        e.put("JOB_JAR", jobJar.toString());
        List<String> out = exec(timeout, cmd, e);
        step(name + " done");
        return out;
    }

    List<String> exec(Duration timeout, List<String> cmd, Map<String, String> env) throws Exception {
        Path logs = itDir.resolve("logs");
        Files.createDirectories(logs);
        String base = Path.of(cmd.get(cmd.size() > 1 && cmd.get(0).equals("bash") ? 1 : 0))
                .getFileName()
                .toString();
        Path out = logs.resolve(base + "-" + System.nanoTime() + ".out");
        Path err = logs.resolve(base + "-" + System.nanoTime() + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroyForcibly();
            fail(cmd + " timed out after " + timeout + "\n" + Files.readString(err));
        }
        String stderr = Files.readString(err);
        System.out.print(stderr);
        if (p.exitValue() != 0) {
            fail(cmd + " exited with " + p.exitValue() + "\nstdout:\n" + Files.readString(out) + "\nstderr:\n"
                    + stderr);
        }
        return Files.readAllLines(out);
    }

    List<Long> pids() throws IOException {
        Path dir = work.resolve("pids");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".pid"))
                    .map(f -> {
                        try {
                            return Long.parseLong(Files.readString(f).trim());
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .toList();
        }
    }

    String get(String url) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    String post(String path, String json) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(REST + path))
                        .timeout(Duration.ofSeconds(20))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() / 100 == 2, "POST " + path + " → " + r.statusCode() + " " + r.body());
        return r.body();
    }

    interface Check {
        boolean done() throws Exception;

        interface Value {
            Object get() throws Exception;
        }
    }

    static void await(Duration timeout, String what, Check check) throws Exception {
        await(timeout, what, check, () -> "");
    }

    static void await(Duration timeout, String what, Check check, java.util.function.Supplier<String> detail)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (check.done()) {
                    return;
                }
                last = null;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(500);
        }
        AssertionError e =
                new AssertionError("timed out after " + timeout + " waiting for " + what + " " + detail.get());
        if (last != null) {
            e.initCause(last);
        }
        throw e;
    }

    void step(String msg) {
        System.out.printf("[cluster-it %6.1fs] %s%n", (System.nanoTime() - t0) / 1e9, msg);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
