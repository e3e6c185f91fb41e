package io.shadowml.jobs.scoring;

import java.util.List;

import io.shadowml.avro.Request;
import io.shadowml.models.InputBatch;
import io.shadowml.models.OnnxModel;

/** What a model answers for one request scored alone: the tests' reference, independent of batching. */
public final class ReferenceScores {
    private ReferenceScores() {}

    /** P(positive) of one request scored alone (a batch of one row), its named features in the model's order. */
    public static float score(OnnxModel model, Request r) {
        List<String> names = model.descriptor().featureNames();
        float[] row = new float[names.size()];
        for (int j = 0; j < row.length; j++) {
            row[j] = r.getFeatures().get(names.get(j)).floatValue();
        }
        InputBatch b = model.newInputBatch();
        b.addRow(row);
        return model.score(b).score(0);
    }
}
