package io.shadowml.embedded;

import java.util.List;

import io.shadowml.avro.Request;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * What a model says about each request, computed straight with the model runtime (whose outputs are
 * tested against the trainer's own), so tests can check the job's figures without going through it.
 */
public final class ReferenceScores {
    private ReferenceScores() {}

    /** Per request: binary {P(positive)}, multiclass the probabilities, regression {value}. */
    public static float[][] score(ModelDescriptor d, List<Request> requests) {
        float[][] out = new float[requests.size()][];
        try (OnnxModel model = OnnxModel.load(d)) {
            InputBatch batch = model.newInputBatch();
            for (int start = 0; start < requests.size(); start += model.maxBatchSize()) {
                int end = Math.min(requests.size(), start + model.maxBatchSize());
                batch.clear();
                for (int i = start; i < end; i++) {
                    batch.addRow(row(d, requests.get(i)));
                }
                PredictionBatch p = model.score(batch);
                for (int i = start; i < end; i++) {
                    if (d.task() == ModelDescriptor.Task.MULTICLASS) {
                        out[i] = new float[d.numClasses()];
                        p.copyProbabilities(i - start, out[i]);
                    } else {
                        out[i] = new float[] {p.score(i - start)};
                    }
                }
            }
        }
        return out;
    }

    static float[] row(ModelDescriptor d, Request r) {
        float[] row = new float[d.featureCount()];
        for (int j = 0; j < row.length; j++) {
            row[j] = d.isVectorInput()
                    ? r.getVector().get(j)
                    : r.getFeatures().get(d.featureNames().get(j)).floatValue();
        }
        return row;
    }
}
