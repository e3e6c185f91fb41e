package io.shadowml.jobs.scoring;

import java.util.ArrayList;
import java.util.List;

import io.shadowml.avro.EventDisagreement;
import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor;

/**
 * Builds the full {@link ScoredEvent} of one scored request. A pure function of its arguments (no
 * Flink, no models), so it is tested on its own; the scoring operator decides when to call it and
 * passes the flip and |difference| it already computed for its metrics, so they are computed once.
 */
final class ScoredEventBuilder {
    /** The error text of a model that returned, but NaN, ±Infinity or a probability outside [0, 1]. */
    static final String OUTPUT_ERROR = "non-finite or out-of-range model output";

    private final String experimentId;
    /** Per slot, the model in it now (the scoring operator's own array, updated as models come and go). */
    private final ModelDescriptor[] models;

    private final ModelLayout layout;

    /** {@code models}: live first, then the candidates, as in {@code layout}. */
    ScoredEventBuilder(String experimentId, ModelDescriptor[] models, ModelLayout layout) {
        this.experimentId = experimentId;
        this.models = models;
        this.layout = layout;
    }

    /** The models it was made with, per slot: the scoring operator's own array, as models come and go. */
    ModelDescriptor[] models() {
        return models;
    }

    /**
     * @param models per slot, the model in it (for a live generation after a switch, in its order)
     * @param outputs all models' outputs in {@link ModelLayout} order
     * @param errorMask bit m set: model m has no usable output for this request
     * @param absentMask bit m set: model m did not score this request (outside its sample): left out
     * @param latencyMicros per model, this request's share of its batch's inference time
     * @param inferenceErrors per model, why its call for the whole batch failed, or null if it returned
     *     (an error bit then means an unusable output, {@link #OUTPUT_ERROR})
     * @param flipped per candidate (index 0 unused), whether its decision differs from the live
     *     model's; read only where neither model errored
     * @param absDifference per candidate, likewise: |difference| as defined by {@link ModelLayout}
     */
    ScoredEvent build(
            Request request,
            ModelDescriptor[] models,
            float[] outputs,
            long errorMask,
            long absentMask,
            int[] latencyMicros,
            String[] inferenceErrors,
            boolean[] flipped,
            double[] absDifference) {
        int n = layout.models();
        List<ModelOutput> out = new ArrayList<>(n);
        for (int m = 0; m < n; m++) {
            if (isSet(absentMask, m)) {
                continue;
            }
            ModelDescriptor d = models[m];
            ModelOutput.Builder o = ModelOutput.newBuilder()
                    .setModelName(d.name())
                    .setModelVersion(d.version())
                    .setRole(m == 0 ? ModelRole.LIVE : ModelRole.CANDIDATE)
                    .setLatencyMicros(latencyMicros[m]);
            if (isSet(errorMask, m)) {
                o.setError(inferenceErrors[m] != null ? inferenceErrors[m] : OUTPUT_ERROR);
            } else {
                o.setScore(layout.score(outputs, m));
                switch (layout.task()) {
                    case MULTICLASS: {
                        List<Float> p = new ArrayList<>(layout.numClasses());
                        for (int k = 0; k < layout.numClasses(); k++) {
                            p.add(outputs[layout.offset(m) + k]);
                        }
                        o.setProbabilities(p).setPredictedClass(layout.decision(outputs, m));
                        break;
                    }
                    case BINARY:
                        o.setPredictedClass(layout.decision(outputs, m));
                        break;
                    default:
                        o.setPredictedValue((double) outputs[layout.offset(m)]);
                }
            }
            out.add(o.build());
        }
        List<EventDisagreement> disagreement = new ArrayList<>(n - 1);
        for (int c = 1; c < n; c++) {
            if (!isSet(errorMask | absentMask, 0) && !isSet(errorMask | absentMask, c)) {
                disagreement.add(new EventDisagreement(models[c].id(), flipped[c], absDifference[c]));
            }
        }
        return ScoredEvent.newBuilder()
                .setExperimentId(experimentId)
                .setRequestId(request.getRequestId())
                .setEventTime(request.getEventTime())
                .setEntityId(request.getEntityId())
                .setSegments(request.getSegments())
                .setServedBy(request.getServedBy())
                .setOutputs(out)
                .setDisagreement(disagreement)
                .build();
    }

    /** Whether bit {@code model} of {@code mask} is set. */
    private static boolean isSet(long mask, int model) {
        return (mask & (1L << model)) != 0;
    }
}
