package io.shadowml.jobs.control;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

import io.shadowml.avro.Request;

/**
 * The model table's changes of a job without a control topic: none. A stream that never ends (it follows
 * the requests) rather than an empty bounded one, so no task of a weeks-long job finishes early.
 */
public class NoModelChanges implements FlatMapFunction<Request, SlotAssignment> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(Request request, Collector<SlotAssignment> out) {}
}
