package io.shadowml.jobs.control;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * A two-input operator whose event time is its first input's alone: the second is the model table's
 * changes, from a control topic that is quiet for weeks, and would otherwise hold the watermark (and
 * idleness) at the quiet input's.
 */
public abstract class FirstInputEventTime<OUT> extends AbstractStreamOperator<OUT> {
    private static final long serialVersionUID = 1L;

    public void processWatermark1(Watermark mark) throws Exception {
        processWatermark(mark);
    }

    public void processWatermark2(Watermark mark) {}

    /** Input index 0 is the first input; the control input is 1. */
    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int inputIndex) {
        if (inputIndex == 0) {
            output.emitWatermarkStatus(status);
        }
    }
}
