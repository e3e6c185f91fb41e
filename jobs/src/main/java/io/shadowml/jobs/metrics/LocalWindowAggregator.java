package io.shadowml.jobs.metrics;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Folds metric events into one accumulator per report window, in the subtask that produced them
 * (chained to the scoring, join or dead-letter operator), and hands each window's accumulator on when
 * the watermark passes the window's end or a checkpoint barrier comes. The metric windows then receive
 * a few partial accumulators per window and checkpoint instead of every event: no per-event network
 * serialization and no per-event read and write of the window state (with RocksDB, a whole accumulator).
 *
 * <p><b>Matured evidence.</b> A scored request, and its label if that arrived within {@code maturity}
 * of the request, is also counted in the matured evidence of the window that holds event time +
 * {@code maturity}: the request's evidence decides from the first report at or after its maturity, and
 * which requests decide depends on their event time only (jobs/METRICS.md, "Matured evidence").
 *
 * <p>It keeps no state: whatever it holds is emitted before the barrier ({@link
 * #prepareSnapshotPreBarrier}). An event whose window the watermark has already passed cannot join it
 * any more; it is counted ({@code late_metric_events}), as the window operator would count it.
 */
public class LocalWindowAggregator extends AbstractStreamOperator<ShardPartial>
        implements OneInputStreamOperator<MetricEvent, ShardPartial> {
    private static final long serialVersionUID = 1L;

    private final String experimentId;
    private final long windowMillis;
    private final ModelLayout layout;
    private final SegmentSpec segments;
    private final int shards;
    private final long maturityMillis;

    /** Open windows by start, each per live generation ({@link MetricEvent#liveGeneration}). */
    private transient TreeMap<Long, Map<Integer, ExperimentAccumulator>> open;

    /** The accumulator of the latest event's window and generation, and which they are. */
    private transient ExperimentAccumulator last;

    private transient long lastStart;
    private transient int lastGeneration;

    private transient long watermark;
    private transient int shard;
    private transient Counter late;

    /** @param maturityMillis label_maturity: when a request's evidence enters the matured evidence */
    public LocalWindowAggregator(
            String experimentId,
            long windowMillis,
            long maturityMillis,
            ModelLayout layout,
            SegmentSpec segments,
            int shards) {
        this.experimentId = experimentId;
        this.maturityMillis = maturityMillis;
        this.windowMillis = windowMillis;
        this.layout = layout;
        this.segments = segments;
        this.shards = shards;
    }

    @Override
    public void open() throws Exception {
        super.open();
        open = new TreeMap<>();
        watermark = Long.MIN_VALUE;
        shard = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() % shards;
        late = getMetricGroup().addGroup("experiment", experimentId).counter("late_metric_events");
    }

    @Override
    public void processElement(StreamRecord<MetricEvent> element) {
        long t = element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE;
        // A time without a window (no timestamp, or so early that its window start underflows) is late too.
        if (t < Long.MIN_VALUE + windowMillis) {
            late.inc();
            return;
        }
        long start = TimeWindow.getWindowStartWithOffset(t, 0, windowMillis);
        if (start + windowMillis - 1 <= watermark) {
            late.inc();
            return;
        }
        MetricEvent e = element.getValue();
        window(start, e.liveGeneration).add(e, layout);
        if (matures(e)) {
            // At or after t (a label within maturity is no later than its request's maturity): never late.
            long maturesAt = Math.max(t, saturatedAdd(e.eventTime, maturityMillis));
            window(TimeWindow.getWindowStartWithOffset(maturesAt, 0, windowMillis), e.liveGeneration)
                    .addMatured(e, layout);
        }
    }

    /** A scored request, or a label no later than its request's maturity (implicit ones come at the horizon). */
    private boolean matures(MetricEvent e) {
        return e.kind == MetricEvent.SCORED
                || e.isLabelled()
                        && (e.labelTime == MetricEvent.NO_LABEL_TIME
                                || e.labelTime <= saturatedAdd(e.eventTime, maturityMillis));
    }

    private ExperimentAccumulator window(long start, int generation) {
        if (last != null && start == lastStart && generation == lastGeneration) {
            return last; // most events fall in the window and generation of the one before
        }
        // One generation per window but around a SWITCH_LIVE: a tiny map, allocated once per window.
        Map<Integer, ExperimentAccumulator> generations = open.computeIfAbsent(start, s -> new TreeMap<>());
        ExperimentAccumulator acc = generations.get(generation);
        if (acc == null) {
            acc = new ExperimentAccumulator(layout, segments);
            generations.put(generation, acc);
        }
        last = acc;
        lastStart = start;
        lastGeneration = generation;
        return acc;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /** Events counted as late so far (for tests; the metric is {@code late_metric_events}). */
    long lateEvents() {
        return late.getCount();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        watermark = mark.getTimestamp();
        Iterator<Map.Entry<Long, Map<Integer, ExperimentAccumulator>>> it =
                open.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Map<Integer, ExperimentAccumulator>> w = it.next();
            long maxTimestamp = w.getKey() + windowMillis - 1;
            if (maxTimestamp > watermark) {
                break; // sorted by start: the later windows are still open
            }
            emit(w.getKey(), w.getValue());
            it.remove();
            last = null;
        }
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flushAll();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flushAll();
        super.finish();
    }

    private void flushAll() {
        for (Map.Entry<Long, Map<Integer, ExperimentAccumulator>> w : open.entrySet()) {
            emit(w.getKey(), w.getValue());
        }
        open.clear();
        last = null;
    }

    /** At the window's last millisecond, so the metric windows place it in the same window. */
    private void emit(long start, Map<Integer, ExperimentAccumulator> generations) {
        for (Map.Entry<Integer, ExperimentAccumulator> g : generations.entrySet()) {
            output.collect(
                    new StreamRecord<>(new ShardPartial(shard, g.getKey(), g.getValue()), start + windowMillis - 1));
        }
    }
}
