package io.shadowml.jobs.control;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;

/**
 * A small table every subtask of an operator holds alike (what it learnt from the broadcast model
 * changes), kept as operator state in broadcast mode: every subtask writes its copy, and each gets one
 * back whatever the new parallelism.
 *
 * <p>Not a union list state: Flink refuses to complete a checkpoint of a vertex that uses one while only
 * part of its subtasks have finished their operators, and a stop-with-savepoint without drain races into
 * exactly that in a vertex chained to a source (each source subtask may or may not have ended its input
 * before it snapshots). The savepoint then fails and the job cannot be stopped with one.
 */
public final class ReplicatedTableState<T> {
    private final BroadcastState<Integer, T> state;
    private final List<T> restored = new ArrayList<>();

    private ReplicatedTableState(BroadcastState<Integer, T> state) {
        this.state = state;
    }

    /**
     * Registers the state {@code name} and reads what was restored into it, and from a union list state
     * {@code legacyUnionName} written by an earlier version (null: none), which is then emptied.
     */
    public static <T> ReplicatedTableState<T> register(
            StateInitializationContext context, String name, Class<T> type, String legacyUnionName) throws Exception {
        var store = context.getOperatorStateStore();
        ReplicatedTableState<T> table = new ReplicatedTableState<>(store.getBroadcastState(
                new MapStateDescriptor<>(name, BasicTypeInfo.INT_TYPE_INFO, TypeInformation.of(type))));
        for (Map.Entry<Integer, T> row : table.state.entries()) {
            table.restored.add(row.getValue());
        }
        // Only if the restored savepoint has it: registering it anew would put a union state back.
        if (legacyUnionName != null && store.getRegisteredStateNames().contains(legacyUnionName)) {
            ListState<T> legacy =
                    store.getUnionListState(new ListStateDescriptor<>(legacyUnionName, TypeInformation.of(type)));
            if (table.restored.isEmpty()) {
                legacy.get().forEach(table.restored::add);
            }
            legacy.clear();
        }
        return table;
    }

    /** The rows restored (empty on a start without state). */
    public List<T> restored() {
        return restored;
    }

    /** Replaces the table with {@code rows} (called from snapshotState). */
    public void update(Collection<T> rows) throws Exception {
        state.clear();
        int i = 0;
        for (T row : rows) {
            state.put(i++, row);
        }
    }
}
