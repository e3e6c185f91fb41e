package io.shadowml.jobs.join;

/**
 * What the label join keeps per request while it waits for the label: only what the quality metrics
 * need (the key holds the request id), inside the request's {@link JoinEntry}, which serializes it.
 * Also the value type of the previous join's {@code prediction} state (Flink POJO), read when such a
 * savepoint is restored.
 */
public class PendingPrediction {
    public long eventTime;
    public float[] outputs;
    public long errorMask;
    /** Models that did not score the request (outside their sample), as {@code MetricEvent.absentMask}. */
    public long absentMask;
    /** The request's segment values in config order (null entries = missing); null if none configured. */
    public String[] segments;
    /** The canary arm that served the request ({@code MetricEvent.arm}); kept only when it is an arm. */
    public byte arm = -1;
    /** The business metric's feature value ({@code MetricEvent.businessValue}), kept with the arm. */
    public float businessValue = Float.NaN;
    /** The live generation that scored it ({@code MetricEvent.liveGeneration}); 0 before any switch. */
    public int liveGeneration;

    public PendingPrediction() {}

    public PendingPrediction(long eventTime, float[] outputs, long errorMask, String[] segments) {
        this.eventTime = eventTime;
        this.outputs = outputs;
        this.errorMask = errorMask;
        this.segments = segments;
    }
}
