package io.shadowml.jobs.join;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.internal.InternalListState;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.operators.sorted.state.BatchExecutionKeyedStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.shadowml.jobs.metrics.MetricEvent;

/**
 * Joins each scored request with its label, keyed by request id, in event time.
 *
 * <ul>
 *   <li>Label after prediction: joined when it arrives.</li>
 *   <li>Label before prediction: kept until the prediction arrives or {@code horizon} after the label
 *       passes (then counted as an unknown label). A label more than {@code horizon} older than its
 *       request can therefore end as unknown if the watermark passes its horizon before the request
 *       arrives; labels normally follow their requests, so this only concerns badly skewed clocks.</li>
 *   <li>A pair is emitted at event time max(request time, label time), whatever the arrival order, so
 *       windows do not depend on which topic was read first.</li>
 *   <li>Duplicate labels: the first wins, the others are counted; a marker is kept until the request's
 *       horizon passes so late duplicates are recognised too.</li>
 *   <li>No label within {@code horizon} of the request: emitted as EXPIRED and the state cleared; with
 *       implicit labels ({@code inputs.labels.implicit}: only positives are ever sent) joined with the
 *       negative class instead, as LABELLED_IMPLICIT at the same time.</li>
 *   <li>A label later than the request's horizon does not join it, whatever the arrival order: the
 *       request expires and the label ends as an unknown label.</li>
 * </ul>
 * Every path ends with all state of the key cleared.
 *
 * <p><b>Expiry without a timer per request.</b> Each of these deadlines (expiry, a label's horizon, a
 * pair's join time) was once an event-time timer of its request id: millions of timers in a priority
 * queue that every request paid to enter and leave, the most expensive part of the job. Instead, a
 * request id with a deadline is appended to the <em>expiry list</em> of its deadline's bucket (buckets of
 * {@code bucket} length, aligned to the epoch), kept per key group under a fixed index key of that key
 * group (so it is checkpointed, restored and rescaled with the requests it names); one timer per key
 * group and bucket settles every request of the list when the watermark reaches the bucket's end.
 * Settling emits each outcome with its exact time as record timestamp, and a request touched by a new
 * record is first settled up to the current watermark, so outputs and counts are exactly those of one
 * timer per deadline. With a bucket that divides the report window, nothing is emitted after its
 * window closed.
 *
 * <p>State per request id is one serialized {@link JoinEntry} (value state {@code join}), so a record
 * costs one state read and at most one write. Savepoints of the previous join (a {@code KeyedCoProcessFunction}
 * up to commit b3a5b4f: value states {@code prediction}, {@code early-label}, {@code joined-until}, one
 * timer per deadline in {@code user-timers}) restore: a request found in those states is moved into its
 * entry when it is next touched, and its old timers still settle it. Those states are read only when the
 * restored state has any.
 */
public class LabelJoinOperator extends AbstractStreamOperator<MetricEvent>
        implements TwoInputStreamOperator<MetricEvent, LabelEvent, MetricEvent> {
    private static final long serialVersionUID = 1L;

    /** Index keys are the first strings of this form that fall into each key group. */
    private static final String INDEX_KEY_PREFIX = "\u0000expiry-index-";

    private final String experimentId;
    private final long horizonMillis;
    private final long bucketMillis;
    /** A request without a label by its horizon is a negative (implicit labels), not an expired one. */
    private final boolean implicitNegatives;

    /** Per request id, its {@link JoinEntry} serialized. */
    private transient ValueState<byte[]> entries;

    private transient DataOutputSerializer writeBuffer;
    private transient DataInputDeserializer readBuffer;
    /** Under an index key, namespace = bucket end: the request ids with a deadline in that bucket. */
    private transient InternalListState<String, Long, String> expiryList;

    private transient LegacyJoinState legacy;
    private transient InternalTimerService<VoidNamespace> bucketTimers;
    private transient InternalTimerService<VoidNamespace> requestTimers;
    /**
     * BATCH execution (backtests): keys arrive one after another, state and timers exist for the current
     * key only and its timers fire when the next key starts, so switching to an index key is not possible
     * and not needed: each deadline is a timer of its request, as cheap as it gets there.
     */
    private transient boolean perRequestTimers;
    /** Index key of each key group. */
    private transient String[] indexKeys;
    /**
     * Per key group, the bucket ends whose timers were registered recently ({@link #RECENT_TIMERS} slots,
     * overwritten in turn): saves the timer service's lookup for nearly every request.
     */
    private transient long[][] recentBucketTimers;

    private transient int[] nextRecentSlot;

    private static final int RECENT_TIMERS = 8;

    private transient Counter duplicateRequests;

    /**
     * @param bucket length of the expiry buckets; a divisor of the report window (the job uses the report
     *     window itself), so that settled outcomes reach their window before it closes
     */
    public LabelJoinOperator(String experimentId, Duration horizon, Duration bucket) {
        this(experimentId, horizon, bucket, false);
    }

    /** @param implicitNegatives a request still without a label at its horizon is joined with class 0 */
    public LabelJoinOperator(String experimentId, Duration horizon, Duration bucket, boolean implicitNegatives) {
        this.experimentId = experimentId;
        this.horizonMillis = horizon.toMillis();
        this.bucketMillis = Math.max(1, bucket.toMillis());
        this.implicitNegatives = implicitNegatives;
    }

    @Override
    public void open() throws Exception {
        super.open();
        entries = getRuntimeContext()
                .getState(new ValueStateDescriptor<>("join", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        writeBuffer = new DataOutputSerializer(64);
        readBuffer = new DataInputDeserializer();
        expiryList = (InternalListState<String, Long, String>)
                getOrCreateKeyedState(LongSerializer.INSTANCE, new ListStateDescriptor<>("expiry-list", Types.STRING));
        perRequestTimers = getKeyedStateBackend() instanceof BatchExecutionKeyedStateBackend;
        // BATCH execution never restores state.
        legacy = perRequestTimers ? null : LegacyJoinState.ifRestored(getRuntimeContext(), getKeyedStateBackend());
        // The previous join's per-request timers, restored from its savepoints: each settles its request.
        // Also every deadline's timer in BATCH execution (see perRequestTimers).
        requestTimers = getInternalTimerService(
                "user-timers", VoidNamespaceSerializer.INSTANCE, new Triggerable<String, VoidNamespace>() {
                    @Override
                    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
                        JoinEntry e = load();
                        settle(e, timer.getTimestamp());
                        store(e);
                        relistIfPending(e, timer.getTimestamp());
                    }

                    @Override
                    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}
                });
        bucketTimers = getInternalTimerService(
                "expiry-buckets", VoidNamespaceSerializer.INSTANCE, new Triggerable<String, VoidNamespace>() {
                    @Override
                    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
                        settleBucket(timer.getKey(), timer.getTimestamp());
                    }

                    @Override
                    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}
                });
        int keyGroups = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        indexKeys = indexKeys(keyGroups);
        recentBucketTimers = new long[keyGroups][RECENT_TIMERS];
        for (long[] recent : recentBucketTimers) {
            Arrays.fill(recent, Long.MIN_VALUE);
        }
        nextRecentSlot = new int[keyGroups];
        duplicateRequests =
                getMetricGroup().addGroup("experiment", experimentId).counter("duplicate_requests");
    }

    /** For every key group, the first string {@code INDEX_KEY_PREFIX + n} that falls into it. */
    static String[] indexKeys(int keyGroups) {
        String[] keys = new String[keyGroups];
        int found = 0;
        for (long n = 0; found < keyGroups; n++) {
            String candidate = INDEX_KEY_PREFIX + n;
            int group = KeyGroupRangeAssignment.assignToKeyGroup(candidate, keyGroups);
            if (keys[group] == null) {
                keys[group] = candidate;
                found++;
            }
        }
        return keys;
    }

    // ------------------------------------------------------------------ inputs

    @Override
    public void processElement1(StreamRecord<MetricEvent> record) throws Exception {
        JoinEntry e = load();
        settle(e, bucketTimers.currentWatermark());
        if (e.prediction != null || e.joinedUntil != null) {
            duplicateRequests.inc(); // the first scoring of a request id wins
            emit(MetricEvent.of(MetricEvent.DUPLICATE_REQUEST, currentRequestId()), record.getTimestamp());
            store(e);
            return;
        }
        MetricEvent scored = record.getValue();
        PendingPrediction p =
                new PendingPrediction(scored.eventTime, scored.outputs, scored.errorMask, scored.segments);
        p.absentMask = scored.absentMask;
        p.liveGeneration = Math.max(0, scored.liveGeneration);
        if (scored.arm >= 0) {
            p.arm = scored.arm;
            p.businessValue = scored.businessValue;
        }
        e.prediction = p;
        schedule(expiry(p));
        if (e.label != null && withinHorizon(p, e.label)) {
            joinWhenDue(e, record.getTimestamp());
        }
        store(e);
    }

    @Override
    public void processElement2(StreamRecord<LabelEvent> record) throws Exception {
        JoinEntry e = load();
        settle(e, bucketTimers.currentWatermark());
        if (e.joinedUntil != null || e.label != null) {
            emit(MetricEvent.of(MetricEvent.DUPLICATE_LABEL, currentRequestId()), record.getTimestamp());
            store(e);
            return;
        }
        LabelEvent in = record.getValue();
        e.label = new EarlyLabel(in.labelTime, in.value);
        if (e.prediction != null && withinHorizon(e.prediction, e.label)) {
            joinWhenDue(e, record.getTimestamp());
        } else {
            schedule(saturatedAdd(e.label.labelTime, horizonMillis));
        }
        store(e);
    }

    private void joinWhenDue(JoinEntry e, long now) throws Exception {
        long due = Math.max(e.prediction.eventTime, e.label.labelTime);
        if (due <= now) {
            emitJoined(e, now);
        } else {
            schedule(due);
        }
    }

    // ------------------------------------------------------------------ settling

    /**
     * Everything due for the current request id at or before {@code time}, each at its own time: the join
     * of a pair, the expiry of a prediction, the end of a label's horizon, the end of the duplicate marker.
     */
    private void settle(JoinEntry e, long time) {
        if (e.isEmpty()) {
            return;
        }
        PendingPrediction p = e.prediction;
        EarlyLabel l = e.label;
        if (p != null && l != null && withinHorizon(p, l)) {
            long due = Math.max(p.eventTime, l.labelTime);
            if (due <= time) {
                emitJoined(e, due);
            }
        } else {
            // Not a pair (a label beyond the request's horizon does not join it): each side ends on its own.
            if (p != null && expiry(p) <= time) {
                emit(
                        implicitNegatives
                                ? carryPrediction(
                                        MetricEvent.implicitNegative(
                                                currentRequestId(), p.eventTime, p.outputs, p.errorMask, p.segments),
                                        p)
                                : expired(p),
                        expiry(p));
                e.prediction = null;
            }
            long labelEnd = l == null ? Long.MAX_VALUE : saturatedAdd(l.labelTime, horizonMillis);
            if (l != null && labelEnd <= time) {
                emit(MetricEvent.of(MetricEvent.UNKNOWN_LABEL, currentRequestId()), labelEnd);
                e.label = null;
            }
        }
        if (e.joinedUntil != null && e.joinedUntil <= time) {
            e.joinedUntil = null;
        }
    }

    private void emitJoined(JoinEntry e, long at) {
        PendingPrediction p = e.prediction;
        emit(
                carryPrediction(
                        MetricEvent.labelled(
                                currentRequestId(),
                                p.eventTime,
                                p.outputs,
                                p.errorMask,
                                e.label.value,
                                e.label.labelTime,
                                p.segments),
                        p),
                at);
        e.prediction = null;
        e.label = null;
        // The request's expiry, already scheduled, ends this marker.
        if (expiry(p) > at) {
            e.joinedUntil = expiry(p);
        }
    }

    /** The bucket's timer: settles every request id in its expiry list, then drops the list. */
    private void settleBucket(String indexKey, long bucketEnd) throws Exception {
        expiryList.setCurrentNamespace(bucketEnd);
        Iterable<String> listed = expiryList.get();
        List<String> ids = new ArrayList<>();
        if (listed != null) {
            listed.forEach(ids::add);
        }
        for (String id : ids) {
            setCurrentKey(id);
            JoinEntry e = load();
            settle(e, bucketEnd);
            store(e);
            relistIfPending(e, bucketEnd);
        }
        setCurrentKey(indexKey);
        expiryList.setCurrentNamespace(bucketEnd);
        expiryList.clear();
        long[] recent = recentBucketTimers[KeyGroupRangeAssignment.assignToKeyGroup(indexKey, indexKeys.length)];
        for (int i = 0; i < RECENT_TIMERS; i++) {
            if (recent[i] == bucketEnd) {
                recent[i] = Long.MIN_VALUE; // fired: a later deadline in this bucket needs a new timer
            }
        }
    }

    /**
     * An entry still holding something after it was settled at {@code time} may have been listed only for
     * deadlines that have passed: under another label horizon (a savepoint restored with a changed {@code
     * label_horizon}: a request's expiry, a label's end and a join marker's end all move). Listing it again
     * for its next deadline under the current horizon keeps it from staying in state forever. Without a
     * horizon change this is the rarer path (a pair joined by its bucket rather than on arrival, a label
     * beyond its request's horizon) and may list a deadline twice, which is harmless: the entry is settled
     * twice, the second time with nothing left to do.
     */
    private void relistIfPending(JoinEntry e, long time) throws Exception {
        if (e.isEmpty()) {
            return;
        }
        long next = nextDeadline(e);
        if (next > time) {
            schedule(next);
        }
    }

    /** The earliest time at which {@link #settle} will change the entry. */
    private long nextDeadline(JoinEntry e) {
        PendingPrediction p = e.prediction;
        EarlyLabel l = e.label;
        long next = Long.MAX_VALUE;
        if (p != null && l != null && withinHorizon(p, l)) {
            next = Math.max(p.eventTime, l.labelTime);
        } else {
            if (p != null) {
                next = expiry(p);
            }
            if (l != null) {
                next = Math.min(next, saturatedAdd(l.labelTime, horizonMillis));
            }
        }
        if (e.joinedUntil != null) {
            next = Math.min(next, e.joinedUntil);
        }
        return next;
    }

    /** Lists the current request id for settling when the watermark reaches the end of {@code deadline}'s bucket. */
    private void schedule(long deadline) throws Exception {
        if (perRequestTimers) {
            requestTimers.registerEventTimeTimer(VoidNamespace.INSTANCE, deadline);
            return;
        }
        long bucketEnd = bucketEnd(deadline);
        String requestId = currentRequestId();
        int group = KeyGroupRangeAssignment.assignToKeyGroup(requestId, indexKeys.length);
        String indexKey = indexKeys[group];
        setCurrentKey(indexKey);
        expiryList.setCurrentNamespace(bucketEnd);
        expiryList.add(requestId);
        if (!recentlyRegistered(group, bucketEnd)) {
            bucketTimers.registerEventTimeTimer(VoidNamespace.INSTANCE, bucketEnd);
            recentBucketTimers[group][nextRecentSlot[group]] = bucketEnd;
            nextRecentSlot[group] = (nextRecentSlot[group] + 1) % RECENT_TIMERS;
        }
        setCurrentKey(requestId);
    }

    private boolean recentlyRegistered(int group, long bucketEnd) {
        for (long registered : recentBucketTimers[group]) {
            if (registered == bucketEnd) {
                return true;
            }
        }
        return false;
    }

    /** The last millisecond of the bucket holding {@code t}. */
    long bucketEnd(long t) {
        long start = Math.floorDiv(t, bucketMillis) * bucketMillis;
        return saturatedAdd(start, bucketMillis - 1);
    }

    // ------------------------------------------------------------------ state

    /** The current request's entry (an empty one when it has none). */
    private JoinEntry load() throws Exception {
        byte[] bytes = entries.value();
        JoinEntry e = bytes == null ? new JoinEntry() : JoinEntry.fromBytes(bytes, readBuffer);
        if (legacy != null) {
            legacy.moveInto(e);
        }
        return e;
    }

    private void store(JoinEntry e) throws Exception {
        if (e.isEmpty()) {
            entries.clear();
        } else {
            entries.update(e.toBytes(writeBuffer));
        }
    }

    // ------------------------------------------------------------------ helpers

    /** What the label event takes from its prediction besides outputs: the models that did not score the request (they count for its label neither), the canary arm that served it and its business value. */
    private static MetricEvent carryPrediction(MetricEvent e, PendingPrediction p) {
        e.absentMask = p.absentMask;
        e.arm = p.arm;
        e.businessValue = p.businessValue;
        e.liveGeneration = p.liveGeneration;
        return e;
    }

    /** A request without a label by its horizon, counted in the live generation that scored it. */
    private MetricEvent expired(PendingPrediction p) {
        MetricEvent e = MetricEvent.of(MetricEvent.EXPIRED, currentRequestId());
        e.liveGeneration = p.liveGeneration;
        return e;
    }

    private void emit(MetricEvent event, long timestamp) {
        output.collect(new StreamRecord<>(event, timestamp));
    }

    private String currentRequestId() {
        return (String) getCurrentKey();
    }

    /**
     * Whether the label is within the request's horizon. Decided on the times alone, not on how far the
     * watermark got, so the outcome does not depend on arrival order.
     */
    private boolean withinHorizon(PendingPrediction p, EarlyLabel l) {
        return l.labelTime <= expiry(p);
    }

    private long expiry(PendingPrediction p) {
        return saturatedAdd(p.eventTime, horizonMillis);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : r;
    }
}
