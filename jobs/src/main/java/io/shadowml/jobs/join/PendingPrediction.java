package io.shadowml.jobs.join;

/**
 * What the label join keeps per request while it waits for the label: only what the quality metrics
 * need (the key holds the request id). With two binary models this is 8 + 4 + 2·4 + 8 bytes of payload.
 */
public class PendingPrediction {
    public long eventTime;
    public float[] outputs;
    public long errorMask;

    public PendingPrediction() {}

    public PendingPrediction(long eventTime, float[] outputs, long errorMask) {
        this.eventTime = eventTime;
        this.outputs = outputs;
        this.errorMask = errorMask;
    }
}
