package io.shadowml.jobs.validate;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.ModelLayout;

/**
 * Lets through labels with an id within {@link InputLimits}, a plausible time ({@link PlausibleTime}) and a
 * value the task accepts; the rest is dead-lettered.
 */
public class LabelValidator extends RecordValidator<Label> {
    private static final long serialVersionUID = 1L;

    private final ModelLayout layout;

    private final PlausibleTime plausibleTime;
    private final InputLimits limits;

    public LabelValidator(String experimentId, ModelLayout layout, PlausibleTime plausibleTime, InputLimits limits) {
        super(experimentId, "labels_dead_lettered");
        this.layout = layout;
        this.plausibleTime = plausibleTime;
        this.limits = limits;
    }

    @Override
    String problem(Label label, long recordTimestamp) {
        if (label.getRequestId() == null || label.getRequestId().isBlank()) {
            return "missing request_id";
        }
        if (label.getLabelTime() == null) {
            return "missing label_time";
        }
        String p = limits.idProblem("request_id", label.getRequestId());
        if (p == null) {
            p = plausibleTime.problem("label_time", label.getLabelTime().toEpochMilli(), recordTimestamp);
        }
        if (p != null) {
            return p;
        }
        return layout.checkLabel(label.getValue());
    }
}
