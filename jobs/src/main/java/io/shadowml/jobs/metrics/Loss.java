package io.shadowml.jobs.metrics;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The per-event loss of one model's output, computed only here: the quality accumulators sum it into
 * their log loss and squared error, and the paired comparison takes the candidate − live difference of
 * it ({@link ModelLayout#loss}). Both therefore use the same clipping, and the reported log loss and the
 * paired loss difference cannot drift apart. Definitions: jobs/METRICS.md.
 */
public final class Loss {
    /**
     * Probabilities are clipped to [EPS, 1 − EPS] before the log. EPS is the float32 machine epsilon
     * 2⁻²³ (scikit-learn's log_loss for float32 input): model outputs are float32, so nothing finer is
     * a real probability, and one confidently wrong event costs at most −ln 2⁻²³ ≈ 15.94 nats, not the
     * 34.5 of a 1e-15 clip that would dominate a paired loss difference. jobs/METRICS.md.
     */
    public static final double EPS = Math.ulp(1.0f);

    private Loss() {}

    /**
     * The loss of the model whose output slots start at {@code offset} (see {@link ModelLayout}):
     * binary and multiclass log loss, regression squared error. The label must be valid for the task.
     */
    public static double of(Task task, float[] outputs, int offset, double label) {
        switch (task) {
            case BINARY:
                return binaryLogLoss(outputs[offset], label == 1.0);
            case MULTICLASS:
                return logLoss(outputs[offset + (int) label]);
            default:
                return squaredError(outputs[offset], label);
        }
    }

    /** −ln p if positive, else −ln(1 − p), with p = clip(score). */
    public static double binaryLogLoss(double score, boolean positive) {
        double p = clip(score);
        return positive ? -Math.log(p) : -Math.log(1.0 - p);
    }

    /** −ln clip(p), p being the probability the model gave the true class. */
    public static double logLoss(double trueClassProbability) {
        return -Math.log(clip(trueClassProbability));
    }

    /** (predicted − actual)². */
    public static double squaredError(double predicted, double actual) {
        double e = predicted - actual;
        return e * e;
    }

    /**
     * The loss charged to a model that failed on a labelled request in the paired comparison: the
     * largest log loss the clipping allows, −ln EPS (classification only; regression has no bound).
     */
    public static double worst(Task task) {
        if (task == Task.REGRESSION) {
            throw new IllegalArgumentException("squared error has no worst value");
        }
        return -Math.log(EPS);
    }

    private static double clip(double p) {
        return Math.min(Math.max(p, EPS), 1.0 - EPS);
    }
}
