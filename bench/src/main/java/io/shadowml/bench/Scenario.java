package io.shadowml.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;

/** A shipped scenario the benchmark replays: its models, its rows and the segment fields its reports slice by. */
enum Scenario {
    /** Card transactions (binary): models/data/fraud/holdout.csv, 20,000 rows, named features. */
    FRAUD(List.of("region", "channel")),
    /** Fashion-MNIST test images (10 classes): 10,000 rows, 784-value vectors. */
    FASHION(List.of("site"));

    final List<String> segmentFields;

    Scenario(List<String> segmentFields) {
        this.segmentFields = segmentFields;
    }

    /** The folder with the scenario's live/ and candidate/ models. */
    Path models(Path repoRoot) {
        return repoRoot.resolve("models/shipped").resolve(toString());
    }

    /** Every row of the scenario, in its order, read by the same readers the demo and the tests use. */
    List<LabelledRequest> rows(Path repoRoot) throws IOException {
        if (this == FRAUD) {
            return ScenarioData.fraud(repoRoot.resolve("models/data/fraud/holdout.csv"), Integer.MAX_VALUE);
        }
        // The spacing does not matter: BenchData gives every request its own event time.
        return ScenarioData.fashion(Integer.MAX_VALUE, Instant.parse("2026-01-05T00:00:00Z"), 1_000, 7);
    }

    /** The name on the command line and in the output: fraud, fashion. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
