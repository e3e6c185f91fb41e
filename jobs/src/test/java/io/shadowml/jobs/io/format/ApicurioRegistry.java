package io.shadowml.jobs.io.format;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real schema registry for tests: Apicurio Registry (unpacked from Maven Central into target/apicurio by
 * the jobs pom), started as a child process on a free loopback port with in-memory storage. Its
 * Confluent-compatible API is at {@link #ccompatUrl()}.
 */
public final class ApicurioRegistry implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private ApicurioRegistry(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static ApicurioRegistry start() throws Exception {
        Path dir = Path.of("target/apicurio").toAbsolutePath();
        Path jar;
        try (Stream<Path> files = Files.list(dir)) {
            jar = files.filter(p -> p.getFileName().toString().endsWith("-runner.jar"))
                    .findFirst()
                    .orElseThrow();
        } catch (IOException | java.util.NoSuchElementException e) {
            throw new IllegalStateException(
                    "no Apicurio runner jar in " + dir + ": run the tests through Maven (mvn -pl jobs test), which"
                            + " unpacks it in generate-test-resources",
                    e);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(
                        java.toString(),
                        "-Xmx256m",
                        "-Dquarkus.http.host=127.0.0.1",
                        "-Dquarkus.http.port=" + port,
                        "-jar",
                        jar.toString()))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolveSibling("apicurio.log").toFile())
                .start();
        ApicurioRegistry registry = new ApicurioRegistry(p, port);
        registry.awaitReady(Duration.ofSeconds(120));
        return registry;
    }

    public String ccompatUrl() {
        return "http://127.0.0.1:" + port + "/apis/ccompat/v6";
    }

    private void awaitReady(Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "Apicurio Registry exited with " + process.exitValue() + "; see target/apicurio.log");
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(ccompatUrl() + "/subjects"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("Apicurio Registry not ready within " + patience);
            }
            Thread.sleep(250);
        }
    }

    /** Registers {@code schemaJson} under {@code subject} and returns the id the registry gave it. */
    public int register(String subject, String schemaJson) throws Exception {
        String body = JSON.writeValueAsString(java.util.Map.of("schema", schemaJson));
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(ccompatUrl() + "/subjects/" + subject + "/versions"))
                        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("register " + subject + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).get("id").asInt();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
