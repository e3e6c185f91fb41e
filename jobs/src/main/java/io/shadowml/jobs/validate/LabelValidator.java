package io.shadowml.jobs.validate;

import io.shadowml.avro.Label;
import io.shadowml.jobs.metrics.ModelLayout;

/** Lets through labels with an id, a time and a value the task accepts; the rest is dead-lettered. */
public class LabelValidator extends RecordValidator<Label> {
    private static final long serialVersionUID = 1L;

    private final ModelLayout layout;

    public LabelValidator(String experimentId, ModelLayout layout) {
        super(experimentId, "labels_dead_lettered");
        this.layout = layout;
    }

    @Override
    String problem(Label label) {
        if (label.getRequestId() == null || label.getRequestId().isBlank()) {
            return "missing request_id";
        }
        if (label.getLabelTime() == null) {
            return "missing label_time";
        }
        return layout.checkLabel(label.getValue());
    }
}
