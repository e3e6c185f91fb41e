package io.shadowml.jobs.validate;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.shadowml.avro.DeadLetter;
import io.shadowml.jobs.io.Decoded;

/**
 * Lets through the decoded records that pass {@link #problem}; undecodable and invalid ones go to the
 * dead-letter side output with their reason and origin, and are counted.
 */
public abstract class RecordValidator<T> extends ProcessFunction<Decoded<T>, T> {
    private static final long serialVersionUID = 1L;

    protected final String experimentId;
    private final String counterName;
    private transient Counter deadLettered;

    protected RecordValidator(String experimentId, String counterName) {
        this.experimentId = experimentId;
        this.counterName = counterName;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLettered = getRuntimeContext()
                .getMetricGroup()
                .addGroup("experiment", experimentId)
                .counter(counterName);
    }

    @Override
    public void processElement(Decoded<T> in, Context ctx, Collector<T> out) {
        DeadLetter rejected = in.deadLetter;
        if (rejected == null) {
            String reason = problem(in.value, in.kafkaTimestamp);
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

    /**
     * The first reason the record cannot be used, or null if it can.
     *
     * @param recordTimestamp the record's Kafka timestamp (or what the replay tool would give it), or -1
     */
    abstract String problem(T record, long recordTimestamp);
}
