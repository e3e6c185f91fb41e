package io.shadowml.jobs.scoring;

import java.util.List;
import java.util.Map;

import io.shadowml.avro.Request;
import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;

/** Copies one request's inputs into the next row of a model's batch, in the model's feature order. */
final class FeatureExtractor {
    private final String[] featureNames;
    private final int vectorLength;

    FeatureExtractor(ModelDescriptor model) {
        this.featureNames = model.isVectorInput() ? null : model.featureNames().toArray(new String[0]);
        this.vectorLength = model.isVectorInput() ? model.featureCount() : -1;
    }

    /**
     * Why this model cannot read the request, or null: a model announced while the job runs needs inputs
     * the request validator did not check.
     */
    String problem(Request request) {
        if (featureNames != null) {
            Map<String, Double> features = request.getFeatures();
            for (String name : featureNames) {
                Double v = features == null ? null : features.get(name);
                if (v == null || !Float.isFinite(v.floatValue())) {
                    return "feature '" + name + "' is " + (v == null ? "missing" : v.toString());
                }
            }
            return null;
        }
        List<Float> vector = request.getVector();
        if (vector == null || vector.size() != vectorLength) {
            return "vector of length " + (vector == null ? 0 : vector.size()) + ", the model reads " + vectorLength;
        }
        for (Float v : vector) {
            if (v == null || !Float.isFinite(v)) {
                return "vector holds " + v;
            }
        }
        return null;
    }

    /** The request was validated upstream, so every feature is present and finite. */
    void addRow(Request request, InputBatch batch) {
        if (featureNames != null) {
            Map<String, Double> features = request.getFeatures();
            for (int j = 0; j < featureNames.length; j++) {
                batch.set(j, features.get(featureNames[j]).floatValue());
            }
        } else {
            List<Float> vector = request.getVector();
            for (int j = 0; j < vectorLength; j++) {
                batch.set(j, vector.get(j));
            }
        }
        batch.endRow();
    }
}
