package io.shadowml.jobs.join;

import java.util.stream.Stream;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;

/**
 * The previous join's three value states ({@code prediction}, {@code early-label}, {@code joined-until},
 * up to commit b3a5b4f), read only when a restored savepoint holds any of them: each request found
 * there is moved into its {@link JoinEntry} when it is next touched.
 */
final class LegacyJoinState {
    private final ValueState<PendingPrediction> prediction;
    private final ValueState<EarlyLabel> label;
    private final ValueState<Long> joinedUntil;

    private LegacyJoinState(StreamingRuntimeContext context) {
        prediction = context.getState(new ValueStateDescriptor<>("prediction", PendingPrediction.class));
        label = context.getState(new ValueStateDescriptor<>("early-label", EarlyLabel.class));
        joinedUntil = context.getState(new ValueStateDescriptor<>("joined-until", Long.class));
    }

    /** The legacy states when the restored state has entries in any of them; null otherwise. */
    static LegacyJoinState ifRestored(StreamingRuntimeContext context, KeyedStateBackend<?> backend) throws Exception {
        LegacyJoinState legacy = new LegacyJoinState(context);
        for (String name : new String[] {"prediction", "early-label", "joined-until"}) {
            try (Stream<?> keys = backend.getKeys(name, VoidNamespace.INSTANCE)) {
                if (keys.findAny().isPresent()) {
                    return legacy;
                }
            }
        }
        return null;
    }

    /** Moves the current key's legacy values, if any, into {@code e}. */
    void moveInto(JoinEntry e) throws Exception {
        PendingPrediction p = prediction.value();
        if (p != null) {
            e.prediction = p;
            prediction.clear();
        }
        EarlyLabel l = label.value();
        if (l != null) {
            e.label = l;
            label.clear();
        }
        Long until = joinedUntil.value();
        if (until != null) {
            e.joinedUntil = until;
            joinedUntil.clear();
        }
    }
}
