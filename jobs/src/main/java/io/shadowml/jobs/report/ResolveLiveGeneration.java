package io.shadowml.jobs.report;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.shadowml.jobs.control.FirstInputEventTime;
import io.shadowml.jobs.control.ReplicatedTableState;
import io.shadowml.jobs.control.SlotAssignment;
import io.shadowml.jobs.metrics.MetricEvent;
import io.shadowml.jobs.metrics.WindowPartial;

/**
 * Gives the counts of no scored request (dead letters, unsampled requests and labels, unknown labels) the
 * live generation of their window: the latest that started at or before the window's start. Their
 * partials carry {@link MetricEvent#NO_GENERATION}; the others pass unchanged. The generations' starts
 * come from the model table's logical changes (slot 0 of each generation after 0), sent to every subtask.
 */
public class ResolveLiveGeneration extends FirstInputEventTime<WindowPartial>
        implements TwoInputStreamOperator<WindowPartial, SlotAssignment, WindowPartial> {
    private static final long serialVersionUID = 1L;

    /** Start of each live generation after 0, by its start. */
    private transient TreeMap<Long, Integer> starts;

    private transient ReplicatedTableState<SlotAssignment> state;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = ReplicatedTableState.register(context, "live-generation-starts", SlotAssignment.class, null);
        starts = new TreeMap<>();
        for (SlotAssignment a : state.restored()) {
            record(a);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<SlotAssignment> all = new ArrayList<>();
        for (var s : starts.entrySet()) {
            SlotAssignment a = new SlotAssignment();
            a.generation = s.getValue();
            a.from = s.getKey();
            all.add(a);
        }
        state.update(all);
    }

    @Override
    public void processElement1(StreamRecord<WindowPartial> element) {
        WindowPartial partial = element.getValue();
        if (partial.generation == MetricEvent.NO_GENERATION) {
            var live = starts.floorEntry(partial.windowStart);
            partial.generation = live == null ? 0 : live.getValue();
        }
        output.collect(element);
    }

    @Override
    public void processElement2(StreamRecord<SlotAssignment> element) {
        SlotAssignment a = element.getValue();
        if (a.slot == 0 && a.generation > 0) {
            record(a);
        }
    }

    private void record(SlotAssignment a) {
        starts.put(a.from, a.generation);
    }
}
