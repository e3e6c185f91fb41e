package io.shadowml.jobs.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.Request;
import io.shadowml.models.ModelDescriptor;

/**
 * Inputs shared by the benchmarks: the shipped fraud models and requests built from the fraud
 * hold-out set (features, region/channel segments, labels).
 *
 * <p>The models folder is {@code -Dshadowml.models=<path to models/>} if given, else the first of
 * {@code models/}, {@code ../models/}, {@code ../../models/} (relative to the working directory) that
 * holds {@code shipped/fraud/live/model.json}; so the jar runs from the repository root or from
 * {@code jobs/}.
 */
final class BenchData {
    /** Distinct requests cycled through by the benchmarks. */
    static final int REQUESTS = 4096;

    final ModelDescriptor live;
    final ModelDescriptor candidate;
    /** About 10x the live model's cost (24 shared 64x64 layers), for the candidate time budget. */
    final ModelDescriptor slowCandidate;

    final Request[] requests;
    final double[] labels;

    private BenchData(
            ModelDescriptor live,
            ModelDescriptor candidate,
            ModelDescriptor slowCandidate,
            Request[] requests,
            double[] labels) {
        this.live = live;
        this.candidate = candidate;
        this.slowCandidate = slowCandidate;
        this.requests = requests;
        this.labels = labels;
    }

    static BenchData load() {
        Path models = modelsDir();
        try {
            ModelDescriptor live = ModelDescriptor.load(models.resolve("shipped/fraud/live/model.json"));
            ModelDescriptor candidate = ModelDescriptor.load(models.resolve("shipped/fraud/candidate/model.json"));
            ModelDescriptor slow = ModelDescriptor.load(models.resolve("shipped/fraud/slow-candidate/model.json"));
            List<String> lines = Files.readAllLines(models.resolve("data/fraud/holdout.csv"));
            String[] header = lines.get(0).split(",");
            Map<String, Integer> col = new HashMap<>();
            for (int i = 0; i < header.length; i++) {
                col.put(header[i], i);
            }
            List<String> features = new ArrayList<>(live.featureNames());
            for (String f : candidate.featureNames()) {
                if (!features.contains(f)) {
                    features.add(f);
                }
            }
            int n = Math.min(REQUESTS, lines.size() - 1);
            Request[] requests = new Request[n];
            double[] labels = new double[n];
            for (int r = 0; r < n; r++) {
                String[] v = lines.get(r + 1).split(",");
                Map<String, Double> values = new LinkedHashMap<>();
                for (String f : features) {
                    values.put(f, Double.parseDouble(v[col.get(f)]));
                }
                requests[r] = Request.newBuilder()
                        .setRequestId(v[col.get("request_id")])
                        .setEventTime(Instant.ofEpochMilli(Long.parseLong(v[col.get("event_time")])))
                        .setEntityId(v[col.get("entity_id")])
                        .setSegments(Map.of("region", v[col.get("region")], "channel", v[col.get("channel")]))
                        .setFeatures(values)
                        .build();
                labels[r] = Double.parseDouble(v[col.get("label")]);
            }
            return new BenchData(live, candidate, slow, requests, labels);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path modelsDir() {
        String property = System.getProperty("shadowml.models");
        if (property != null) {
            return Path.of(property).toAbsolutePath().normalize();
        }
        for (String candidate : new String[] {"models", "../models", "../../models"}) {
            Path p = Path.of(candidate);
            if (Files.isRegularFile(p.resolve("shipped/fraud/live/model.json"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException(
                "cannot find models/shipped/fraud from " + Path.of("").toAbsolutePath()
                        + "; run from the repository root or jobs/, or pass -Dshadowml.models=<path to models/>");
    }
}
