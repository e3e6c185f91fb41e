package io.shadowml.jobs.control;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * The model table's changes of a job without a control topic: none. A stream that never ends (it follows
 * {@code T}'s) rather than an empty bounded one, so no task of a weeks-long job finishes early.
 */
public class NoModelChanges<T> implements FlatMapFunction<T, SlotAssignment> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(T value, Collector<SlotAssignment> out) {}
}
