package io.shadowml.jobs.scoring;

import java.util.List;

import io.shadowml.avro.Request;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * The output the serving system logged with a request, in the layout of one model's outputs: binary
 * P(positive) and regression values from {@code production_score}, multiclass probabilities from
 * {@code production_probabilities}. Either the live model's output (a logged live model) or what the
 * ONNX live model is checked against (parity).
 */
final class LoggedOutput {
    private LoggedOutput() {}

    /**
     * Copies the logged output into {@code into[0..slots)}.
     *
     * @return whether the request carries one of the right shape with usable values (finite; probabilities
     *     in [0, 1])
     */
    static boolean read(Request request, ModelLayout layout, float[] into) {
        if (layout.task() != Task.MULTICLASS) {
            Double score = request.getProductionScore();
            if (score == null) {
                return false;
            }
            into[0] = score.floatValue();
            return usable(into[0], layout.task());
        }
        List<Float> p = request.getProductionProbabilities();
        if (p == null || p.size() != layout.numClasses()) {
            return false;
        }
        for (int k = 0; k < p.size(); k++) {
            Float v = p.get(k);
            if (v == null || !usable(v, Task.MULTICLASS)) {
                return false;
            }
            into[k] = v;
        }
        return true;
    }

    private static boolean usable(float v, Task task) {
        return Float.isFinite(v) && (task == Task.REGRESSION || (v >= 0f && v <= 1f));
    }

    /** Why a logged live model has no output for a request (its scored event's error). */
    static String missing(ModelLayout layout) {
        return layout.task() == Task.MULTICLASS
                ? "no usable logged output (production_probabilities: " + layout.numClasses() + " probabilities)"
                : "no usable logged output (production_score)";
    }
}
