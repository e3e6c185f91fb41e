package io.shadowml.embedded.scenario;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;

/**
 * The shipped scenarios' data (models/data) as requests and labels. The generative processes are
 * documented in models/training/README.md; this class only reads what they wrote.
 */
public final class ScenarioData {
    /** The fraud models' features, in the CSV's column order. */
    public static final List<String> FRAUD_FEATURES = List.of(
            "amount",
            "hour",
            "merchant_risk",
            "txn_count_1h",
            "txn_count_24h",
            "amount_to_avg_ratio",
            "distance_from_home_km",
            "is_foreign",
            "card_age_days");

    private ScenarioData() {}

    /** The repository root: the first folder upwards from the working directory that holds models/data. */
    public static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isDirectory(p.resolve("models/data"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException(
                "no models/data folder above " + Path.of("").toAbsolutePath());
    }

    /**
     * Card transactions from models/data/fraud/*.csv: features as named values, segments region and
     * channel, the label (chargeback = 1) arriving label_delay_ms after the event, or never when empty.
     */
    public static List<LabelledRequest> fraud(Path csv, int limit) throws IOException {
        List<LabelledRequest> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(csv)) {
            String[] header = in.readLine().split(",", -1);
            Map<String, Integer> col = new HashMap<>();
            for (int i = 0; i < header.length; i++) {
                col.put(header[i], i);
            }
            String line;
            while ((line = in.readLine()) != null && out.size() < limit) {
                String[] v = line.split(",", -1);
                Map<String, Double> features = new HashMap<>();
                for (String f : FRAUD_FEATURES) {
                    features.put(f, Double.parseDouble(v[col.get(f)]));
                }
                long eventTime = Long.parseLong(v[col.get("event_time")]);
                Request request = Request.newBuilder()
                        .setRequestId(v[col.get("request_id")])
                        .setEventTime(Instant.ofEpochMilli(eventTime))
                        .setEntityId(v[col.get("entity_id")])
                        .setSegments(Map.of("region", v[col.get("region")], "channel", v[col.get("channel")]))
                        .setFeatures(features)
                        .build();
                String delay = v[col.get("label_delay_ms")];
                Label label = delay.isEmpty()
                        ? null
                        : Label.newBuilder()
                                .setRequestId(request.getRequestId())
                                .setLabelTime(Instant.ofEpochMilli(eventTime + Long.parseLong(delay)))
                                .setValue(Double.parseDouble(v[col.get("label")]))
                                .build();
                out.add(new LabelledRequest(request, label));
            }
        }
        return out;
    }

    public static List<LabelledRequest> fraud(int limit) throws IOException {
        return fraud(repoRoot().resolve("models/data/fraud/holdout.csv"), limit);
    }

    /**
     * Fashion-MNIST test images as 784-value vectors scaled to [0, 1], one request every
     * {@code spacingMillis} from {@code start}. Labels come from human review: delay log-normal with a
     * median of 6 hours; 5% of images are never reviewed. Deterministic for a seed.
     */
    public static List<LabelledRequest> fashion(
            Path images, Path labels, int limit, Instant start, long spacingMillis, long seed) throws IOException {
        List<LabelledRequest> out = new ArrayList<>();
        Random random = new Random(seed);
        try (DataInputStream img = idx(images, 2051);
                DataInputStream lab = idx(labels, 2049)) {
            int count = img.readInt();
            int rows = img.readInt();
            int cols = img.readInt();
            if (lab.readInt() != count) {
                throw new IOException(images + " and " + labels + " hold different numbers of items");
            }
            byte[] pixels = new byte[rows * cols];
            for (int i = 0; i < Math.min(limit, count); i++) {
                img.readFully(pixels);
                int cls = lab.readUnsignedByte();
                List<Float> vector = new ArrayList<>(pixels.length);
                for (byte p : pixels) {
                    vector.add((p & 0xff) / 255.0f);
                }
                long eventTime = start.toEpochMilli() + i * spacingMillis;
                Request request = Request.newBuilder()
                        .setRequestId(String.format("img-%05d", i))
                        .setEventTime(Instant.ofEpochMilli(eventTime))
                        .setEntityId("camera-" + (i % 7))
                        .setSegments(Map.of("site", "site-" + (i % 3)))
                        .setVector(vector)
                        .build();
                double delayHours = Math.exp(Math.log(6) + 0.8 * random.nextGaussian());
                boolean reviewed = random.nextDouble() >= 0.05;
                Label label = !reviewed
                        ? null
                        : Label.newBuilder()
                                .setRequestId(request.getRequestId())
                                .setLabelTime(Instant.ofEpochMilli(eventTime + (long) (delayHours * 3_600_000)))
                                .setValue(cls)
                                .build();
                out.add(new LabelledRequest(request, label));
            }
        }
        return out;
    }

    public static List<LabelledRequest> fashion(int limit, Instant start, long spacingMillis, long seed)
            throws IOException {
        Path dir = repoRoot().resolve("models/data/fashion-mnist");
        return fashion(
                dir.resolve("t10k-images-idx3-ubyte.gz"),
                dir.resolve("t10k-labels-idx1-ubyte.gz"),
                limit,
                start,
                spacingMillis,
                seed);
    }

    private static DataInputStream idx(Path file, int magic) throws IOException {
        InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16));
        int m = in.readInt();
        if (m != magic) {
            in.close();
            throw new IOException(file + ": not an IDX file with magic " + magic + " (found " + m + ")");
        }
        return in;
    }
}
