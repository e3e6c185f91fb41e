package io.shadowml.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * ROC AUC on a real model whose scores pile up at 0 and 1: the shipped overconfident credit MLP on its
 * holdout split (models/training/README.md), scored through {@link OnnxModel}. The float-bit bins must
 * stay within 0.001 of the exact AUC, where 1000 equal-width bins are off by more than 0.002.
 */
class SaturatedScoreAucTest {
    private static final Path MODEL = Path.of("../models/shipped/credit/overconfident/model.json");
    private static final Path DATA = Path.of("../models/data/credit/credit_features.csv");

    @Test
    void binnedAucOfTheOverconfidentCreditModelIsWithinItsBoundOfTheExactAuc() throws IOException {
        ModelDescriptor d = ModelDescriptor.load(MODEL);
        List<float[]> rows = new ArrayList<>();
        List<Boolean> labels = new ArrayList<>();
        List<String> lines = Files.readAllLines(DATA);
        String[] header = lines.get(0).split(",");
        int features = d.featureCount();
        assertEquals("label", header[features]);
        assertEquals("split", header[features + 1]);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            if (!f[features + 1].equals("holdout")) {
                continue;
            }
            float[] row = new float[features];
            for (int j = 0; j < features; j++) {
                row[j] = Float.parseFloat(f[j]);
            }
            rows.add(row);
            labels.add(f[features].equals("1"));
        }
        assertEquals(1212, rows.size(), "holdout rows");
        assertEquals(281, labels.stream().filter(b -> b).count(), "holdout positives");

        float[] scores = new float[rows.size()];
        try (OnnxModel model = OnnxModel.load(d, ModelOptions.defaults().withMaxBatchSize(rows.size()))) {
            InputBatch batch = model.newInputBatch();
            rows.forEach(batch::addRow);
            PredictionBatch out = model.score(batch);
            for (int i = 0; i < scores.length; i++) {
                scores[i] = out.score(i);
            }
        }
        BinaryQualityAccumulator acc = new BinaryQualityAccumulator(d.threshold());
        for (int i = 0; i < scores.length; i++) {
            acc.addLabelled(new float[] {scores[i]}, 0, labels.get(i) ? 1.0 : 0.0);
        }

        // Exact: every (positive, negative) pair of float32 scores, ties 1/2.
        double wins = 0;
        double equalWidthWins = 0;
        long pairs = 0;
        for (int i = 0; i < scores.length; i++) {
            if (!labels.get(i)) {
                continue;
            }
            for (int j = 0; j < scores.length; j++) {
                if (labels.get(j)) {
                    continue;
                }
                pairs++;
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                int bi = Math.min(999, (int) Math.floor(scores[i] * 1000.0));
                int bj = Math.min(999, (int) Math.floor(scores[j] * 1000.0));
                equalWidthWins += bi > bj ? 1 : bi == bj ? 0.5 : 0;
            }
        }
        double exact = wins / pairs;
        double equalWidth = equalWidthWins / pairs;
        double binned = acc.rocAuc();
        double bound = acc.rocAucMaxError();
        System.out.printf(
                "credit holdout: exact AUC %.6f, float-bit bins %.6f (|diff| %.2e, bound %.2e), 1000 equal-width bins %.6f%n",
                exact, binned, Math.abs(binned - exact), bound, equalWidth);
        assertEquals(0.7735, exact, 5e-4, "the figure models/training/README.md gives");
        assertTrue(Math.abs(binned - exact) <= bound, "|" + binned + " - " + exact + "| > bound " + bound);
        assertTrue(bound <= 0.001, "bound " + bound);
        assertTrue(Math.abs(equalWidth - exact) > 0.002, "equal-width bins off by only " + (exact - equalWidth));
        double[] ci = acc.rocAucCi95();
        assertTrue(ci[0] < exact && exact < ci[1], "95% interval [" + ci[0] + ", " + ci[1] + "]");
    }
}
