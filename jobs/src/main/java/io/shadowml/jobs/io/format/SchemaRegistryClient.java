package io.shadowml.jobs.io.format;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Fetches writer schemas by id from a registry that speaks the Confluent-compatible REST API
 * ({@code GET <url>/schemas/ids/<id>} → {@code {"schema": "<schema JSON>", "schemaType": "AVRO"}}), as
 * Confluent Schema Registry, Apicurio Registry ({@code …/apis/ccompat/v7}) and Karapace do. A small
 * client over the documented endpoint rather than Confluent's client jars, which are not on Maven
 * Central. Configured headers (authorization) are sent with every call; TLS uses the JVM's trust store.
 *
 * <p>Not found (404), or another refusal of the id itself (4xx other than 401, 403, 408, 429), is the
 * record's fault: the caller dead-letters it. Anything else (unreachable, 5xx, authentication, throttling)
 * is retried with growing pauses for up to {@code retryFor}, then thrown: the
 * records are not at fault, so the job must wait or restart rather than drop them.
 */
public final class SchemaRegistryClient implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryClient.class);

    private final String url;
    private final Map<String, String> headers;
    private final Duration retryFor;

    private transient HttpClient http;
    private transient ObjectMapper json;

    public SchemaRegistryClient(String url, Map<String, String> headers, Duration retryFor) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.headers = new LinkedHashMap<>(headers);
        this.retryFor = retryFor;
    }

    /** What the registry says about one id. */
    public static final class Answer {
        /** The schema's JSON, or null when the registry has no (Avro) schema of that id. */
        public final String schema;

        public final String problem;

        private Answer(String schema, String problem) {
            this.schema = schema;
            this.problem = problem;
        }
    }

    public Answer schema(int id) throws IOException {
        if (http == null) {
            http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .build();
            json = new ObjectMapper();
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + "/schemas/ids/" + id))
                .timeout(Duration.ofSeconds(10))
                .header("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        headers.forEach(request::header);
        long deadline = System.nanoTime() + retryFor.toNanos();
        long pauseMillis = 200;
        while (true) {
            String failure;
            try {
                HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    JsonNode body = json.readTree(response.body());
                    String type = body.path("schemaType").asText("AVRO");
                    if (!type.equals("AVRO")) {
                        return new Answer(null, "schema id " + id + " is a " + type + " schema, not Avro");
                    }
                    JsonNode schema = body.get("schema");
                    if (schema == null || !schema.isTextual()) {
                        return new Answer(null, "the registry's answer for schema id " + id + " has no 'schema'");
                    }
                    return new Answer(schema.textValue(), null);
                }
                int status = response.statusCode();
                if (status == 404) {
                    return new Answer(null, "the schema registry has no schema id " + id);
                }
                if (status >= 400 && status < 500 && status != 401 && status != 403 && status != 408 && status != 429) {
                    // The request for this id is refused as such: the record's id is at fault, not the registry.
                    return new Answer(
                            null,
                            "the schema registry refused schema id " + id + ": HTTP " + status + " "
                                    + abbreviate(response.body()));
                }
                failure = "HTTP " + response.statusCode() + " " + abbreviate(response.body());
            } catch (IOException e) {
                failure = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching schema id " + id + " from " + url, e);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("schema registry " + url + " did not answer for schema id " + id + " within "
                        + retryFor + ": " + failure);
            }
            LOG.warn("Schema registry {}: schema id {}: {}; retrying in {} ms", url, id, failure, pauseMillis);
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching schema id " + id + " from " + url, e);
            }
            pauseMillis = Math.min(pauseMillis * 2, 5_000);
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }

    @Override
    public String toString() {
        return url; // never the headers: they hold credentials
    }
}
