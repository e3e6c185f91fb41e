package io.shadowml.bench;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.shadowml.jobs.io.Decoded;

/**
 * The ceiling's only work after the sources: counts what a source decoded (and what it could not) in two
 * Flink accumulators, {@code <name>} and {@code <name>-undecodable}, and emits nothing. Chained to the
 * source, it takes the place of the job's validators (one hand-over of each record, as in the job), and
 * the discarding sink behind it receives nothing.
 */
final class CountAndDiscard<T> extends ProcessFunction<Decoded<T>, Void> {
    private static final long serialVersionUID = 1L;

    private final String name;
    private transient LongCounter decoded;
    private transient LongCounter undecodable;

    CountAndDiscard(String name) {
        this.name = name;
    }

    static String undecodable(String name) {
        return name + "-undecodable";
    }

    @Override
    public void open(OpenContext openContext) {
        decoded = new LongCounter();
        undecodable = new LongCounter();
        getRuntimeContext().addAccumulator(name, decoded);
        getRuntimeContext().addAccumulator(undecodable(name), undecodable);
    }

    @Override
    public void processElement(Decoded<T> record, Context ctx, Collector<Void> out) {
        if (record.value != null) {
            decoded.add(1);
        } else {
            undecodable.add(1);
        }
    }
}
