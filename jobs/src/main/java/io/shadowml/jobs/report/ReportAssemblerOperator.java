package io.shadowml.jobs.report;

import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.metrics.WindowPartial;

/**
 * Runs the {@link ReportAssembler} with event time taken from the window partials alone: the model table's
 * changes (second input) come from a control topic that is quiet for weeks, and a co-operator would
 * otherwise hold its watermark at the quiet input's.
 */
public class ReportAssemblerOperator
        extends KeyedCoProcessOperator<String, WindowPartial, SlotAssignment, ComparisonReport> {
    private static final long serialVersionUID = 1L;

    public ReportAssemblerOperator(ReportAssembler assembler) {
        super(assembler);
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        processWatermark(mark);
    }

    @Override
    public void processWatermark2(Watermark mark) {}

    /** Idleness, too, is the partials' alone (input index 0; the control input is 1). */
    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int inputIndex) {
        if (inputIndex == 0) {
            output.emitWatermarkStatus(status);
        }
    }
}
