package io.shadowml.jobs.validate;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.jobs.compare.ModelLayout;
import io.shadowml.jobs.io.Decoded;

/** Lets through labels with an id, a time and a value the task accepts; the rest is dead-lettered. */
public class LabelValidator extends ProcessFunction<Decoded<Label>, Label> {
    private static final long serialVersionUID = 1L;

    private final String experimentId;
    private final ModelLayout layout;
    private transient Counter deadLettered;

    public LabelValidator(String experimentId, ModelLayout layout) {
        this.experimentId = experimentId;
        this.layout = layout;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLettered = getRuntimeContext().getMetricGroup()
                .addGroup("experiment", experimentId).counter("labels_dead_lettered");
    }

    @Override
    public void processElement(Decoded<Label> in, Context ctx, Collector<Label> out) {
        DeadLetter rejected = in.deadLetter;
        if (rejected == null) {
            String reason = problem(in.value);
            if (reason == null) {
                out.collect(in.value);
                return;
            }
            rejected = in.reject(reason);
        }
        rejected.setExperimentId(experimentId);
        deadLettered.inc();
        ctx.output(DeadLetters.TAG, rejected);
    }

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
